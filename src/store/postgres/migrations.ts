import type { Pool, PoolClient } from 'pg';
import { StorageError } from '../../errors.js';
import { channelOf, checkSchemaName, quoted } from './postgresTarget.js';

/** One step of the store's schema, applied once, in order, in its own transaction. */
export interface Migration {
  /** 1, 2, 3...: the schema's version after this step. */
  version: number;
  /** What it does, for `db migrate --dry-run` and the migrations table. */
  name: string;
  /** The SQL text for a schema (whose name is checked and quoted). */
  sql(schema: string): string;
}

/*
 * The append function as migration 1 created it (the first build): one
 * array per column, read with unnest. Migration 3 replaces it.
 */
const firstAppendFunction = (s: string, channel: string): string => `
CREATE OR REPLACE FUNCTION ${s}.append_events(
  p_streams text[], p_expected bigint[], p_counts int[],
  p_append int[], p_ids text[], p_types text[], p_schema_versions int[], p_metas text[], p_datas text[])
RETURNS TABLE (ordinal int, actual bigint, first_position bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_head bigint;
BEGIN
  SELECT h.position INTO v_head FROM ${s}.head h WHERE h.id = 1 FOR UPDATE;
  RETURN QUERY
  WITH req AS (
    SELECT r.ord::int AS ord, r.stream, r.expected, r.n, coalesce(st.version, 0)::bigint AS version
    FROM unnest(p_streams, p_expected, p_counts) WITH ORDINALITY AS r(stream, expected, n, ord)
    LEFT JOIN ${s}.streams st ON st.stream = r.stream
  ), chk AS (
    SELECT req.*, (req.expected = -1 OR (req.expected = -2 AND req.version = 0) OR (req.expected = -3 AND req.version > 0)
      OR req.expected = req.version) AS ok
    FROM req
  ), pos AS (
    SELECT chk.*, v_head + coalesce(sum(CASE WHEN chk.ok THEN chk.n ELSE 0 END) OVER (ORDER BY chk.ord
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS base
    FROM chk
  ), ev AS (
    SELECT e.*, row_number() OVER (PARTITION BY e.app ORDER BY e.i) AS k
    FROM unnest(p_append, p_ids, p_types, p_schema_versions, p_metas, p_datas) WITH ORDINALITY AS e(app, id, type, sv, meta, data, i)
  ), ins AS (
    INSERT INTO ${s}.events (position, stream, version, id, type, schema_version, meta, data)
    SELECT pos.base + ev.k, pos.stream, pos.version + ev.k, ev.id, ev.type, ev.sv, ev.meta::json, ev.data::json
    FROM ev JOIN pos ON pos.ord = ev.app
    WHERE pos.ok
    ORDER BY pos.base + ev.k
  ), up AS (
    INSERT INTO ${s}.streams (stream, version, first_position, last_position)
    SELECT pos.stream, pos.version + pos.n, pos.base + 1, pos.base + pos.n FROM pos WHERE pos.ok AND pos.n > 0
    ON CONFLICT (stream) DO UPDATE SET version = excluded.version, last_position = excluded.last_position
  ), hd AS (
    UPDATE ${s}.head SET position = v_head + (SELECT coalesce(sum(pos.n), 0) FROM pos WHERE pos.ok) WHERE id = 1
  )
  SELECT pos.ord, pos.version, CASE WHEN pos.ok THEN pos.base + 1 END FROM pos ORDER BY pos.ord;
  IF coalesce(array_length(p_ids, 1), 0) > 0 THEN
    PERFORM pg_notify('${channel}', '');
  END IF;
END
$fn$;`;

/*
 * The append function. Every append (or a group of appends sent together)
 * first locks the one row of `head`: positions are handed out one
 * transaction at a time, so they are gapless and in commit order (the lock is
 * released only after the commit is visible), and a reader of "from P on"
 * can never miss an event that commits later with a lower position. Each
 * statement after the lock takes a fresh snapshot (READ COMMITTED, a
 * VOLATILE function), so the stream versions it reads are the committed
 * ones; unique (stream, version) backs the check up in the table itself.
 * Expected versions: -1 any, -2 no_stream, -3 stream_exists, n >= 0 exactly n.
 */
const appendFunction = (s: string, channel: string): string => `
CREATE OR REPLACE FUNCTION ${s}.append_events(p_appends json, p_events json)
RETURNS TABLE (ordinal int, actual bigint, first_position bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_head bigint;
  v_appends ${s}.append_input[];
  v_events ${s}.event_input[];
BEGIN
  -- Parsed before the lock: the JSON is most of the work, and other appends can do theirs meanwhile.
  v_appends := ARRAY(SELECT ROW(r.o, r.s, r.e, r.n)::${s}.append_input FROM json_to_recordset(p_appends) AS r(o int, s text, e bigint, n int));
  v_events := ARRAY(SELECT ROW(ev.a, ev.k, ev.i, ev.t, ev.v, ev.m, ev.d)::${s}.event_input
    FROM json_to_recordset(p_events) AS ev(a int, k int, i text, t text, v int, m text, d text));
  SELECT h.position INTO v_head FROM ${s}.head h WHERE h.id = 1 FOR UPDATE;
  RETURN QUERY
  WITH req AS (
    SELECT r.o, r.s AS stream, r.e AS expected, r.n, coalesce(st.version, 0)::bigint AS version
    FROM unnest(v_appends) AS r
    LEFT JOIN ${s}.streams st ON st.stream = r.s
  ), chk AS (
    SELECT req.*, (req.expected = -1 OR (req.expected = -2 AND req.version = 0) OR (req.expected = -3 AND req.version > 0)
      OR req.expected = req.version) AS ok
    FROM req
  ), pos AS (
    SELECT chk.*, v_head + coalesce(sum(CASE WHEN chk.ok THEN chk.n ELSE 0 END) OVER (ORDER BY chk.o
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS base
    FROM chk
  ), ins AS (
    INSERT INTO ${s}.events (position, stream, version, id, type, schema_version, meta, data)
    SELECT pos.base + ev.k, pos.stream, pos.version + ev.k, ev.i, ev.t, ev.v, ev.m, ev.d
    FROM unnest(v_events) AS ev
    JOIN pos ON pos.o = ev.a
    WHERE pos.ok
  ), up AS (
    INSERT INTO ${s}.streams (stream, version, first_position, last_position)
    SELECT pos.stream, pos.version + pos.n, pos.base + 1, pos.base + pos.n FROM pos WHERE pos.ok AND pos.n > 0
    ON CONFLICT (stream) DO UPDATE SET version = excluded.version, last_position = excluded.last_position
  ), hd AS (
    UPDATE ${s}.head SET position = v_head + (SELECT coalesce(sum(pos.n), 0) FROM pos WHERE pos.ok) WHERE id = 1
  )
  SELECT pos.o, pos.version, CASE WHEN pos.ok THEN pos.base + 1 END FROM pos ORDER BY pos.o;
  IF coalesce(array_length(v_events, 1), 0) > 0 THEN
    PERFORM pg_notify('${channel}', '');
  END IF;
END
$fn$;`;

/*
 * The bulk import of `moai-session copy`: events with the positions and
 * versions they had in another store, appended under the same position lock
 * only if they continue this log exactly (positions from head + 1 without a
 * hole, each stream's versions from its current version + 1 without a hole);
 * anything else is refused whole.
 */
const importFunction = (s: string, channel: string): string => `
CREATE OR REPLACE FUNCTION ${s}.import_events(p_events json)
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_head bigint;
  v_count bigint;
  v_bad text;
BEGIN
  SELECT h.position INTO v_head FROM ${s}.head h WHERE h.id = 1 FOR UPDATE;
  CREATE TEMP TABLE IF NOT EXISTS moai_import (ord bigint, p bigint, s text, n bigint, i text, t text, v int, m text, d text) ON COMMIT DROP;
  INSERT INTO moai_import SELECT x.ord, x.p, x.s, x.n, x.i, x.t, x.v, x.m, x.d
    FROM ROWS FROM (json_to_recordset(p_events) AS (p bigint, s text, n bigint, i text, t text, v int, m text, d text))
      WITH ORDINALITY AS x(p, s, n, i, t, v, m, d, ord);
  SELECT count(*) INTO v_count FROM moai_import;
  SELECT min(format('position %s (expected %s)', mi.p, v_head + mi.ord)) INTO v_bad FROM moai_import mi WHERE mi.p <> v_head + mi.ord;
  IF v_bad IS NULL THEN
    SELECT min(format('%s version %s (the stream is at %s)', g.s, g.lo, g.current)) INTO v_bad
    FROM (SELECT mi.s, min(mi.n) AS lo, max(mi.n) AS hi, count(*) AS c, coalesce(max(st.version), 0) AS current
          FROM moai_import mi LEFT JOIN ${s}.streams st ON st.stream = mi.s GROUP BY mi.s) g
    WHERE g.lo <> g.current + 1 OR g.hi - g.lo + 1 <> g.c;
  END IF;
  IF v_bad IS NOT NULL THEN
    RAISE EXCEPTION 'the imported events do not continue the log: %', v_bad USING ERRCODE = 'P0001';
  END IF;
  INSERT INTO ${s}.events (position, stream, version, id, type, schema_version, meta, data)
    SELECT mi.p, mi.s, mi.n, mi.i, mi.t, mi.v, mi.m, mi.d FROM moai_import mi ORDER BY mi.ord;
  INSERT INTO ${s}.streams (stream, version, first_position, last_position)
    SELECT mi.s, max(mi.n), min(mi.p), max(mi.p) FROM moai_import mi GROUP BY mi.s
    ON CONFLICT (stream) DO UPDATE SET version = excluded.version, last_position = excluded.last_position;
  UPDATE ${s}.head SET position = v_head + v_count WHERE id = 1;
  DROP TABLE moai_import;
  IF v_count > 0 THEN
    PERFORM pg_notify('${channel}', '');
  END IF;
  RETURN v_head + v_count;
END
$fn$;`;

/*
 * A committed migration is never edited: a schema that has applied it keeps
 * what it made, and the version says so. Every change is a new migration
 * (test/postgres/migrationsPinned.test.ts holds each one's checksum). Migration 1
 * was edited in place three times during its first day (review finding R17:
 * the append function's signature, import_events, meta and data as text), so
 * schemas recorded at version 1 differ; it is back to its first committed
 * text, and migrations 2 and 3 bring any of those schemas to the same place,
 * checking what is there rather than assuming it.
 */

/** The store's migrations, oldest first. A database whose schema has a later one than the last here is refused. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, streams, head position, checkpoint documents and the append function',
    sql: (schema) => {
      const s = quoted(schema);
      return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE ${s}.events (
  position bigint PRIMARY KEY,
  stream text NOT NULL,
  version bigint NOT NULL,
  id text NOT NULL,
  type text NOT NULL,
  schema_version int NOT NULL,
  meta json NOT NULL,
  data json NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream, version)
);
CREATE TABLE ${s}.streams (
  stream text PRIMARY KEY,
  version bigint NOT NULL,
  first_position bigint NOT NULL,
  last_position bigint NOT NULL
);
CREATE INDEX streams_first_position ON ${s}.streams (first_position);
CREATE TABLE ${s}.head (
  id int PRIMARY KEY CHECK (id = 1),
  position bigint NOT NULL
);
INSERT INTO ${s}.head (id, position) VALUES (1, 0);
CREATE TABLE ${s}.checkpoints (
  session_id text NOT NULL,
  checkpoint_id text NOT NULL,
  document text NOT NULL,
  saved_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz,
  PRIMARY KEY (session_id, checkpoint_id)
);
${firstAppendFunction(s, channelOf(schema))}`;
    },
  },
  {
    version: 2,
    name: 'meta and data as JSON text (PostgreSQL json refuses \\u0000 and lone surrogates, which events may hold)',
    // json keeps its input text as it came, so meta::text is the JSON that was stored. Skipped where a build
    // that edited migration 1 already made them text (the schema's name is a checked identifier, see quoted()).
    sql: (schema) => {
      const s = quoted(schema);
      return `
DO $m$
BEGIN
  IF (SELECT data_type FROM information_schema.columns
      WHERE table_schema = '${checkSchemaName(schema)}' AND table_name = 'events' AND column_name = 'meta') <> 'text' THEN
    ALTER TABLE ${s}.events ALTER COLUMN meta TYPE text USING meta::text, ALTER COLUMN data TYPE text USING data::text;
  END IF;
END
$m$;`;
    },
  },
  {
    version: 3,
    name: 'append_events(json, json): a group of appends as two JSON documents; import_events(json): copy\'s bulk import',
    // Drops whichever append function and input types the schema has (the first build's arrays, or a later
    // build's JSON one with json or text meta), then creates the current ones.
    sql: (schema) => {
      const s = quoted(schema);
      return `
DROP FUNCTION IF EXISTS ${s}.append_events(text[], bigint[], int[], int[], text[], text[], int[], text[], text[]);
DROP FUNCTION IF EXISTS ${s}.append_events(json, json);
DROP FUNCTION IF EXISTS ${s}.import_events(json);
DROP TYPE IF EXISTS ${s}.append_input;
DROP TYPE IF EXISTS ${s}.event_input;
CREATE TYPE ${s}.append_input AS (o int, s text, e bigint, n int);
CREATE TYPE ${s}.event_input AS (a int, k int, i text, t text, v int, m text, d text);
${appendFunction(s, channelOf(schema))}
${importFunction(s, channelOf(schema))}`;
    },
  },
];

/** The newest schema version this moai-session knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** What {@link migrate} did or (dry run) would do. */
export interface MigrationPlan {
  schema: string;
  /** The schema's version before. */
  from: number;
  /** Its version after (the latest known). */
  to: number;
  /** The steps to apply, with their SQL. */
  pending: { version: number; name: string; sql: string }[];
  /** False for a dry run. */
  applied: boolean;
}

// One lock per schema name, so two processes opening a new database do not both create it.
const LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('moai-session migrations ' || $1))`;

async function currentVersion(client: PoolClient, schema: string): Promise<number> {
  const table = await client.query<{ exists: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'migrations') AS exists`,
    [schema],
  );
  if (table.rows[0]?.exists !== true) return 0;
  const row = await client.query<{ version: number | null }>(`SELECT max(version)::int AS version FROM ${quoted(schema)}.migrations`);
  return row.rows[0]?.version ?? 0;
}

/** The refusal of a database whose schema is newer than this moai-session. */
export function newerSchemaError(schema: string, version: number): StorageError {
  return new StorageError(
    `The PostgreSQL schema ${schema} is at version ${version}, newer than this moai-session knows (${LATEST_SCHEMA_VERSION}): ` +
      'a newer moai-session wrote it. Upgrade moai-session on this machine, or use another schema (?schema= in the URL).',
  );
}

/**
 * Bring a schema up to the latest version (or, with `dryRun`, say what that
 * takes): the pending migrations in one transaction under an advisory lock,
 * so concurrent openers apply them once, and a failed one leaves nothing.
 *
 * @throws {StorageError} when the schema is newer than this moai-session knows.
 */
export async function migrate(pool: Pool, schema: string, options: { dryRun?: boolean } = {}): Promise<MigrationPlan> {
  // The usual case first, in one query without a transaction: the schema is current (every CLI command opens the store).
  const current = await pool.query<{ version: number | null }>(`SELECT max(version)::int AS version FROM ${quoted(schema)}.migrations`).then(
    (result) => result.rows[0]?.version ?? 0,
    () => undefined, // no migrations table yet: the locked path below creates it
  );
  if (current !== undefined && current > LATEST_SCHEMA_VERSION) throw newerSchemaError(schema, current);
  if (current === LATEST_SCHEMA_VERSION) return { schema, from: current, to: LATEST_SCHEMA_VERSION, pending: [], applied: false };
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query(LOCK_SQL, [schema]);
      const from = await currentVersion(client, schema);
      if (from > LATEST_SCHEMA_VERSION) throw newerSchemaError(schema, from);
      const pending = MIGRATIONS.filter((m) => m.version > from).map((m) => ({ version: m.version, name: m.name, sql: m.sql(schema) }));
      const plan: MigrationPlan = { schema, from, to: LATEST_SCHEMA_VERSION, pending, applied: false };
      if (options.dryRun === true || pending.length === 0) {
        await client.query('ROLLBACK');
        return plan;
      }
      const s = quoted(schema);
      for (const step of pending) {
        await client.query(step.sql);
        await client.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [step.version, step.name]);
      }
      await client.query('COMMIT');
      return { ...plan, applied: true };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  } finally {
    client.release();
  }
}

/** The schema's version (0: not created), refusing one newer than this moai-session knows. */
export async function schemaVersion(pool: Pool, schema: string): Promise<number> {
  const client = await pool.connect();
  try {
    const version = await currentVersion(client, schema);
    if (version > LATEST_SCHEMA_VERSION) throw newerSchemaError(schema, version);
    return version;
  } finally {
    client.release();
  }
}
