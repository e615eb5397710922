// The worker thread of a parallel replay (parallelReplay.ts): folds the
// chunks of the log's streams it claims, read from the same files through a
// snapshot of the index. It posts each stream as soon as the stream's last
// event is folded and forgets it, so what it holds stays bounded by the
// streams still being folded; then its findings, or where and why it failed.

import { parentPort } from 'node:worker_threads';
import type { EventStore } from '../store/eventStore.js';
import { openSnapshot, type SnapshotReader } from '../store/logSnapshot.js';
import { ReplayFold } from './replay.js';
import { foldClaimedChunks, type ShareJob, type ShareMessage } from './replayShare.js';
import { errorForTransfer } from './replayTransfer.js';

/**
 * The store a worker's fold sees: the snapshot's streams, read to the
 * snapshot's end. A fold reads a store only for a fork's base (its parent's
 * events up to the version it branched at), so that is all it answers.
 */
function snapshotStore(snapshot: SnapshotReader): EventStore {
  const refuse = (): never => {
    throw new Error('A replay worker reads its share of the log and the streams forks start from, nothing else.');
  };
  return {
    append: refuse,
    readStream: (stream, options) => snapshot.readStream(stream, options),
    readAll: refuse,
    readAllBatches: refuse,
    streamVersion: async (stream) => {
      snapshot.index.indexStreams();
      return snapshot.index.versionOf(stream);
    },
    listStreams: refuse,
    headPosition: async () => snapshot.index.count,
    subscribe: refuse,
    close: () => snapshot.close(),
  };
}

/**
 * Claim and fold chunks of the log's streams (from the first up) until none
 * is left, posting each stream as its last event is folded; the last message
 * is `done` or `failed`. Anything else that goes wrong is thrown: the worker
 * dies, and the calling thread folds the chunks it had claimed itself.
 */
async function runShare(job: ShareJob, post: (message: ShareMessage) => void): Promise<void> {
  const snapshot = openSnapshot(job.snapshot);
  try {
    const fold = new ReplayFold(snapshotStore(snapshot));
    const names = snapshot.index.streamNames;
    const count = job.snapshot.index.count;
    const ended = (streams: number[]): void => post({ kind: 'streams', streams: fold.release(streams.map((stream) => names[stream]!)) });
    const failure = await foldClaimedChunks(
      fold,
      job.plan,
      job.thread,
      true,
      (owned, from, to, progress) => snapshot.reader.readOwned(Math.max(1, from), Math.min(count, to), owned, progress, job.plan.stop),
      ended,
    );
    if (failure !== undefined) post({ kind: 'failed', position: failure.position, error: errorForTransfer(failure.error) });
    else post({ kind: 'done', streams: fold.release(), findings: fold.findings() });
  } finally {
    await snapshot.close();
  }
}

const port = parentPort;
// The worker is started before its job is ready (it loads its modules meanwhile): the job is its first message.
if (port !== null) port.once('message', (job: ShareJob) => void runShare(job, (message) => port.postMessage(message)));
