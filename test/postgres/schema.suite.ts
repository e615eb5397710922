import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import type { StoredEvent } from '../../src/index.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, openPostgresEventStore } from '../../src/postgres.js';
import { importerOf } from '../../src/store/postgres/bulkImport.js';
import { sampleEvent } from '../../src/testing/index.js';
import { dropTestSchemas, freshSchema, HAVE_POSTGRES, TEST_POSTGRES_URL, urlWithSchema } from './pgTestServer.js';

async function sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: process.cwd(), env: { ...process.env, ...env } });
  return { code, stdout, stderr };
}

describe.skipIf(!HAVE_POSTGRES)('PostgreSQL schema and migrations', () => {
  afterAll(dropTestSchemas);

  it('db migrate --dry-run prints the SQL and creates nothing; db migrate creates the schema once', async () => {
    const schema = freshSchema('mig');
    const dry = await cli(['db', 'migrate', '--dry-run', '--url', urlWithSchema(schema)]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`Schema ${schema} is at version 0`);
    expect(dry.stdout).toContain(`CREATE TABLE "${schema}".events`);
    expect(await sql('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).toEqual([]);
    const run = await cli(['db', 'migrate'], { MOAI_STORE_URL: urlWithSchema(schema) });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Schema ${schema}: version 0 -> ${LATEST_SCHEMA_VERSION}`);
    expect(await sql(`SELECT version, name FROM "${schema}".migrations`)).toHaveLength(LATEST_SCHEMA_VERSION);
    const again = await cli(['db', 'migrate', '--url', TEST_POSTGRES_URL, '--schema', schema]);
    expect(again.stdout).toBe(`Schema ${schema} is up to date (version ${LATEST_SCHEMA_VERSION}).\n`);
  });

  it('refuses a schema newer than it knows, and a missing one when told not to migrate', async () => {
    const schema = freshSchema('new');
    await (await openPostgresEventStore({ url: TEST_POSTGRES_URL, schema })).close();
    await sql(`INSERT INTO "${schema}".migrations (version, name) VALUES ($1, 'from the future')`, [LATEST_SCHEMA_VERSION + 1]);
    await expect(openPostgresEventStore({ url: TEST_POSTGRES_URL, schema })).rejects.toThrow(
      `The PostgreSQL schema ${schema} is at version ${LATEST_SCHEMA_VERSION + 1}, newer than this moai-session knows (${LATEST_SCHEMA_VERSION})`,
    );
    const refused = await cli(['db', 'migrate', '--url', urlWithSchema(schema)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('newer than this moai-session knows');
    await expect(openPostgresEventStore({ url: TEST_POSTGRES_URL, schema: freshSchema('none'), migrate: false })).rejects.toThrow(
      `is at version 0, this moai-session needs ${LATEST_SCHEMA_VERSION}: run \`moai-session db migrate\``,
    );
  });

  /** What an upgraded schema must hold: the three migrations, text columns, the current functions only. */
  async function expectCurrentSchema(schema: string): Promise<void> {
    expect((await sql<{ version: number }>(`SELECT version FROM "${schema}".migrations ORDER BY version`)).map((r) => r.version)).toEqual([1, 2, 3]);
    const columns = await sql<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'events' AND column_name IN ('meta', 'data') ORDER BY column_name`,
      [schema],
    );
    expect(columns).toEqual([
      { column_name: 'data', data_type: 'text' },
      { column_name: 'meta', data_type: 'text' },
    ]);
    const functions = await sql<{ f: string }>(
      `SELECT proname || '(' || pg_get_function_identity_arguments(oid) || ')' AS f FROM pg_proc WHERE pronamespace = $1::regnamespace ORDER BY 1`,
      [schema],
    );
    expect(functions.map((r) => r.f)).toEqual(['append_events(p_appends json, p_events json)', 'import_events(p_events json)']);
  }

  /** Append, read back (a NUL character: json columns refused it) and bulk-import on an upgraded schema. */
  async function expectAppendsWork(schema: string, stream: string, streamVersion: number, before: { id: string; title: string }[]): Promise<void> {
    const store = await openPostgresEventStore({ url: urlWithSchema(schema) });
    const added = sampleEvent('t-new', 'after the upgrade \u0000 with a NUL');
    await store.append(stream, [added], { expectedVersion: streamVersion });
    const read: StoredEvent[] = [];
    for await (const event of store.readAll()) read.push(event);
    expect(read.map((e) => [e.position, e.id, (e.data as { title: string }).title])).toEqual([
      ...before.map((b, i) => [i + 1, b.id, b.title]),
      [before.length + 1, added.id, 'after the upgrade \u0000 with a NUL'],
    ]);
    expect(read[0]!.meta).toEqual({ at: '2026-01-01T00:00:00.000Z', agent: 'tester' });
    const copy = await openPostgresEventStore({ url: urlWithSchema(freshSchema('upcopy')) });
    await importerOf(copy)!(read);
    expect(await copy.headPosition()).toBe(read.length);
    await Promise.all([store.close(), copy.close()]);
  }

  it('upgrades a schema made by the first build (migration 1 as first committed: json columns, the array append function)', async () => {
    const schema = freshSchema('v1first');
    await sql(`${MIGRATIONS[0]!.sql(schema)}; INSERT INTO "${schema}".migrations (version, name) VALUES (1, '${MIGRATIONS[0]!.name}')`);
    // Two events as that build appended them: one array per column.
    const old = [sampleEvent('t-a', 'first build A'), sampleEvent('t-b', 'first build B')];
    await sql(`SELECT * FROM "${schema}".append_events($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      ['session-old'],
      [-2],
      [2],
      [1, 1],
      old.map((e) => e.id),
      old.map((e) => e.type),
      [1, 1],
      old.map((e) => JSON.stringify(e.meta)),
      old.map((e) => JSON.stringify(e.data)),
    ]);
    const dry = await cli(['db', 'migrate', '--dry-run', '--url', urlWithSchema(schema)]);
    expect(dry.stdout).toContain(`Schema ${schema} is at version 1; these migrations would bring it to 3 (nothing was run):`);
    expect(dry.stdout).toContain('-- migration 2: meta and data as JSON text');
    expect(dry.stdout).toContain('-- migration 3: append_events(json, json)');
    // Opening the store (it migrates unless told not to) upgrades it in place.
    await (await openPostgresEventStore({ url: urlWithSchema(schema) })).close();
    await expectCurrentSchema(schema);
    await expectAppendsWork(schema, 'session-old', 2, [
      { id: old[0]!.id, title: 'first build A' },
      { id: old[1]!.id, title: 'first build B' },
    ]);
  });

  it('upgrades a schema made by a build that had edited migration 1 (text columns, JSON append function, still version 1: R17)', async () => {
    const schema = freshSchema('v1edited');
    const fixture = readFileSync(new URL('fixtures/migration1-as-of-4ec636f.sql', import.meta.url), 'utf8');
    await sql(`${fixture.replaceAll('moai_schema_placeholder', schema)}; INSERT INTO "${schema}".migrations (version, name) VALUES (1, 'as that build named it')`);
    const old = sampleEvent('t-e', 'edited build');
    await sql(`SELECT * FROM "${schema}".append_events($1, $2)`, [
      JSON.stringify([{ o: 1, s: 'session-e', e: -2, n: 1 }]),
      JSON.stringify([{ a: 1, k: 1, i: old.id, t: old.type, v: 1, m: JSON.stringify(old.meta), d: JSON.stringify(old.data) }]),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'moai-pg-r17-'));
    try {
      // A read command does not migrate: it names the fix instead of failing on the old function.
      const refused = await cli(['--dir', join(dir, '.moai'), 'events'], { MOAI_STORE_URL: urlWithSchema(schema) });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`The PostgreSQL schema ${schema} is at version 1, this moai-session needs 3: run \`moai-session db migrate\``);
      const upgraded = await cli(['db', 'migrate', '--url', urlWithSchema(schema)]);
      expect(upgraded.code).toBe(0);
      expect(upgraded.stdout).toContain(`Schema ${schema}: version 1 -> 3`);
      await expectCurrentSchema(schema);
      const listed = await cli(['--dir', join(dir, '.moai'), 'events'], { MOAI_STORE_URL: urlWithSchema(schema) });
      expect(listed.code).toBe(0);
      expect(listed.stdout).toContain('edited build');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await expectAppendsWork(schema, 'session-e', 1, [{ id: old.id, title: 'edited build' }]);
  });

  it('refuses a schema name that is not a plain identifier before it reaches SQL', async () => {
    await expect(openPostgresEventStore({ url: TEST_POSTGRES_URL, schema: 'x"; DROP TABLE y; --' })).rejects.toThrow(/schema name .* is not allowed/);
    await expect(openPostgresEventStore({ url: `${TEST_POSTGRES_URL}?schema=Bad-Name` })).rejects.toThrow(/is not allowed/);
  });

  it('never prints the password of a URL it cannot connect with', async () => {
    const url = 'postgres://moai:hunter2secret@127.0.0.1:1/test';
    const error = (await openPostgresEventStore({ url }).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('PostgreSQL store 127.0.0.1:1/test schema moai: opening the store failed');
    expect(error.message).not.toContain('hunter2secret');
    expect(String(error.stack)).not.toContain('hunter2secret');
    const migrate = await cli(['db', 'migrate', '--url', url]);
    expect(migrate.code).toBe(1);
    expect(migrate.stderr + migrate.stdout).not.toContain('hunter2secret');
    expect(migrate.stderr).toContain('moai:****@127.0.0.1:1');
  });

  it('stores text PostgreSQL text cannot hold (a NUL character), emoji and lone surrogates, and reads them back the same', async () => {
    const store = await openPostgresEventStore({ url: urlWithSchema(freshSchema('text')) });
    const titles = ['nul \u0000 inside', 'emoji 🙂 and ü', 'a lone \ud83d surrogate', 'quotes " and \\ backslashes'];
    const events = titles.map((title, i) => sampleEvent(`t${i}`, title));
    await store.append('session-a', events.slice(0, 2));
    await store.append('session-b', events.slice(2));
    const read: string[] = [];
    for await (const event of store.readAll()) read.push((event.data as { title: string }).title);
    expect(read).toEqual(titles);
    // The bulk import (copy) takes them too.
    const copy = await openPostgresEventStore({ url: urlWithSchema(freshSchema('textcopy')) });
    const stored = [];
    for await (const event of store.readAll()) stored.push(event);
    await importerOf(copy)!(stored);
    const copied: string[] = [];
    for await (const event of copy.readAll()) copied.push((event.data as { title: string }).title);
    expect(copied).toEqual(titles);
    await Promise.all([store.close(), copy.close()]);
  });

  it('keeps each schema to itself: two stores in two schemas of one database', async () => {
    const a = await openPostgresEventStore({ url: urlWithSchema(freshSchema('a')) });
    const b = await openPostgresEventStore({ url: TEST_POSTGRES_URL, schema: freshSchema('b') });
    await a.append('session-x', [sampleEvent(), sampleEvent()]);
    await b.append('session-x', [sampleEvent()]);
    expect([await a.headPosition(), await b.headPosition()]).toEqual([2, 1]);
    await Promise.all([a.close(), b.close()]);
  });
});
