import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test server: MOAI_TEST_POSTGRES_URL, else the local one DEVELOPERS.md describes. */
export const TEST_POSTGRES_URL = process.env.MOAI_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether the test server answers. Under CI=true a missing server is a
 * failure (the test files call this in a beforeAll that throws); elsewhere
 * the PostgreSQL tests skip, and say why.
 */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`CI=true and no PostgreSQL server at ${TEST_POSTGRES_URL}: ${(error as Error).message}`);
    console.warn(`PostgreSQL tests skipped: no server at ${TEST_POSTGRES_URL} (${(error as Error).message}).`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Checked once per test file, at collection time (top-level await), so `describe.skipIf` can use it. */
export const HAVE_POSTGRES = await postgresAvailable();

const made = new Set<string>();

/** A fresh schema name for one test: `moai_t_<random>`. Dropped by {@link dropTestSchemas}. */
export function freshSchema(prefix = 't'): string {
  const name = `moai_${prefix}_${randomBytes(5).toString('hex')}`;
  made.add(name);
  return name;
}

/** The test server's URL with `?schema=`. */
export const urlWithSchema = (schema: string): string => `${TEST_POSTGRES_URL}${TEST_POSTGRES_URL.includes('?') ? '&' : '?'}schema=${schema}`;

/** Drop every schema {@link freshSchema} handed out in this file. */
export async function dropTestSchemas(): Promise<void> {
  if (made.size === 0) return;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    for (const name of made) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    made.clear();
  } finally {
    await client.end();
  }
}
