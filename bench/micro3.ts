import { crc32 } from 'node:zlib';
import { encodeLine } from '../src/store/lineCodec.js';
import { transitionEvent } from './events.js';
const N = 200000;
const evs = Array.from({ length: N }, (_, i) => ({ ...transitionEvent(), position: i + 1, stream: 'session-x', version: i + 1, schemaVersion: 1 }));
function time(name: string, fn: (i: number) => unknown) { const t = performance.now(); for (let i = 0; i < N; i++) fn(i); console.log(name.padEnd(24), ((performance.now() - t) / N * 1000).toFixed(3), 'us'); }
for (let r = 0; r < 3; r++) {
time('encodeLine', (i) => encodeLine(evs[i] as never));
time('stringify ordered', (i) => { const e = evs[i]!; return JSON.stringify({ position: e.position, stream: e.stream, version: e.version, id: e.id, type: e.type, schemaVersion: e.schemaVersion, meta: e.meta, data: e.data }); });
const js = evs.map((e) => JSON.stringify(e));
time('crc+template', (i) => `${crc32(js[i]!).toString(16).padStart(8, '0')} ${js[i]}\n`);
}
