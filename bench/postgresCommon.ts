import pg from 'pg';

/** The server the PostgreSQL benchmarks run on: MOAI_BENCH_POSTGRES_URL, else the local test server. */
export const BENCH_POSTGRES_URL = process.env.MOAI_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Run SQL on the bench server on a connection of its own. */
export async function benchSql(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** A fresh, empty schema for one measurement (dropped first if a run before left it). */
export async function freshBenchSchema(name: string): Promise<string> {
  await benchSql(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  await benchSql(`CREATE SCHEMA "${name}"`);
  return name;
}

/** The bench URL with a search_path, for a library that keeps its tables in the default schema (Emmett). */
export const urlWithSearchPath = (schema: string): string =>
  `${BENCH_POSTGRES_URL}${BENCH_POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;

/** Whether the bench server answers; a missing one is said and the PostgreSQL benches count as not met. */
export async function benchServerUp(): Promise<boolean> {
  try {
    await benchSql('SELECT 1');
    return true;
  } catch (error) {
    console.log(`\nPostgreSQL benchmarks: no server at ${BENCH_POSTGRES_URL} (${(error as Error).message}).`);
    return false;
  }
}
