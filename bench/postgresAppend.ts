import pg from 'pg';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { openPostgresEventStore } from '../src/postgres.js';
import { transitionEvent } from './events.js';
import { BENCH_POSTGRES_URL, benchServerUp, benchSql, freshBenchSchema, urlWithSearchPath } from './postgresCommon.js';
import { median, report } from './report.js';

const SINGLE_APPENDERS = 32;
const SINGLE_EVENTS = 12_800; // 400 per appender
const EMMETT_EVENTS = 3_200; // Emmett is slower: fewer events keep the round short, the rate is what counts
const BATCH_CLIENTS = 8;
const BATCH_SIZE = 100;
const BATCH_EVENTS = 80_000; // 100 appends of 100 per client
const ROUNDS = 3;

/** `appenders` concurrent loops, each appending one event at a time to its own stream; events/s. */
async function concurrently(appenders: number, perAppender: number, append: (a: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: appenders }, async (_, a) => {
    for (let i = 0; i < perAppender; i++) await append(a);
  }));
  return (appenders * perAppender) / ((performance.now() - started) / 1000);
}

async function oursSingle(): Promise<number> {
  const schema = await freshBenchSchema('moai_bench_single');
  const store = await openPostgresEventStore({ url: BENCH_POSTGRES_URL, schema, maxConnections: 8 });
  const rate = await concurrently(SINGLE_APPENDERS, SINGLE_EVENTS / SINGLE_APPENDERS, (a) => store.append(`session-bench-${a}`, [transitionEvent()]));
  await store.close();
  return rate;
}

async function emmettSingle(): Promise<number> {
  const schema = await freshBenchSchema('moai_bench_emmett');
  const store = getPostgreSQLEventStore(urlWithSearchPath(schema), { connectionOptions: { pooled: true } } as never);
  // Its schema is created on the first append: one outside the timing.
  await store.appendToStream('warm-up', [{ type: 'TaskTransitioned', data: transitionEvent().data }]);
  const rate = await concurrently(SINGLE_APPENDERS, EMMETT_EVENTS / SINGLE_APPENDERS, (a) => {
    const event = transitionEvent();
    return store.appendToStream(`session-bench-${a}`, [{ type: event.type, data: event.data, metadata: event.meta }]);
  });
  await store.close();
  return rate;
}

async function oursBatches(): Promise<number> {
  const schema = await freshBenchSchema('moai_bench_batch');
  const store = await openPostgresEventStore({ url: BENCH_POSTGRES_URL, schema, maxConnections: BATCH_CLIENTS });
  const rate =
    (await concurrently(BATCH_CLIENTS, BATCH_EVENTS / BATCH_CLIENTS / BATCH_SIZE, (c) =>
      store.append(`session-bench-${c}`, Array.from({ length: BATCH_SIZE }, () => transitionEvent())),
    )) * BATCH_SIZE;
  await store.close();
  return rate;
}

/** The floor: the same rows, one parameterised multi-row INSERT per 100 (autocommit), each client on its own connection. */
async function rawBatches(): Promise<number> {
  const schema = await freshBenchSchema('moai_bench_raw');
  await benchSql(`CREATE TABLE "${schema}".events (position bigserial PRIMARY KEY, stream text NOT NULL, version bigint NOT NULL, id text NOT NULL,
    type text NOT NULL, schema_version int NOT NULL, meta text NOT NULL, data text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), UNIQUE (stream, version))`);
  const placeholders = Array.from({ length: BATCH_SIZE }, (_, r) => `(${Array.from({ length: 7 }, (_, c) => `$${r * 7 + c + 1}`).join(', ')})`).join(', ');
  const text = `INSERT INTO "${schema}".events (stream, version, id, type, schema_version, meta, data) VALUES ${placeholders}`;
  const clients = await Promise.all(Array.from({ length: BATCH_CLIENTS }, async () => {
    const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
    await client.connect();
    return client;
  }));
  const versions = new Array<number>(BATCH_CLIENTS).fill(0);
  const rate =
    (await concurrently(BATCH_CLIENTS, BATCH_EVENTS / BATCH_CLIENTS / BATCH_SIZE, async (c) => {
      const values: unknown[] = [];
      for (let r = 0; r < BATCH_SIZE; r++) {
        const event = transitionEvent();
        values.push(`session-bench-${c}`, ++versions[c]!, event.id, event.type, 1, JSON.stringify(event.meta), JSON.stringify(event.data));
      }
      await clients[c]!.query({ name: 'raw-insert', text, values });
    })) * BATCH_SIZE;
  await Promise.all(clients.map((client) => client.end()));
  return rate;
}

/** 32 single-event appenders vs Emmett's PostgreSQL store; 100-event appends from 8 clients vs a raw multi-row INSERT. */
export async function benchPostgresAppend(): Promise<boolean> {
  if (!(await benchServerUp())) return false;
  const ours: number[] = [];
  const emmett: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let o: number;
    let b: number;
    if (i % 2 === 0) {
      o = await oursSingle();
      b = await emmettSingle();
    } else {
      b = await emmettSingle();
      o = await oursSingle();
    }
    ours.push(o);
    emmett.push(b);
    ratios.push(o / b);
  }
  const singleOk = report(
    `PostgreSQL: ${SINGLE_APPENDERS} concurrent appenders of single events, each to its own stream (${ROUNDS} rounds, in turn first, medians)`,
    median(ours),
    'events/s',
    [{ baseline: "Emmett's PostgreSQL store (@event-driven-io/emmett-postgresql), same server, same events", baselineValue: median(emmett), ratio: median(ratios), target: { min: 2, label: '>= 2x' } }],
    { min: 6000, label: '>= 6,000 events/s' },
  );
  console.log(`  the rounds' ratios: ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
  const batched: number[] = [];
  const raw: number[] = [];
  const batchRatios: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let o: number;
    let r: number;
    if (i % 2 === 0) {
      o = await oursBatches();
      r = await rawBatches();
    } else {
      r = await rawBatches();
      o = await oursBatches();
    }
    batched.push(o);
    raw.push(r);
    batchRatios.push(o / r);
  }
  const batchOk = report(
    `PostgreSQL: appends of ${BATCH_SIZE} events from ${BATCH_CLIENTS} clients (${ROUNDS} rounds, in turn first, medians)`,
    median(batched),
    'events/s',
    [{ baseline: 'a raw parameterised multi-row INSERT of the same rows (same columns and indexes, autocommit, 8 connections)', baselineValue: median(raw), ratio: median(batchRatios), target: { min: 0.8, label: '>= 0.8x' } }],
  );
  console.log(`  the rounds' ratios: ${batchRatios.map((r) => r.toFixed(2)).join(' ')}`);
  for (const schema of ['moai_bench_single', 'moai_bench_emmett', 'moai_bench_batch', 'moai_bench_raw']) await benchSql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  return singleOk && batchOk;
}
