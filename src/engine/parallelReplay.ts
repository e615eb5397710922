import type { ResourceLimits, Worker } from 'node:worker_threads';
import type { EventStore } from '../store/eventStore.js';
import type { PartitionedLogOffer, ReadProgress, StreamStats } from '../store/partitionedLog.js';
import { decodeStream, ReplayFold, type FoldedStream, type FoldFindings, type ReplayReport } from './replay.js';
import { foldChunk, foldClaimedChunks, NO_FAILURE, type ChunkPlan, type ShareFailure, type ShareJob, type ShareMessage } from './replayShare.js';
import { errorFromTransfer } from './replayTransfer.js';

/*
 * A replay of a long file log on more than one thread. The log's streams
 * are cut into chunks (see planChunks), and the threads claim the chunks one
 * at a time, the workers from the first up and the calling thread from the
 * last down, until none is left: a thread that goes slower (it started
 * later, or gets less of a busy machine) folds fewer, and neither waits long
 * for the other. Every thread reads the stretches of the files its chunks
 * span (the page cache serves them), but decodes, checks, validates and
 * folds only the lines of its own streams, with the same ReplayFold; a
 * stream's events are all in one chunk, so each fold sees what a fold of the
 * whole log sees of it (a fork's base is read from the log by whichever
 * thread folds the fork). A worker thread posts each of its streams once the
 * stream's last event is folded, and forgets it: a worker holds only the
 * streams it is still folding, and the calling thread takes in the others'
 * streams while it folds its own. At the end the calling thread's fold holds
 * them all: sessions in the order of their first events, divergences in
 * position order, the counts summed. A failure anywhere is the first one in
 * the log, as one thread would have met it: each chunk is read in position
 * order and stops only past a position a thread failed at, and a chunk that
 * starts past it is not read.
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
 * The resource limits each replay worker is started with. Lowered (a test
 * does) to make a worker run out of memory: a worker that dies is replaced by
 * the calling thread, which folds the chunks it had claimed.
 */
export const replayWorkerLimits: ResourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };

/**
 * What the last parallel replay in this process did: for tests (that the
 * workers did run, or fell back) and the bench (where the time went, in ms
 * from the start of the replay: the calling thread's own share folded, every
 * worker's answer in, the report made).
 */
export const lastParallelReplay = {
  threads: 0,
  startedEarly: 0,
  fellBack: 0,
  chunks: 0,
  chunksFoldedHere: 0,
  streamsPosted: 0,
  streamsPostedEarly: 0,
  ownFoldedMs: 0,
  answeredMs: 0,
  reportedMs: 0,
};

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
    const stats = log.streamStats();
    const plan = planChunks(stats, log.count, threads);
    if (plan.from.length < 2) return undefined;

    // Each worker's first chunk is its own (the first chunks, one each): so every worker it was worth starting folds something, even if it starts late.
    for (let thread = 1; thread < threads && thread < plan.from.length; thread++) plan.claims[thread - 1] = thread + 1;
    const snapshot = log.snapshot();
    const workers = Array.from({ length: Math.min(threads, plan.from.length) - 1 }, (_, i) => {
      const thread = i + 1;
      return { thread, outcome: (early[i] ?? startShareWorker(workerThreads.Worker)).run({ snapshot, plan, thread }) };
    });
    lastParallelReplay.threads = workers.length + 1;
    lastParallelReplay.startedEarly = early.length;
    lastParallelReplay.fellBack = 0;
    lastParallelReplay.streamsPosted = 0;
    lastParallelReplay.streamsPostedEarly = 0;
    lastParallelReplay.chunks = plan.from.length;

    const fold = new ReplayFold(store);
    const failures: ShareFailure[] = [];
    const read = (owned: Uint8Array, from: number, to: number, progress: ReadProgress) => log.readOwned(owned, from, to, progress, plan.stop);
    // This thread claims from the last chunk down, the workers from the first up.
    const own = await foldClaimedChunks(fold, plan, 0, false, read);
    if (own !== undefined) failures.push(own);
    lastParallelReplay.ownFoldedMs = performance.now() - started;

    const streams: FoldedStream[] = [];
    const findings: FoldFindings[] = [];
    for (const { thread, outcome } of workers) {
      const result = await outcome;
      if ('lost' in result) {
        // The worker could not start or died (no memory, say): this thread folds the chunks it had claimed, and whatever it posted is dropped.
        lastParallelReplay.fellBack++;
        for (let chunk = 0; chunk < plan.from.length; chunk++) {
          if (plan.claims[chunk] !== thread + 1) continue;
          const failure = await foldChunk(fold, plan, chunk, read);
          if (failure !== undefined) failures.push(failure);
        }
      } else if ('failed' in result) {
        failures.push(result.failed);
      } else {
        streams.push(...result.streams);
        findings.push(result.findings);
      }
    }
    lastParallelReplay.chunksFoldedHere = plan.claims.filter((claim) => claim === 1).length;
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

/** Chunks a thread claims at a time, per thread: enough to even out threads that go at different speeds, few enough to read little twice. */
const CHUNKS_PER_THREAD = 8;

/**
 * Cut the log's streams into chunks, in the order of their first events
 * (the index numbers streams so), each of about the same bytes. A log mostly
 * holds sessions one after another (each busy for a while, then done), so a
 * chunk is mostly one stretch of the log, and a thread reads and checks
 * little of the others' stretches: a block of lines is only read by a thread
 * that decodes one of its lines. Where streams interleave over long
 * stretches, chunks would overlap and their blocks be read by every thread
 * that folds one: then fewer, longer chunks are cut (at least one a thread),
 * so that the chunks together span at most about twice the log.
 */
function planChunks(stats: StreamStats, count: number, threads: number): ChunkPlan {
  const { bytes, first, last } = stats;
  let total = 0;
  for (const size of bytes) total += size;
  let plan: ChunkPlan | undefined;
  for (let chunks = threads * CHUNKS_PER_THREAD; plan === undefined; chunks = Math.max(threads, Math.floor(chunks / 2))) {
    const chunkOf = new Int32Array(bytes.length).fill(-1);
    const from = new Int32Array(chunks).fill(0x7fffffff);
    const to = new Int32Array(chunks);
    let sum = 0;
    for (let stream = 0; stream < bytes.length; stream++) {
      const size = bytes[stream]!;
      if (size === 0) continue;
      // A stream joins the chunk its middle byte falls in.
      const chunk = Math.min(chunks - 1, Math.floor(((sum + size / 2) * chunks) / total));
      sum += size;
      chunkOf[stream] = chunk;
      if (first[stream]! < from[chunk]!) from[chunk] = first[stream]!;
      if (last[stream]! > to[chunk]!) to[chunk] = last[stream]!;
    }
    // Chunks no stream fell in are dropped: the others are numbered again, in order.
    const kept = [...to.keys()].filter((chunk) => to[chunk]! > 0);
    const renumber = new Int32Array(chunks).fill(-1);
    kept.forEach((chunk, i) => (renumber[chunk] = i));
    for (let stream = 0; stream < chunkOf.length; stream++) if (chunkOf[stream]! >= 0) chunkOf[stream] = renumber[chunkOf[stream]!]!;
    let span = 0;
    for (const chunk of kept) span += to[chunk]! - from[chunk]! + 1;
    if (span <= 2 * count || chunks === threads) {
      const stop = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
      stop[0] = NO_FAILURE;
      plan = {
        chunkOf,
        from: Int32Array.from(kept, (chunk) => from[chunk]!),
        to: Int32Array.from(kept, (chunk) => to[chunk]!),
        last,
        claims: new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * kept.length)),
        stop,
      };
    }
  }
  return plan;
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
  const options = { resourceLimits: { ...replayWorkerLimits } };
  if (!/\.[cm]?ts$/.test(new URL(here).pathname)) return new WorkerClass(new URL('./parallelReplayWorker.js', here), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./parallelReplayWorker.ts', here).href;
  const source = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new WorkerClass(source, { ...options, eval: true });
}
