// npm run bench: every figure with the baseline it is compared with, measured
// in the same run, as a ratio. Exits 1 when a target is not met.
import { benchAppendConcurrent } from './appendConcurrent.js';
import { benchAppendSingle } from './appendSingle.js';
import { benchReplay } from './replay.js';
import { benchResume } from './resume.js';
import { benchStartup } from './startup.js';
import { benchImportTranscripts } from './importTranscripts.js';
import { benchTaskCommands } from './taskCommands.js';
import { benchCheckpoint } from './checkpoint.js';
import { benchHook } from './hook.js';
import { benchPostgresAppend } from './postgresAppend.js';
import { benchPostgresReplay } from './postgresReplay.js';
import { benchPostgresLatency } from './postgresLatency.js';
import { benchInspector } from './inspector.js';

const only = process.argv[2];
const benches: [string, () => Promise<boolean>][] = [
  ['append-concurrent', benchAppendConcurrent],
  ['append-single', benchAppendSingle],
  ['task-commands', benchTaskCommands],
  ['replay', benchReplay],
  ['resume', benchResume],
  ['checkpoint', benchCheckpoint],
  ['startup', benchStartup],
  ['hook', benchHook],
  ['import-transcripts', benchImportTranscripts],
  ['postgres-append', benchPostgresAppend],
  ['postgres-replay', benchPostgresReplay],
  ['postgres-latency', benchPostgresLatency],
  ['inspector', benchInspector],
];

console.log(`moai-session benchmarks: node ${process.version}, ${new Date().toISOString()}`);
const missed: string[] = [];
for (const [name, bench] of benches) {
  if (only !== undefined && only !== name) continue;
  if (!(await bench())) missed.push(name);
}
console.log(missed.length === 0 ? '\nEvery target met.' : `\nTargets not met: ${missed.join(', ')}.`);
process.exitCode = missed.length === 0 ? 0 : 1;
