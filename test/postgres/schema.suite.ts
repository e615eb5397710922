import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { LATEST_SCHEMA_VERSION, openPostgresEventStore } from '../../src/postgres.js';
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
      /is at version 0, this moai-session needs 1: run `moai-session db migrate`/,
    );
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
