import type { EventStore } from '../store/eventStore.js';
import type { StoreWarning } from '../store/fileEventStore.js';
import { openEventStore } from '../store/openEventStore.js';
import { requireStateFolder, resolveStateFolder, storeTargetOfFolder } from './stateFolder.js';

/** Where a state folder is and whose environment names its store. */
export interface StateFolderLocation {
  /** The state folder; defaults to `.moai`, against `cwd`. */
  dir?: string;
  /** The folder `dir` is relative to; defaults to the process's working folder. */
  cwd?: string;
  /** The environment `MOAI_STORE_URL` is read from; defaults to the process's. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Options of {@link openStateFolderLog}. */
export interface OpenStateFolderLogOptions extends StateFolderLocation {
  /** `read` (default): no writer lock, nothing repaired or created. `write`: as the writer, cutting a torn tail. */
  mode?: 'read' | 'write';
  /** What the store noticed (a torn tail cut off). */
  onWarning?: (warning: StoreWarning) => void;
  /** Write mode: how long to wait for another writer's lock, in ms; defaults to the config's `store.lock_wait_ms`. */
  lockWaitMs?: number;
}

/**
 * Open the log of an existing state folder on its own, without an engine:
 * read-only for inspection (no lock, never a repair), or as its writer for
 * work beside the log that must not race a write command (rewriting the
 * memory files). The store is the one the folder's config or
 * `MOAI_STORE_URL` names, through the store registry.
 */
export async function openStateFolderLog(options: OpenStateFolderLogOptions = {}): Promise<EventStore> {
  const dir = resolveStateFolder(options.dir, options.cwd);
  await requireStateFolder(dir, options.env ?? process.env);
  const target = await storeTargetOfFolder(dir, options.env ?? process.env, {
    ...(options.mode === 'write' ? {} : { readOnly: true }),
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    ...(options.lockWaitMs === undefined ? {} : { lockWaitMs: options.lockWaitMs }),
  });
  return openEventStore(target);
}
