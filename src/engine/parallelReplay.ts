import type { Worker } from 'node:worker_threads';
import type { EventStore } from '../store/eventStore.js';
import type { PartitionedLogOffer } from '../store/partitionedLog.js';
import { decodeStream, ReplayFold, type FoldedStream, type FoldFindings, type ReplayReport } from './replay.js';
import { foldShare, NO_FAILURE, type ShareFailure, type ShareJob, type ShareMessage } from './replayShare.js';
import { errorFromTransfer } from './replayTransfer.js';

/*
 * A replay of a long file log on more than one thread. The log's streams
 * are split between the threads by the bytes of their lines (the index knows
 * them), the largest first, each to the thread with the least so far. Every
 * thread reads the files (the page cache serves them), but decodes, checks,
 * validates and folds only the lines of its own streams, with the same
 * ReplayFold; a stream's events are all in one thread, so each fold sees
 * what a fold of the whole log sees of it (a fork's base is read from the
 * log by whichever thread folds the fork). A worker thread posts each of its
 * streams once the stream's last event is folded, and forgets it: a worker
 * holds only the streams it is still folding, and the calling thread takes
 * in the others' streams while it folds its own. At the end the calling
 * thread's fold holds them all: sessions in the order of their first events,
 * divergences in position order, the counts summed. A failure anywhere is the
 * first one in the log, as one thread would have met it: each thread reads in
 * position order and stops only past a position another thread failed at.
 */

/**
 * Below this many events a replay stays in the calling thread: starting a
 * worker (its modules, its heap) costs about 90 ms here, what one thread
 * folds of some 25,000 events, and the share it would take must win that back.
 */
export const PARALLEL_REPLAY_MIN_EVENTS = 100_000;

/**
 * The worker's young generation, in megabytes (V8's default is some 48 here).
 * What a worker folds dies young (the events of a batch) or is posted and
 * forgotten soon after, so a small one costs a few more scavenges and no more
 * CPU time, measured, and it keeps the second heap from adding a whole young
 * generation to the replay's peak RSS: 4 MB gave 241 to 262 MB on the bench's
 * 1,000,000-event log, 8 MB 261 to 285, the default 267 to 306.
 */
const WORKER_YOUNG_GENERATION_MB = 4;

/**
 * What the last parallel replay in this process did: for tests (that the
 * workers did run, or fell back) and the bench (where the time went, in ms
 * from the start of the replay: the calling thread's own share folded, every
 * worker's answer in, the report made).
 */
export const lastParallelReplay = { threads: 0, startedEarly: 0, fellBack: 0, streamsPosted: 0, streamsPostedEarly: 0, ownFoldedMs: 0, answeredMs: 0, reportedMs: 0 };

/** How one worker's share ended: its streams and findings, its failure, or why it gave no answer (it could not start, or crashed). */
type ShareOutcome = { streams: FoldedStream[]; findings: FoldFindings } | { failed: ShareFailure } | { lost: unknown };

/**
 * Replay the log `offer` partitions (`store`'s) on up to `threads` threads,
 * the calling one included, or return undefined when it does not pay: a log
 * shorter than {@link PARALLEL_REPLAY_MIN_EVENTS} (unless `force`), one
 * stream, no shared memory or no worker threads. The report equals that of a
 * replay in one thread of the same events. Events appended after the log was
 * indexed are folded in afterwards, in this thread. When the offer says the
 * log is likely long, the workers are started before it is indexed (they
 * load their modules meanwhile), and ended unused if it turns out short.
 */
export async function replayInParallel(store: EventStore, offer: PartitionedLogOffer, threads: number, force: boolean): Promise<ReplayReport | undefined> {
  const started = performance.now();
  if (threads < 2 || typeof SharedArrayBuffer !== 'function') return undefined;
  const workerThreads = await import('node:worker_threads').catch(() => undefined);
  if (workerThreads === undefined) return undefined;
  const early = offer.likelyLong() ? Array.from({ length: threads - 1 }, () => startShareWorker(workerThreads.Worker)) : [];
  try {
    const log = await offer.open();
    if (!log.builtInUpcasting) return undefined;
    if (!force && log.count < PARALLEL_REPLAY_MIN_EVENTS) return undefined;
    const { bytes, last } = log.streamStats();
    const owner = splitStreams(bytes, threads);
    const busy = new Set(owner.filter((_, stream) => bytes[stream]! > 0));
    if (busy.size < 2) return undefined;

    const ownedBy = (thread: number): Uint8Array => owner.map((t, stream) => (t === thread && bytes[stream]! > 0 ? 1 : 0));
    const stop = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    stop[0] = NO_FAILURE;
    const snapshot = log.snapshot();
    const jobOf = (thread: number): ShareJob => {
      const owned = ownedBy(thread);
      const endOrder = Int32Array.from(owned.keys()).filter((stream) => owned[stream] === 1);
      endOrder.sort((a, b) => last[a]! - last[b]!);
      return { snapshot, owned, endOrder, endPositions: endOrder.map((stream) => last[stream]!), stop };
    };
    const workers = [...busy]
      .filter((thread) => thread !== 0)
      .map((thread, i) => ({ thread, outcome: (early[i] ?? startShareWorker(workerThreads.Worker)).run(jobOf(thread)) }));
    lastParallelReplay.threads = workers.length + 1;
    lastParallelReplay.startedEarly = Math.min(early.length, workers.length);
    lastParallelReplay.fellBack = 0;
    lastParallelReplay.streamsPosted = 0;
    lastParallelReplay.streamsPostedEarly = 0;

    const fold = new ReplayFold(store);
    const failures: ShareFailure[] = [];
    const readOwn = async (into: ReplayFold, thread: number): Promise<void> => {
      const progress = { position: 1 };
      const failure = await foldShare(into, log.readOwned(ownedBy(thread), progress, stop), progress, stop);
      if (failure !== undefined) failures.push(failure);
    };
    await readOwn(fold, 0);
    lastParallelReplay.ownFoldedMs = performance.now() - started;

    const streams: FoldedStream[] = [];
    const findings: FoldFindings[] = [];
    for (const { thread, outcome } of workers) {
      const result = await outcome;
      if ('lost' in result) {
        // The worker could not start or died (no memory, say): this thread folds its share instead.
        lastParallelReplay.fellBack++;
        const instead = new ReplayFold(store);
        await readOwn(instead, thread);
        streams.push(...instead.release().map(decodeStream));
        findings.push(instead.findings());
      } else if ('failed' in result) {
        failures.push(result.failed);
      } else {
        streams.push(...result.streams);
        findings.push(result.findings);
      }
    }
    lastParallelReplay.answeredMs = performance.now() - started;
    if (failures.length > 0) throw failures.reduce((first, failure) => (failure.position < first.position ? failure : first)).error;
    fold.absorb(streams, findings);
    // What was appended while the shares were read.
    await fold.visitLog(log.count + 1);
    const report = fold.report();
    lastParallelReplay.reportedMs = performance.now() - started;
    return report;
  } finally {
    // Those that answered are ended already; those started early and not needed end here.
    for (const worker of early) worker.end();
  }
}

/**
 * Which thread folds each stream (by the index's number, which is the order
 * of the streams' first events): the streams in that order, cut into runs of
 * about equal bytes, one run a thread. A log mostly holds sessions one after
 * another (each busy for a while, then done), so a run is mostly one stretch
 * of the log, and a thread reads and checks little of the others' stretches:
 * a block of lines is only read by a thread that decodes one of its lines.
 * The workers take the early runs, the calling thread the last one: a
 * worker's streams then mostly end while it reads, and cross as it goes
 * while the calling thread is busy with its own.
 */
function splitStreams(bytes: Float64Array, threads: number): Uint8Array {
  const owner = new Uint8Array(bytes.length);
  let total = 0;
  for (const size of bytes) total += size;
  // Run r goes to thread r + 1, the last run to thread 0.
  let run = 0;
  let sum = 0;
  for (let stream = 0; stream < bytes.length; stream++) {
    const size = bytes[stream]!;
    if (size === 0) continue;
    // A stream goes to the next run once the run it would join is past its share by more than half the stream.
    while (run < threads - 1 && sum + size / 2 > ((run + 1) * total) / threads) run++;
    owner[stream] = run === threads - 1 ? 0 : run + 1;
    sum += size;
  }
  return owner;
}

/** A worker thread started ahead of its job. */
interface ShareWorker {
  /** Send it its job: its outcome once it has said it is done or failed (it is then ended), or is lost. */
  run(job: ShareJob): Promise<ShareOutcome>;
  /** End it, whatever it is doing (nothing, once it has answered). */
  end(): void;
}

/** Start a worker that waits for its job, taking in the streams it posts as it goes once it has one. */
function startShareWorker(WorkerClass: typeof Worker): ShareWorker {
  let resolve!: (outcome: ShareOutcome) => void;
  const outcome = new Promise<ShareOutcome>((settled) => (resolve = settled));
  let worker: Worker | undefined;
  let settled = false;
  const settle = (result: ShareOutcome): void => {
    if (settled) return;
    settled = true;
    void worker?.terminate();
    resolve(result);
  };
  try {
    worker = startWorker(WorkerClass);
  } catch (error) {
    settle({ lost: error });
  }
  const streams: FoldedStream[] = [];
  worker?.on('message', (message: ShareMessage) => {
    if (settled) return;
    if (message.kind === 'failed') {
      settle({ failed: { position: message.position, error: errorFromTransfer(message.error) } });
      return;
    }
    for (const stream of message.streams) streams.push(decodeStream(stream));
    lastParallelReplay.streamsPosted += message.streams.length;
    if (message.kind === 'streams') lastParallelReplay.streamsPostedEarly += message.streams.length;
    if (message.kind === 'done') settle({ streams, findings: message.findings });
  });
  worker?.once('error', (error) => settle({ lost: error }));
  worker?.once('exit', (code) => settle({ lost: new Error(`the replay worker exited (${code}) without an answer`) }));
  return {
    run(job) {
      if (!settled) {
        try {
          worker!.postMessage(job);
        } catch (error) {
          settle({ lost: error });
        }
      }
      return outcome;
    },
    end() {
      settle({ lost: new Error('the replay worker was not needed') });
    },
  };
}

/**
 * A worker running parallelReplayWorker, which waits for its job: the
 * compiled .js; or, when this module runs from its TypeScript sources (the
 * tests), the .ts, after the worker registers the tsx loader (loaders given
 * to a worker with --import do not reach it).
 */
function startWorker(WorkerClass: typeof Worker): Worker {
  const here = import.meta.url;
  const options = { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } };
  if (!/\.[cm]?ts$/.test(new URL(here).pathname)) return new WorkerClass(new URL('./parallelReplayWorker.js', here), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./parallelReplayWorker.ts', here).href;
  const source = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new WorkerClass(source, { ...options, eval: true });
}
