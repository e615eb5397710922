/*
 * moai-session/postgres: the PostgreSQL event store and checkpoint store.
 * The store registry already opens `postgres` targets (store.kind "postgres",
 * or MOAI_STORE_URL) by loading this code on demand; import this entry to
 * open a store yourself, on a pool of yours or a URL.
 */
export {
  openPostgresEventStore,
  type PostgresEventStore,
  type PostgresEventStoreOptions,
} from './store/postgres/postgresEventStore.js';
export { migrate, schemaVersion, LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration, type MigrationPlan } from './store/postgres/migrations.js';
export { DEFAULT_SCHEMA, parsePostgresUrl, type PostgresUrl } from './store/postgres/postgresTarget.js';
export { openPostgresTarget } from './store/postgres/openPostgresTarget.js';
export {
  createPostgresCheckpointStore,
  type PostgresCheckpointStoreOptions,
} from './checkpoints/postgresCheckpointStore.js';
export { copyLog, logChecksum, type CopyLogOptions, type CopyLogResult, type CopyProgress } from './store/postgres/copyLog.js';
