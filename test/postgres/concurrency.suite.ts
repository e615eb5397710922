import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore, type PostgresEventStore } from '../../src/postgres.js';
import type { StoredEvent } from '../../src/index.js';
import { sampleEvent } from '../../src/testing/index.js';
import { runChild } from './childProcess.js';
import { dropTestSchemas, freshSchema, HAVE_POSTGRES, TEST_POSTGRES_URL } from './pgTestServer.js';

describe.skipIf(!HAVE_POSTGRES)('PostgreSQL store under concurrent writers', () => {
  afterAll(dropTestSchemas);

  it('lets a reader of "from my last position on" racing 12 writers see every event exactly once, in one order', async () => {
    const schema = freshSchema('gap');
    // Each writer has its own pool: its appends are transactions on their own connections, as another process's would be.
    const writers: PostgresEventStore[] = [];
    for (let w = 0; w < 12; w++) writers.push(await openPostgresEventStore({ url: TEST_POSTGRES_URL, schema, maxConnections: 3 }));
    const reader = await openPostgresEventStore({ url: TEST_POSTGRES_URL, schema, maxConnections: 2 });
    const acknowledged = new Set<string>();
    let writing = true;
    const write = Promise.all(
      writers.map(async (store, w) => {
        // Three appends in flight per writer, to its own and to shared streams, one to three events each.
        await Promise.all(
          [0, 1, 2].map(async (lane) => {
            for (let i = 0; i < 25; i++) {
              const events = Array.from({ length: 1 + ((i + lane) % 3) }, () => sampleEvent());
              const result = await store.append(`session-${lane === 0 ? `w${w}` : `shared${lane}-${i % 4}`}`, events);
              for (const event of result.events) acknowledged.add(event.id);
            }
          }),
        );
      }),
    ).finally(() => (writing = false));
    const subscribed: StoredEvent[] = [];
    const subscription = reader.subscribe().subscribe((event) => subscribed.push(event));
    // The racing reader: it asks only for what comes after the last position it saw.
    const seen: StoredEvent[] = [];
    let last = 0;
    while (writing || last < (await reader.headPosition())) {
      for await (const event of reader.readAll({ fromPosition: last + 1 })) {
        seen.push(event);
        last = event.position;
      }
    }
    await write;
    const total = acknowledged.size;
    // Lane l writes 25 appends of 1 + (i + l) % 3 events: 49, 50 and 51 events for lanes 0, 1 and 2.
    expect(total).toBe(12 * (49 + 50 + 51));
    expect(seen.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(seen.map((e) => e.id))).toEqual(acknowledged);
    await expect.poll(() => subscribed.length, { timeout: 5000 }).toBe(total);
    subscription.unsubscribe();
    expect(subscribed.map((e) => e.id)).toEqual(seen.map((e) => e.id));
    // Versions of each stream count from 1 without a hole.
    const versions = new Map<string, number[]>();
    for (const event of seen) versions.set(event.stream, [...(versions.get(event.stream) ?? []), event.version]);
    for (const list of versions.values()) expect(list).toEqual(Array.from({ length: list.length }, (_, i) => i + 1));
    await Promise.all([...writers, reader].map((store) => store.close()));
  });

  it('takes the appends of 8 processes, own streams and one shared stream, with 0 lost and 0 duplicated, seen by a subscriber in another process', async () => {
    const schema = freshSchema('procs');
    const processes = 8;
    const rounds = 15;
    const total = processes * rounds * 3;
    // The schema exists before the children race to open it (they would also agree on creating it: the migration takes a lock).
    await (await openPostgresEventStore({ url: TEST_POSTGRES_URL, schema })).close();
    const delivered: string[] = [];
    let ready!: () => void;
    const subscriberReady = new Promise<void>((resolve) => (ready = resolve));
    const subscriber = runChild('subscriber', [TEST_POSTGRES_URL, schema, String(total)], (line) => {
      if (line === 'ready') ready();
      else delivered.push(line);
    });
    await subscriberReady;
    const results = await Promise.all(
      Array.from({ length: processes }, (_, p) => runChild('appender', [TEST_POSTGRES_URL, schema, `p${p}`, String(rounds)])),
    );
    for (const result of results) expect(result.stderr).toBe('');
    const outputs = results.map((result) => JSON.parse(result.stdout) as { acknowledged: string[]; conflicts: number });
    const acknowledged = outputs.flatMap((output) => output.acknowledged);
    expect(acknowledged).toHaveLength(total);
    const done = await subscriber;
    expect(done.code).toBe(0);
    const store = await openPostgresEventStore({ url: TEST_POSTGRES_URL, schema });
    const stored: StoredEvent[] = [];
    for await (const event of store.readAll()) stored.push(event);
    expect(stored.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(stored.map((e) => e.id).sort()).toEqual([...acknowledged].sort());
    expect(await store.streamVersion('session-shared')).toBe(processes * rounds);
    // The subscriber in its own process saw every event once, in position order.
    expect(delivered).toEqual(stored.map((e) => `${e.position} ${e.id}`));
    await store.close();
  }, 60_000);
});
