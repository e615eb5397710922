import { StorageError } from '../../errors.js';
import { redactUrlPassword } from '../../util/describeValue.js';

/** The schema the store keeps its tables in when the URL or the caller names none. */
export const DEFAULT_SCHEMA = 'moai';

// An unquoted PostgreSQL identifier that needs no quoting: names go into DDL, which cannot take parameters.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Refuse a schema name that is not a plain lower-case identifier: it is the
 * one thing the store writes into SQL text (DDL takes no parameters), so it
 * is checked here and quoted everywhere.
 */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new StorageError(
      `The PostgreSQL schema name ${JSON.stringify(schema)} is not allowed: use lower-case letters, digits and underscores, ` +
        'starting with a letter or underscore, at most 63 characters (e.g. moai or moai_test).',
    );
  }
  return schema;
}

/** A connection URL split into what node-postgres reads and the schema moai-session keeps its tables in. */
export interface PostgresUrl {
  /** The URL without the `schema` query parameter, for node-postgres. */
  connectionString: string;
  /** From `?schema=` when given. */
  schema?: string;
}

/**
 * Take the `schema` query parameter off a `postgres://` URL
 * (`postgres://host/db?schema=moai_ci`); node-postgres does not know it.
 *
 * @throws {StorageError} for a URL that does not parse, with its password hidden.
 */
export function parsePostgresUrl(url: string): PostgresUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StorageError(`The PostgreSQL URL ${redactUrlPassword(url)} does not parse; write it as postgres://user:password@host:5432/database.`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new StorageError(`${redactUrlPassword(url)} is not a postgres:// or postgresql:// URL.`);
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), ...(schema === undefined ? {} : { schema: checkSchemaName(schema) }) };
}

/** `"name"`: a checked schema name quoted for SQL text. */
export const quoted = (schema: string): string => `"${checkSchemaName(schema)}"`;

/** The LISTEN/NOTIFY channel a schema's appends are announced on. */
export const channelOf = (schema: string): string => `moai_events_${schema}`.slice(0, 63);

/** Hide every URL password in a message (a driver error may repeat the URL). */
export function redactPasswords(text: string, password?: string): string {
  let out = text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@\s]*:)[^@/\s]*@/g, '$1****@');
  if (password !== undefined && password.length > 0) out = out.split(password).join('****');
  return out;
}
