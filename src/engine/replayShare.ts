import type { StoredEvent } from '../events/envelope.js';
import type { LogSnapshot, ReadProgress } from '../store/partitionedLog.js';
import type { FoldFindings, ReplayFold, TransferredStream } from './replay.js';
import type { TransferredError } from './replayTransfer.js';

/*
 * One thread's share of a parallel replay, the same in the main thread and
 * in a worker: fold the events of its streams, and on a failure say at which
 * position it happened, so that of the failures of all threads the first in
 * the log is the one reported, as a replay in one thread would report it.
 */

/** No thread has failed yet: the value of the shared stop cell. */
export const NO_FAILURE = 0x7fffffff;

/** What a worker thread is sent: the log to read, which streams are its share, and the stop cell all threads share. */
export interface ShareJob {
  snapshot: LogSnapshot;
  /** `owned[s] === 1` for the streams (by the index's number) of this share. */
  owned: Uint8Array;
  /** The streams of this share (by the index's number), in the order of their last positions. */
  endOrder: Int32Array;
  /** The last position of each stream in {@link endOrder}, at the same place. */
  endPositions: Int32Array;
  /** The first position any thread failed at ({@link NO_FAILURE} until one does), on shared memory. */
  stop: Int32Array;
}

/** A share's failure: where, and the error. */
export interface ShareFailure {
  position: number;
  error: unknown;
}

/**
 * What a worker thread posts: streams whose last event it has folded (as it
 * goes, so that it keeps only the streams still being folded), then once its
 * last streams and findings, or where and why it failed.
 */
export type ShareMessage =
  | { kind: 'streams'; streams: TransferredStream[] }
  | { kind: 'done'; streams: TransferredStream[]; findings: FoldFindings }
  | { kind: 'failed'; position: number; error: TransferredError };

/** Lower the shared stop cell to `position`, unless a thread failed before it already. */
export function stopAt(stop: Int32Array, position: number): void {
  for (;;) {
    const current = Atomics.load(stop, 0);
    if (position >= current || Atomics.compareExchange(stop, 0, current, position) === current) return;
  }
}

/**
 * Fold what `read` hands out into `fold`; on a failure, lower `stop` to its
 * position (the other threads need read no further than that) and return it.
 * A failure of the read is where the read had got to; one of the fold, the
 * event it was folding. `folded` is told the last position of each batch
 * once the batch is folded.
 */
export async function foldShare(
  fold: ReplayFold,
  read: AsyncIterable<StoredEvent[]>,
  progress: ReadProgress,
  stop: Int32Array,
  folded?: (position: number) => void,
): Promise<ShareFailure | undefined> {
  const batches = read[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<StoredEvent[]>;
    try {
      next = await batches.next();
    } catch (error) {
      stopAt(stop, progress.position);
      return { position: progress.position, error };
    }
    if (next.done === true) return undefined;
    const batch = next.value;
    try {
      await fold.visitBatch(batch);
    } catch (error) {
      stopAt(stop, fold.visiting);
      await batches.return?.();
      return { position: fold.visiting, error };
    }
    if (folded !== undefined && batch.length > 0) folded(batch[batch.length - 1]!.position);
  }
}
