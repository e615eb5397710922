// The process the kill -9 fault test kills: opens the file store in argv[2]
// (through the built package, so it starts fast), runs argv[3] appenders at
// once, each appending one or more events to its own stream in a loop, and
// prints a line for every append once it is acknowledged:
// `ack <stream> <first id> <count>`. It runs until it is killed.
import { openFileEventStore } from '../../dist/src/index.js';

const dir = process.argv[2];
const appenders = Number(process.argv[3] ?? 8);
const store = await openFileEventStore({ dir, lockWaitMs: 5_000 });
process.stdout.write(`open ${store.warnings.map((w) => w.code).join(',')}\n`);
let n = 0;
async function appender(k) {
  const stream = `session-k${k}`;
  for (;;) {
    const count = 1 + (n % 3); // appends of 1 to 3 events: all of one or none
    const events = [];
    for (let i = 0; i < count; i++) {
      const id = `${process.pid}-${k}-${n++}`;
      events.push({ type: 'TaskAdded', id, schemaVersion: 1, meta: { at: new Date().toISOString() }, data: { taskId: `t${id}`, title: 'Fault test' } });
    }
    await store.append(stream, events);
    // A pipe's writes are synchronous on Linux: once this returns, the parent will read it, killed or not.
    process.stdout.write(`ack ${stream} ${events.map((e) => e.id).join(',')}\n`);
  }
}
await Promise.all(Array.from({ length: appenders }, (_, k) => appender(k)));
