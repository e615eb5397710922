// A child process that subscribes from the start and prints each event's position and id, one a line,
// until it has seen `total` events (then exits); "ready" once its first look is done.
import { openPostgresEventStore } from '../../../src/postgres.js';

const [url, schema, totalText] = process.argv.slice(2) as [string, string, string];
const total = Number(totalText);
const store = await openPostgresEventStore({ url, schema, maxConnections: 2, pollIntervalMs: 60_000 });
let seen = 0;
process.stdout.write('ready\n');
await new Promise<void>((resolve, reject) => {
  const subscription = store.subscribe().subscribe({
    next: (event) => {
      process.stdout.write(`${event.position} ${event.id}\n`);
      if (++seen === total) {
        subscription.unsubscribe();
        resolve();
      }
    },
    error: reject,
  });
});
await store.close();
