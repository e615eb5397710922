// A new process resuming one session: node --import tsx bench/resumeChild.ts <state folder>
import { createEngine } from '../src/index.js';

const dir = process.argv[2]!;
let started = performance.now();
const engine = await createEngine({ dir });
const openMs = performance.now() - started;
started = performance.now();
await engine.resumeSession('long', { agent: 'worker', reason: 'new process' });
const resumeMs = performance.now() - started;
await engine.close();
process.stdout.write(JSON.stringify({ openMs, resumeMs }));
