import pg from 'pg';
import type { Pool } from 'pg';
import { checkSchemaName, DEFAULT_SCHEMA, parsePostgresUrl } from './postgresTarget.js';

/** A pool for a `postgres://` URL and the schema the URL (or `schema`) names: for commands that work on the database directly. */
export function poolForUrl(url: string, schema?: string, max = 4): { pool: Pool; schema: string } {
  const parsed = parsePostgresUrl(url);
  const pool = new pg.Pool({ connectionString: parsed.connectionString, max });
  pool.on('error', () => {}); // an idle connection dropped by the server is reconnected on next use
  return { pool, schema: checkSchemaName(schema ?? parsed.schema ?? DEFAULT_SCHEMA) };
}
