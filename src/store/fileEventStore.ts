import type { UpcasterRegistry } from '../events/upcasters.js';
import type { EventStore } from './eventStore.js';
import { fileStores } from './fileStoreBrand.js';
import { resolveFileStoreOptions } from './fileStoreOptions.js';

/*
 * The file store's public face: its options and types, and the one function
 * that opens it, as the writer (fileEventStoreWriter.ts) or as a read-only
 * reader (fileEventStoreReader.ts). Both share the pieces in this folder;
 * docs/architecture.md ("The file log") draws how they fit.
 */

/**
 * When an append is acknowledged:
 * - `always`: after its own write and fsync;
 * - `batch` (default): after an fsync shared with the appends that arrived meanwhile (group commit);
 * - `none`: after the write, without fsync (a crash of the machine may lose the last appends).
 */
export type Durability = 'always' | 'batch' | 'none';

/** Something the store repaired or noticed on open, reported instead of thrown. */
export interface StoreWarning {
  code: 'TORN_TAIL_REPAIRED' | 'LOCK_COMPROMISED' | 'LOCK_TAKEN_OVER' | 'TAIL_REWRITTEN' | 'INDEX_FILE_UNREADABLE';
  message: string;
  file?: string;
  line?: number;
}

/** Options of {@link openFileEventStore}. */
export interface FileEventStoreOptions {
  /** The folder of the log, e.g. `.moai/events`. Created if missing (unless read-only). */
  dir: string;
  /** Defaults to `batch`. */
  durability?: Durability;
  /**
   * Open without the writer lock, for inspection while another process writes.
   * A read-only store sees that process's appends on each read; it never repairs.
   * Its `subscribe()` catches up, then looks for the writer's new appends
   * every `followIntervalMs` while subscribed.
   * It reads what the writer has written, which can be one batch ahead of
   * what is durable; should the writer's fsync then fail and that batch be
   * rolled back and written over, the reader's next read notices, reads the
   * segment again and warns (`TAIL_REWRITTEN`); what it had handed out of the
   * rolled-back batch cannot be taken back.
   */
  readOnly?: boolean;
  /** How often a read-only store's subscriptions look for the writer's new appends, in ms. Defaults to 200. */
  followIntervalMs?: number;
  /** Start a new segment file when the current one would pass this size. Defaults to 64 MiB; at most 2 GiB (offsets are 32-bit). */
  maxSegmentBytes?: number;
  /** How long to wait for another writer to release the lock; defaults to 0 (fail at once). */
  lockWaitMs?: number;
  /** Upcasters for events stored at older schema versions. */
  upcasters?: UpcasterRegistry;
  /** Called for each repair or warning, as well as kept in `warnings`. */
  onWarning?: (warning: StoreWarning) => void;
}

/** The file store: an {@link EventStore} with what it repaired and where it lives. */
export interface FileEventStore extends EventStore {
  readonly dir: string;
  readonly durability: Durability;
  readonly readOnly: boolean;
  /** Whether old schema versions are upcast by the built-in upcasters or by ones the embedder gave. */
  readonly upcasting: 'built-in' | 'custom';
  /** What was repaired or noticed since open (a torn last line cut off, a lost lock). */
  readonly warnings: readonly StoreWarning[];
}

/** True when `store` is a file store. */
export const isFileEventStore = (store: EventStore): store is FileEventStore => fileStores.has(store);

/**
 * Open (or create) the append-only JSONL event log in `dir`: the default store.
 *
 * One event a line with a CRC-32 checksum, in numbered segment files. One
 * writer process at a time holds `writer.lock`; a second one gets
 * {@link LogLockedError} naming the holder. On open, a torn last line (a crash
 * mid-write, never acknowledged) is cut off and reported in `warnings`. What a
 * crash cannot have left is damage, a {@link CorruptLogError} naming file and
 * line, and nothing is cut: a line an index file records as written, a
 * segment shorter than its index file or than the next segment's first
 * position says, a sound line out of sequence, bytes that are not a line of
 * ours. Every line is checked when
 * it is read: a corrupt line anywhere else is a {@link CorruptLogError} naming
 * the file and line, and nothing is changed. (Opening reads only what the
 * segments' index files do not cover, so a line damaged after it was indexed
 * is found by the first read of it, e.g. a replay.)
 *
 * @example
 * const store = await openFileEventStore({ dir: '.moai/events' });
 */
export async function openFileEventStore(options: FileEventStoreOptions): Promise<FileEventStore> {
  const resolved = resolveFileStoreOptions(options);
  // Each kind is loaded only when opened: a reader needs no lock, no group commit.
  return (options.readOnly ?? false)
    ? (await import('./fileEventStoreReader.js')).FileEventStoreReader.open(resolved)
    : (await import('./fileEventStoreWriter.js')).FileEventStoreWriter.open(resolved);
}

