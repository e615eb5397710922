// A child process that appends to its own stream and to one stream every appender shares,
// retrying expected-version conflicts on the shared one; prints what was acknowledged as JSON.
import { isExpectedVersionConflictError } from '../../../src/errors.js';
import { openPostgresEventStore } from '../../../src/postgres.js';
import { sampleEvent } from '../../../src/testing/index.js';

const [url, schema, name, countText] = process.argv.slice(2) as [string, string, string, string];
const count = Number(countText);
const store = await openPostgresEventStore({ url, schema, maxConnections: 2, reconnectTimeoutMs: 60_000 });
const acknowledged: string[] = [];
let conflicts = 0;
for (let i = 0; i < count; i++) {
  const own = [sampleEvent(`${name}-own-${i}`), sampleEvent(`${name}-own-${i}b`)].map((e, k) => ({ ...e, id: `${name}-own-${i}-${k}` }));
  await store.append(`session-${name}`, own);
  acknowledged.push(...own.map((e) => e.id));
  const shared = { ...sampleEvent(`${name}-shared-${i}`), id: `${name}-shared-${i}` };
  for (;;) {
    const version = await store.streamVersion('session-shared');
    try {
      await store.append('session-shared', [shared], { expectedVersion: version });
      acknowledged.push(shared.id);
      break;
    } catch (error) {
      if (!isExpectedVersionConflictError(error)) throw error;
      conflicts++;
    }
  }
}
await store.close();
process.stdout.write(`${JSON.stringify({ acknowledged, conflicts })}\n`);
