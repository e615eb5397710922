// The subscriber of the latency bench, in a process of its own, on the compiled package:
//   node bench/postgresLatencyChild.mjs <url> <schema> <count>
// Follows the log from its end; each event's title holds process.hrtime.bigint() (the
// machine's monotonic clock, the same in every process) taken just before its append was
// called. Prints "ready" once following, then the latencies in ms as JSON.
import { openPostgresEventStore } from '../dist/src/postgres.js';

const [url, schema, countText] = process.argv.slice(2);
const count = Number(countText);
const store = await openPostgresEventStore({ url, schema, migrate: false });
const latencies = [];
await new Promise((resolve, reject) => {
  const subscription = store.subscribe({ fromPosition: 'end' }).subscribe({
    next: (event) => {
      latencies.push(Number(process.hrtime.bigint() - BigInt(event.data.title)) / 1e6);
      if (latencies.length === count) {
        subscription.unsubscribe();
        resolve();
      }
    },
    error: reject,
  });
  // The first look at the head is done once the LISTEN is up: wait a little, then say so.
  setTimeout(() => process.stdout.write('ready\n'), 500);
});
await store.close();
process.stdout.write(`${JSON.stringify(latencies)}\n`);
