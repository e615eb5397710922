import { crc32 } from 'node:zlib';
import { transitionEvent } from './events.js';
const N = 200000;
const s = Array.from({ length: N }, () => JSON.stringify(transitionEvent()));
function time(name: string, fn: (i: number) => unknown) { const t = performance.now(); for (let i = 0; i < N; i++) fn(i); console.log(name.padEnd(24), ((performance.now() - t) / N * 1000).toFixed(3), 'us'); }
for (let r = 0; r < 2; r++) {
time('crc32(string)', (i) => crc32(s[i]!));
time('Buffer.from', (i) => Buffer.from(s[i]!));
time('crc32(Buffer.from)', (i) => crc32(Buffer.from(s[i]!)));
const big = Buffer.from(s.join('\n'));
let t = performance.now(); crc32(big); console.log('crc32 bulk per line', ((performance.now()-t)/N*1000).toFixed(3));
time('hex pad', (i) => (i * 2654435761 >>> 0).toString(16).padStart(8, '0'));
const enc = new TextEncoder(); const buf = new Uint8Array(4096);
time('encodeInto+crc', (i) => { const { written } = enc.encodeInto(s[i]!, buf); return crc32(buf.subarray(0, written)); });
}
