// Run in a child process so peak RSS is this replay's alone, on the compiled
// package as a user runs it (no TypeScript loader in the process):
//   node bench/replayChild.mjs moai|moai-1|raw <events dir>
// moai replays as a user's replay() does (on this machine's cores: two
// threads here); moai-1 on the calling thread alone, for comparison.
// MOAI_BENCH_DIST names another build of the package (default: dist).
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.MOAI_BENCH_DIST === undefined ? new URL('../dist/', import.meta.url) : pathToFileURL(`${process.env.MOAI_BENCH_DIST}/`);
const { openFileEventStore, replay } = await import(new URL('src/index.js', dist).href);
const { lastParallelReplay } = await import(new URL('src/engine/parallelReplay.js', dist).href);

const [mode, dir] = process.argv.slice(2);
const started = performance.now();
let events = 0;
let threads = 1;
if (mode === 'moai' || mode === 'moai-1') {
  const store = await openFileEventStore({ dir, readOnly: true });
  lastParallelReplay.threads = 0;
  const report = await replay(store, mode === 'moai-1' ? { threads: 1 } : {});
  if (!report.ok) throw new Error(`replay diverged: ${report.divergences[0].message}`);
  events = report.eventsRead;
  threads = Math.max(1, lastParallelReplay.threads);
  await store.close();
} else {
  // The floor: stream the same files, split lines, JSON.parse each event.
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.jsonl')).sort()) {
    let carry = '';
    for await (const chunk of createReadStream(join(dir, name), { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const lines = (carry + chunk).split('\n');
      carry = lines.pop();
      for (const line of lines) {
        JSON.parse(line.slice(9));
        events++;
      }
    }
  }
}
const ms = performance.now() - started;
const usage = process.resourceUsage();
// cpuMs: the process's CPU time, every thread's (the replay's own, without the modules' loading before `started`, is a little less).
process.stdout.write(JSON.stringify({ ms, events, threads, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssMB: usage.maxRSS / 1024 }));
