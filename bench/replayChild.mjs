// Run in a child process so peak RSS is this replay's alone, on the compiled
// package as a user runs it (no TypeScript loader in the process):
//   node bench/replayChild.mjs moai|raw <events dir>
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openFileEventStore, replay } from '../dist/src/index.js';

const [mode, dir] = process.argv.slice(2);
const started = performance.now();
let events = 0;
if (mode === 'moai') {
  const store = await openFileEventStore({ dir, readOnly: true });
  const report = await replay(store);
  if (!report.ok) throw new Error(`replay diverged: ${report.divergences[0].message}`);
  events = report.eventsRead;
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
process.stdout.write(JSON.stringify({ ms, events, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
