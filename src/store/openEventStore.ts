import { join } from 'node:path';
import type { MoaiConfig } from '../config/schema.js';
import { StorageError } from '../errors.js';
import type { EventStore } from './eventStore.js';
import type { Durability, StoreWarning } from './fileEventStore.js';

/**
 * Which store to open, and how: what a config's `store` section, a
 * `MOAI_STORE_URL` or a caller names. `kind` picks the driver; the other
 * fields are read by the drivers that use them.
 */
export interface StoreTarget {
  /** `memory`, `file`, or `postgres` (when its driver is installed); any other kind is refused by name. */
  kind: string;
  /** The file store's folder (`<state folder>/events`). */
  dir?: string;
  /** A database URL (PostgreSQL). */
  url?: string;
  /** The file store's durability; defaults to `batch`. */
  durability?: Durability;
  /** Open without taking the writer lock: read, never repair. */
  readOnly?: boolean;
  /** How long to wait for another writer's lock, in ms (file store). Defaults to 0. */
  lockWaitMs?: number;
  /** What the store noticed while opening or later (a torn tail cut off, a lock lost). */
  onWarning?: (warning: StoreWarning) => void;
  /** Where the target came from, for messages: `store.kind in <file>`, `MOAI_STORE_URL`. */
  source?: string;
}

/** The environment variable whose URL replaces the configured store (kept in step with the config loader's). */
const STORE_URL_ENV = 'MOAI_STORE_URL';

/** Opens the stores of one kind. */
export type StoreDriver = (target: StoreTarget) => Promise<EventStore>;

const drivers = new Map<string, StoreDriver>([
  ['memory', async () => (await import('./memoryEventStore.js')).createMemoryEventStore()],
  ['postgres', async (target) => (await import('./postgres/openPostgresTarget.js')).openPostgresTarget(target)],
  [
    'file',
    async (target) => {
      if (target.dir === undefined) throw new StorageError('A file store needs a folder: give the state folder (dir) or a file: URL.');
      const { openFileEventStore } = await import('./fileEventStore.js');
      return openFileEventStore({
        dir: target.dir,
        ...(target.durability === undefined ? {} : { durability: target.durability }),
        ...(target.readOnly === true ? { readOnly: true } : {}),
        ...(target.lockWaitMs === undefined ? {} : { lockWaitMs: target.lockWaitMs }),
        ...(target.onWarning === undefined ? {} : { onWarning: target.onWarning }),
      });
    },
  ],
]);

/**
 * Teach the registry a store kind: `moai-session/postgres` registers
 * `postgres` this way, and an embedder can register its own.
 */
export function registerStoreDriver(kind: string, driver: StoreDriver): void {
  drivers.set(kind, driver);
}

/** The kinds the registry can open now. */
export const storeKinds = (): string[] => [...drivers.keys()];

/**
 * Open the store a target names: the one composition root for stores, used
 * by `createEngine`, the state-folder runtime and the CLI alike.
 *
 * @throws {StorageError} for a kind no driver is registered for, naming it and where it came from.
 * @example
 * const store = await openEventStore({ kind: 'file', dir: '.moai/events', readOnly: true });
 */
export async function openEventStore(target: StoreTarget): Promise<EventStore> {
  const driver = drivers.get(target.kind);
  if (driver === undefined) throw unsupportedStoreError(target.kind, target.source);
  return driver(target);
}

/**
 * The store a configuration names for the state folder `dir`: the file store
 * in `<dir>/events` with the configured durability, or the PostgreSQL
 * database at `store.url` (which `MOAI_STORE_URL` may have set). `extra`
 * adds what the caller decides (read-only, a lock wait, a warning callback).
 */
export function storeTargetFromConfig(config: MoaiConfig, dir: string, extra: Omit<StoreTarget, 'kind'> = {}): StoreTarget {
  const { kind, url, durability, lock_wait_ms: lockWaitMs } = config.store;
  const target: StoreTarget = { kind, dir: join(dir, 'events'), durability, lockWaitMs, ...extra };
  if (url !== undefined) target.url = url;
  return target;
}

/**
 * The store kind a URL names, from its scheme: `postgres:` and `postgresql:`
 * are `postgres`, `file:` is `file`, `memory:` is `memory`, and any other
 * scheme is itself (`mysql://...` is `mysql`), so a refusal can name it.
 */
export function storeKindOfUrl(url: string): string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url.trim())?.[1]?.toLowerCase();
  if (scheme === undefined) return 'unknown';
  return scheme === 'postgresql' ? 'postgres' : scheme;
}

/** A refusal of a store kind this installation cannot open, saying where it was named and what to do. */
export function unsupportedStoreError(kind: string, source?: string): StorageError {
  const where = source ?? `The config (store.kind, or the ${STORE_URL_ENV} environment variable)`;
  return new StorageError(
    `${where} names a ${kind} store, which this installation of moai-session cannot open ` +
      `(it opens ${storeKinds().join(', ')}); name one of those, or unset ${STORE_URL_ENV}.`,
  );
}
