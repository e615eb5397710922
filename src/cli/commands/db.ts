import { join } from 'node:path';
import { loadConfig, STORE_URL_ENV } from '../../config/loadConfig.js';
import { isStorageError } from '../../errors.js';
import { CliUsageError, EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { redactUrlPassword } from '../../util/describeValue.js';

/** Options of `moai-session db migrate`. */
export interface DbMigrateCommandOptions extends GlobalOptions {
  /** The database; defaults to MOAI_STORE_URL, then the config's store.url. */
  url?: string;
  /** The schema; defaults to the URL's `?schema=`, else `moai`. */
  schema?: string;
  /** Print the SQL of the pending migrations without running them. */
  dryRun: boolean;
}

/** The PostgreSQL URL a command works on: --url, else MOAI_STORE_URL, else the state folder's store.url. */
export async function databaseUrlOf(options: GlobalOptions & { url?: string }, io: CliIo, flag = '--url'): Promise<string> {
  if (options.url !== undefined) return options.url;
  const fromEnv = io.env[STORE_URL_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const { config } = await loadConfig({ dir: join(io.cwd, options.dir), env: io.env });
  if (config.store.kind === 'postgres' && config.store.url !== undefined) return config.store.url;
  throw new CliUsageError(`No PostgreSQL database named: give ${flag} postgres://..., set ${STORE_URL_ENV}, or set store.kind "postgres" and store.url in the config.`);
}

/**
 * `moai-session db migrate [--dry-run]`: create or upgrade the PostgreSQL
 * store's schema (its versioned migrations, in one transaction), or print
 * the SQL that would run. A schema newer than this moai-session is refused.
 */
export async function dbMigrateCommand(options: DbMigrateCommandOptions, io: CliIo): Promise<number> {
  const url = await databaseUrlOf(options, io);
  const { poolForUrl } = await import('../../store/postgres/postgresPool.js');
  const { migrate } = await import('../../store/postgres/migrations.js');
  const { storageErrorOf } = await import('../../store/postgres/pgErrors.js');
  const { pool, schema } = poolForUrl(url, options.schema);
  try {
    const plan = await migrate(pool, schema, { dryRun: options.dryRun }).catch((error: unknown) => {
      throw isStorageError(error) ? error : storageErrorOf(error, 'db migrate', redactUrlPassword(url));
    });
    if (options.json) {
      io.stdout(`${JSON.stringify({ schema, from: plan.from, to: plan.to, applied: plan.applied, pending: plan.pending })}\n`);
      return EXIT.ok;
    }
    if (plan.pending.length === 0) {
      io.stdout(`Schema ${schema} is up to date (version ${plan.from}).\n`);
      return EXIT.ok;
    }
    if (options.dryRun) {
      io.stdout(`Schema ${schema} is at version ${plan.from}; these migrations would bring it to ${plan.to} (nothing was run):\n`);
      for (const step of plan.pending) io.stdout(`\n-- migration ${step.version}: ${step.name}\n${step.sql.trim()}\n`);
      return EXIT.ok;
    }
    const names = plan.pending.map((step) => `${step.version} (${step.name})`).join(', ');
    io.stdout(`Schema ${schema}: version ${plan.from} -> ${plan.to}; applied ${names}.\n`);
    return EXIT.ok;
  } finally {
    await pool.end().catch(() => {});
  }
}
