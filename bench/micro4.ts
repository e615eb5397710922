import { crc32 } from 'node:zlib';
import { transitionEvent } from './events.js';
const N = 200000;
const evs = Array.from({ length: N }, (_, i) => ({ ...transitionEvent(), position: i + 1, stream: 'session-x', version: i + 1, schemaVersion: 1 }));
function time(name: string, fn: (i: number) => unknown) { const t = performance.now(); for (let i = 0; i < N; i++) fn(i); console.log(name.padEnd(24), ((performance.now() - t) / N * 1000).toFixed(3), 'us'); }
for (let r = 0; r < 3; r++) {
time('manual', (i) => { const e = evs[i]!; return `{"position":${e.position},"stream":"${e.stream}","version":${e.version},"id":${JSON.stringify(e.id)},"type":"${e.type}","schemaVersion":${e.schemaVersion},"meta":${JSON.stringify(e.meta)},"data":${JSON.stringify(e.data)}}`; });
time('object', (i) => { const e = evs[i]!; return JSON.stringify({ position: e.position, stream: e.stream, version: e.version, id: e.id, type: e.type, schemaVersion: e.schemaVersion, meta: e.meta, data: e.data }); });
time('plain', (i) => JSON.stringify(evs[i]));
const HEX: string[] = []; 
time('crc hex', (i) => { const c = crc32('abc' + i); return (c >>> 0).toString(16).padStart(8, '0'); });
time('crc hex2', (i) => { const c = crc32('abc' + i); return ('0000000' + (c >>> 0).toString(16)).slice(-8); });
}
