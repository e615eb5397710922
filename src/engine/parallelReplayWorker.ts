// The worker thread of a parallel replay (parallelReplay.ts): folds its share
// of the log's streams, read from the same files through a snapshot of the
// index, and answers once with the share's state, or where and why it failed.

import { parentPort, workerData } from 'node:worker_threads';
import type { EventStore } from '../store/eventStore.js';
import { openSnapshot, type SnapshotReader } from '../store/logSnapshot.js';
import { ReplayFold } from './replay.js';
import { foldShare, type ShareAnswer, type ShareJob } from './replayShare.js';
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

/** Fold the share `job` names; any failure becomes the answer, with its position. */
async function runShare(job: ShareJob): Promise<ShareAnswer> {
  const now = () => performance.timeOrigin + performance.now();
  const trace = { workerStart: now(), workerFolded: 0, workerShared: 0 };
  const snapshot = openSnapshot(job.snapshot);
  try {
    const fold = new ReplayFold(snapshotStore(snapshot));
    const progress = { position: 1 };
    const read = snapshot.reader.readOwned(1, job.snapshot.index.count, job.owned, progress, job.stop);
    const failure = await foldShare(fold, read, progress, job.stop);
    if (failure !== undefined) return { ok: false, position: failure.position, error: errorForTransfer(failure.error) };
    trace.workerFolded = now();
    const share = fold.share();
    trace.workerShared = now();
    return { ok: true, share, trace } as ShareAnswer;
  } finally {
    await snapshot.close();
  }
}

const port = parentPort;
if (port !== null) {
  void runShare(workerData as ShareJob).then((answer) => port.postMessage(answer));
}
