import { StorageError } from '../../errors.js';
import type { StoreWarning } from '../fileEventStore.js';
import type { StoreTarget } from '../openEventStore.js';
import { openPostgresEventStore, type PostgresEventStore } from './postgresEventStore.js';

/**
 * The registry's driver for `postgres`: the store at the target's URL
 * (`store.url` or `MOAI_STORE_URL`). A read-only target (the CLI's read
 * commands) never creates or upgrades the schema.
 */
export async function openPostgresTarget(target: StoreTarget): Promise<PostgresEventStore> {
  if (target.url === undefined) {
    throw new StorageError(`${target.source ?? 'The config'} names a postgres store but no URL: set store.url or MOAI_STORE_URL to a postgres:// URL.`);
  }
  const onWarning = target.onWarning;
  return openPostgresEventStore({
    url: target.url,
    ...(target.readOnly === true ? { migrate: false } : {}),
    // The engine passes on a warning's code and message; the PostgreSQL store's codes are its own.
    ...(onWarning === undefined ? {} : { onWarning: (warning) => onWarning(warning as unknown as StoreWarning) }),
  });
}
