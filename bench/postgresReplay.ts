import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openFileEventStore } from '../src/index.js';
import { openPostgresEventStore } from '../src/postgres.js';
import { BENCH_POSTGRES_URL, benchServerUp, benchSql } from './postgresCommon.js';
import { median, report } from './report.js';
import { writeReplayLog } from './replayLog.js';

const EVENTS = 1_000_000;
const ROUNDS = 3;
const SCHEMA = 'moai_bench_replay';
const child = join(dirname(fileURLToPath(import.meta.url)), 'postgresReplayChild.mjs');

interface ChildResult {
  ms: number;
  events: number;
  maxRssMB: number;
}

const run = (mode: 'moai' | 'raw'): ChildResult =>
  JSON.parse(execFileSync(process.execPath, [child, mode, BENCH_POSTGRES_URL, SCHEMA], { encoding: 'utf8', maxBuffer: 1 << 20 })) as ChildResult;

/**
 * The replay bench's 1,000,000-event log, loaded into a fresh schema: the
 * store's own tables (its migrations), filled by bulk INSERTs of the file
 * log's events with their positions and versions (the load is set-up, not
 * measured), then the streams and the head as the append function keeps them.
 */
async function loadLog(): Promise<number> {
  const dir = await writeReplayLog(EVENTS);
  await benchSql(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await (await openPostgresEventStore({ url: BENCH_POSTGRES_URL, schema: SCHEMA })).close();
  const file = await openFileEventStore({ dir, readOnly: true });
  const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
  await client.connect();
  let loaded = 0;
  for await (const batch of file.readAllBatches()) {
    const rows = batch.map((e) => ({ p: e.position, s: e.stream, n: e.version, i: e.id, t: e.type, v: e.schemaVersion, m: JSON.stringify(e.meta), d: JSON.stringify(e.data) }));
    await client.query(
      `INSERT INTO "${SCHEMA}".events (position, stream, version, id, type, schema_version, meta, data)
       SELECT p, s, n, i, t, v, m, d FROM json_to_recordset($1::json) AS x(p bigint, s text, n bigint, i text, t text, v int, m text, d text)`,
      [JSON.stringify(rows)],
    );
    loaded += batch.length;
  }
  await client.query(`INSERT INTO "${SCHEMA}".streams (stream, version, first_position, last_position)
    SELECT stream, max(version), min(position), max(position) FROM "${SCHEMA}".events GROUP BY stream`);
  await client.query(`UPDATE "${SCHEMA}".head SET position = (SELECT max(position) FROM "${SCHEMA}".events) WHERE id = 1`);
  await client.query(`VACUUM ANALYZE "${SCHEMA}".events`);
  await client.end();
  await file.close();
  await rm(dirname(dir), { recursive: true, force: true });
  return loaded;
}

/** Replay of 1,000,000 events from PostgreSQL into every projection vs a raw cursor SELECT + JSON.parse. */
export async function benchPostgresReplay(): Promise<boolean> {
  if (!(await benchServerUp())) return false;
  const loaded = await loadLog();
  const ours: ChildResult[] = [];
  const raw: ChildResult[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      ours.push(run('moai'));
      raw.push(run('raw'));
    } else {
      raw.push(run('raw'));
      ours.push(run('moai'));
    }
    ratios.push(raw[i]!.ms / ours[i]!.ms);
  }
  await benchSql(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  if (ours[0]!.events !== loaded || raw[0]!.events !== loaded) throw new Error(`read ${ours[0]!.events} and ${raw[0]!.events} of ${loaded} events`);
  const ok = report(
    `Replay of a ${loaded.toLocaleString('en-US')}-event log from PostgreSQL into every projection, with verification (${ROUNDS} paired rounds, medians)`,
    loaded / (median(ours.map((r) => r.ms)) / 1000),
    'events/s',
    [{ baseline: 'a raw SELECT of the same rows through a cursor (FETCH 5000), meta and data JSON.parsed', baselineValue: loaded / (median(raw.map((r) => r.ms)) / 1000), ratio: median(ratios) }],
  );
  console.log(`  the rounds' ratios: ${ratios.map((r) => r.toFixed(2)).join(' ')}; peak RSS ${Math.round(Math.max(...ours.map((r) => r.maxRssMB)))} MB (raw ${Math.round(Math.max(...raw.map((r) => r.maxRssMB)))} MB)`);
  return ok;
}
