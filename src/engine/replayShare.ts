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

/**
 * How a parallel replay's streams are cut into chunks, which the threads
 * claim one at a time (the workers from the first, the calling thread from
 * the last) until none is left: a thread that is slower (it started later,
 * or gets less of the machine) simply folds fewer. Everything here is the
 * same in every thread; `claims` and `stop` are on shared memory.
 */
export interface ChunkPlan {
  /** The chunk of each stream (by the index's number), -1 for a stream with no lines. */
  chunkOf: Int32Array;
  /** The first position of each chunk's streams. */
  from: Int32Array;
  /** The last position of each chunk's streams. */
  to: Int32Array;
  /** The last position of each stream (by the index's number). */
  last: Int32Array;
  /** Who folds each chunk: 0 until a thread claims it, then that thread's number + 1. */
  claims: Int32Array;
  /** The first position any thread failed at ({@link NO_FAILURE} until one does). */
  stop: Int32Array;
}

/** What a worker thread is sent: the log to read, the chunks, and its number (1 and up; the calling thread is 0). */
export interface ShareJob {
  snapshot: LogSnapshot;
  plan: ChunkPlan;
  thread: number;
}

/** A read of the streams `owned` marks, at positions `from` to `to`, in the thread that folds them. */
export type ReadChunk = (owned: Uint8Array, from: number, to: number, progress: ReadProgress) => AsyncIterable<StoredEvent[]>;

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

/**
 * Fold chunk `chunk` of `plan` into `fold`; `ended` is told the streams
 * (by number) whose last event has been folded, as they end. A failure is
 * returned, with its position (`stop` lowered to it).
 */
export async function foldChunk(
  fold: ReplayFold,
  plan: ChunkPlan,
  chunk: number,
  read: ReadChunk,
  ended?: (streams: number[]) => void,
): Promise<ShareFailure | undefined> {
  const { chunkOf, last } = plan;
  const owned = new Uint8Array(chunkOf.length);
  const streams: number[] = [];
  for (let stream = 0; stream < chunkOf.length; stream++) {
    if (chunkOf[stream] === chunk) {
      owned[stream] = 1;
      streams.push(stream);
    }
  }
  streams.sort((a, b) => last[a]! - last[b]!);
  let done = 0;
  const release = (position: number): void => {
    const now: number[] = [];
    while (done < streams.length && last[streams[done]!]! <= position) now.push(streams[done++]!);
    if (now.length > 0) ended?.(now);
  };
  const progress = { position: plan.from[chunk]! };
  const failure = await foldShare(fold, read(owned, plan.from[chunk]!, plan.to[chunk]!, progress), progress, plan.stop, ended === undefined ? undefined : release);
  if (failure === undefined && done < streams.length) ended?.(streams.slice(done));
  return failure;
}

/**
 * Claim the chunks of `plan` one at a time, from the first up (`upward`) or
 * from the last down, and fold each claimed one into `fold`, until none is
 * left to claim. A chunk that starts past a failure another thread met is
 * claimed and left: nothing in it comes first. Returns the failure at the
 * lowest position this thread met.
 */
export async function foldClaimedChunks(
  fold: ReplayFold,
  plan: ChunkPlan,
  thread: number,
  upward: boolean,
  read: ReadChunk,
  ended?: (streams: number[]) => void,
): Promise<ShareFailure | undefined> {
  const chunks = plan.from.length;
  let first: ShareFailure | undefined;
  for (let i = 0; i < chunks; i++) {
    const chunk = upward ? i : chunks - 1 - i;
    // A chunk claimed for this thread before it started is its own too.
    const claimedBy = Atomics.compareExchange(plan.claims, chunk, 0, thread + 1);
    if (claimedBy !== 0 && claimedBy !== thread + 1) continue;
    if (plan.from[chunk]! > Atomics.load(plan.stop, 0)) continue;
    const failure = await foldChunk(fold, plan, chunk, read, ended);
    if (failure !== undefined && (first === undefined || failure.position < first.position)) first = failure;
  }
  return first;
}
