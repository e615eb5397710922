import type { StoredEvent } from '../events/envelope.js';
import type { LogSnapshot, ReadProgress } from '../store/partitionedLog.js';
import type { FoldedShare, ReplayFold } from './replay.js';
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
  /** The first position any thread failed at ({@link NO_FAILURE} until one does), on shared memory. */
  stop: Int32Array;
}

/** A share's failure: where, and the error. */
export interface ShareFailure {
  position: number;
  error: unknown;
}

/** What a worker thread answers: its fold's share, or where and why it failed. */
export type ShareAnswer = { ok: true; share: FoldedShare } | { ok: false; position: number; error: TransferredError };

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
 * event it was folding.
 */
export async function foldShare(
  fold: ReplayFold,
  read: AsyncIterable<StoredEvent[]>,
  progress: ReadProgress,
  stop: Int32Array,
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
    try {
      await fold.visitBatch(next.value);
    } catch (error) {
      stopAt(stop, fold.visiting);
      await batches.return?.();
      return { position: fold.visiting, error };
    }
  }
}
