import type { StoredEvent } from '../events/envelope.js';
import type { EventStore } from './eventStore.js';
import type { LineBlock } from './lineBlocks.js';
import type { LogIndexSnapshot } from './logIndex.js';

/*
 * A file log as a parallel replay reads it: indexed up to a position, its
 * streams split between threads, each thread reading the files and decoding
 * only the lines of its own streams. The main thread reads through the
 * store's own reader (inside its tail guard); a worker thread gets a
 * snapshot of the index (its pages shared, not copied) and of the segments'
 * block checksums, and reads the same files with a reader of its own
 * (`logSnapshot.ts`). This module holds only what the engine asks a store
 * for, so importing the engine loads no file store code.
 */

/** One segment as a worker thread needs it: where it is, its first position, its block checksums. */
export interface SegmentSnapshot {
  readonly number: number;
  readonly name: string;
  readonly path: string;
  readonly firstPosition: number;
  readonly size: number;
  readonly blocks: readonly LineBlock[];
}

/** All a worker thread needs to read positions 1 to `index.count` of a log: structured-clonable. */
export interface LogSnapshot {
  readonly dir: string;
  readonly index: LogIndexSnapshot;
  readonly segments: readonly SegmentSnapshot[];
}

/** What {@link PartitionedLog.streamStats} tells of each stream, by the index's number of it. */
export interface StreamStats {
  /** The bytes of its lines up to the log's `count`, newlines included. */
  readonly bytes: Float64Array;
  /** Its first position (0 for a stream with no lines up to `count`). */
  readonly first: Int32Array;
  /** Its last position up to `count`. */
  readonly last: Int32Array;
}

/** Where a read of one thread's share had got to when it failed. */
export interface ReadProgress {
  position: number;
}

/** A file log indexed up to {@link count}, to be read in shares (see `engine/parallelReplay.ts`). */
export interface PartitionedLog {
  /** Positions 1 to `count` are indexed, whole appends only. */
  readonly count: number;
  /** The stream names, numbered as the index numbers them. */
  readonly streamNames: readonly string[];
  /** False when the store upcasts with the embedder's upcasters, which cannot be handed to another thread. */
  readonly builtInUpcasting: boolean;
  /** Each stream's bytes up to `count` (what a share costs to read) and last position (when its thread is done with it), by the stream's number. */
  streamStats(): StreamStats;
  /** What a worker thread reads with (`openSnapshot` in `logSnapshot.ts`). */
  snapshot(): LogSnapshot;
  /**
   * The events at positions `from` to `to` (at most `count`) of the streams
   * numbered `s` with `owned[s] === 1` (see `SegmentReader.readOwned`), in
   * this thread.
   */
  readOwned(owned: Uint8Array, from: number, to: number, progress: ReadProgress, stop?: Int32Array): AsyncIterable<StoredEvent[]>;
}

/** How a store's log is read in shares: {@link offerPartitionedLog}. */
export interface PartitionedLogOffer {
  /** The partitioned form of the log, indexed to its end at the time it is asked. */
  open(): Promise<PartitionedLog>;
  /**
   * Whether the log is likely long enough to read in shares, known before it
   * is indexed (a file log with a sealed segment, say), so a replay can start
   * its workers while the log is indexed. A guess: wrong, a worker is started
   * and ended unused, or started a little later.
   */
  likelyLong(): boolean;
}

const offers = new WeakMap<object, PartitionedLogOffer>();

/** Say how `store` is read in shares: a file store does, with its log indexed to its end at the time it is asked. */
export function offerPartitionedLog(store: EventStore, open: () => Promise<PartitionedLog>, likelyLong: () => boolean = () => false): void {
  offers.set(store, { open, likelyLong });
}

/** How `store`'s log is read in shares; undefined for a store that has no such log (memory, PostgreSQL). */
export function partitionedLogOf(store: EventStore): PartitionedLogOffer | undefined {
  return offers.get(store);
}
