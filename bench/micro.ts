import { validateNewEvents } from '../src/events/validate.js';
import { encodeLine } from '../src/store/lineCodec.js';
import { deepFreeze } from '../src/util/deepFreeze.js';
import { transitionEvent } from './events.js';
const N = 200000;
const evs = Array.from({ length: N }, () => transitionEvent());
function time(name: string, fn: (i: number) => unknown) { const t = performance.now(); for (let i = 0; i < N; i++) fn(i); console.log(name.padEnd(20), ((performance.now() - t) / N * 1000).toFixed(3), 'us'); }
for (let r = 0; r < 2; r++) {
time('validate', (i) => validateNewEvents('session-x', [evs[i]!]));
const lines: string[] = [];
time('encodeLine', (i) => lines[i] = encodeLine({ ...evs[i]!, position: i, stream: 'session-x', version: i, schemaVersion: 1 } as never));
time('stringify', (i) => JSON.stringify(evs[i]));
time('parse back', (i) => JSON.parse(lines[i]!.slice(9)));
time('structuredClone', (i) => structuredClone(evs[i]));
const parsed = lines.map((l) => JSON.parse(l.slice(9)));
time('deepFreeze', (i) => deepFreeze(parsed[i]));
time('byteLength', (i) => Buffer.byteLength(lines[i]!));
time('promise', () => new Promise((r) => r(1)));
}
