// Digests many files on every core: the calling thread works through the
// list too, while worker threads take files from the same queue (largest
// first, so the last file to finish is a small one).

import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { digestTranscriptSync, type TranscriptDigest, type TranscriptFileSpec } from './digestTranscript.js';
import type { DigestAnswer, DigestJob } from './digestWorker.js';

/** Options of {@link digestTranscripts}. */
export interface DigestTranscriptsOptions {
  /**
   * Threads to use, the calling one included. Default: every idle core (see
   * {@link idleCores}), when the files are large enough to pay for starting a
   * worker (a few tens of ms).
   */
  threads?: number;
  /**
   * Called before each file is handed to a worker; the file waits until the
   * promise settles. A caller that uses digests more slowly than the workers
   * make them holds the workers back this way, so that memory holds only a
   * few digests not yet used.
   */
  gate?: (index: number) => Promise<void>;
  /** False: the calling thread reads no file itself while there are workers (it has other work: an import records sessions meanwhile). Default true. */
  callerReads?: boolean;
  /** Called as each file is read (for a progress bar): its index in `specs`, and the thread that read it (0: the calling one). */
  onFile?: (file: { index: number; spec: TranscriptFileSpec; thread: number }) => void;
}

/**
 * The cores not busy with other work (every core less the last minute's
 * load, at least one): on a machine others keep busy, a second thread only
 * adds its start-up and contends for the same core (measured: on 2 cores at
 * load 28, 130 MB read in 0.9-1.4 s on one thread against 1.4-2.6 s on two).
 */
export function idleCores(): number {
  const cores = availableParallelism();
  return Math.max(1, Math.min(cores, Math.round(cores - loadavg()[0]!)));
}

/** Below this many bytes in all, the files are read on the calling thread alone: a worker would start slower than they are read. */
const WORKER_THRESHOLD = 8 << 20;
/** Files a worker holds at once, so it never waits for the calling thread (busy reading a file) to send the next. */
const WORKER_QUEUE = 2;

/** Digest every file, in parallel when it pays; the result is in the order of `specs`. A file that cannot be read rejects the whole call. */
export async function digestTranscripts(specs: readonly TranscriptFileSpec[], options: DigestTranscriptsOptions = {}): Promise<TranscriptDigest[]> {
  const results: (TranscriptDigest | undefined)[] = specs.map(() => undefined);
  // Largest first: the last file to finish is then a small one.
  const order = specs.map((_, index) => index).sort((a, b) => (specs[b]!.size ?? 0) - (specs[a]!.size ?? 0));
  await forEachDigest(specs, order, options, (index, digest) => (results[index] = digest));
  return results as TranscriptDigest[];
}

/**
 * Digest the files in `order` (indexes into `specs`), handing each digest to
 * `sink` as it is done (in no set order), so that a caller can use and drop
 * it: memory then holds only the digests not yet used.
 */
export async function forEachDigest(
  specs: readonly TranscriptFileSpec[],
  order: readonly number[],
  options: DigestTranscriptsOptions,
  sink: (index: number, digest: TranscriptDigest) => void,
): Promise<void> {
  const total = specs.reduce((sum, spec) => sum + (spec.size ?? 0), 0);
  const threads = Math.max(1, Math.min(specs.length + (options.callerReads === false ? 1 : 0), options.threads ?? (total >= WORKER_THRESHOLD ? idleCores() + (options.callerReads === false ? 1 : 0) : 1)));
  const onFile = options.onFile;
  const seen = new Set<number>();
  const done = (index: number, thread: number, digest: TranscriptDigest): void => {
    seen.add(index);
    onFile?.({ index, spec: specs[index]!, thread });
    sink(index, digest);
  };
  const queue = [...order];
  if (threads === 1) {
    for (const index of queue) done(index, 0, digestTranscriptSync(specs[index]!));
    return;
  }
  let failure: Error | undefined;
  const workers: Promise<void>[] = [];
  for (let n = 1; n < threads; n++) {
    workers.push(runWorker(specs, queue, (index, digest) => done(index, n, digest), (error) => (failure ??= error), options.gate));
  }
  // The calling thread takes files too (unless told not to), yielding between them so the workers' answers are taken in.
  for (let index = options.callerReads === false ? undefined : queue.shift(); index !== undefined && failure === undefined; index = queue.shift()) {
    done(index, 0, digestTranscriptSync(specs[index]!));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await Promise.all(workers);
  if (failure !== undefined) throw failure;
  // A worker that could not start handed its files back; any still unread are read here.
  for (const index of order) if (!seen.has(index)) done(index, 0, digestTranscriptSync(specs[index]!));
}

/** One worker: takes files from the shared queue until it is empty; resolves when the worker is done (or could not run). */
function runWorker(
  specs: readonly TranscriptFileSpec[],
  queue: number[],
  read: (index: number, digest: TranscriptDigest) => void,
  fail: (error: Error) => void,
  gate: ((index: number) => Promise<void>) | undefined,
): Promise<void> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = startWorker();
    } catch {
      resolve();
      return;
    }
    const held = new Set<number>();
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      void worker.terminate();
      resolve();
    };
    let feeding = false;
    const feed = (): void => {
      if (gate === undefined) {
        while (held.size < WORKER_QUEUE) {
          const index = queue.shift();
          if (index === undefined) break;
          held.add(index);
          const job: DigestJob = { index, spec: specs[index]! };
          worker.postMessage(job);
        }
        if (held.size === 0) finish();
        return;
      }
      // With a gate: each file waits for its turn before it is handed over.
      if (feeding || finished) return;
      feeding = true;
      void (async () => {
        while (held.size < WORKER_QUEUE && !finished) {
          const index = queue[0];
          if (index === undefined) break;
          await gate(index);
          // Another worker may have taken it meanwhile.
          if (finished || queue[0] !== index) continue;
          queue.shift();
          held.add(index);
          const job: DigestJob = { index, spec: specs[index]! };
          worker.postMessage(job);
        }
        feeding = false;
        if (held.size === 0) finish();
      })();
    };
    worker.on('message', (answer: DigestAnswer) => {
      held.delete(answer.index);
      if ('error' in answer) {
        const error = Object.assign(new Error(answer.error.message), answer.error.code === undefined ? {} : { code: answer.error.code });
        fail(error);
        queue.length = 0;
      } else {
        read(answer.index, { spec: specs[answer.index]!, records: JSON.parse(answer.recordsJson) as TranscriptDigest['records'] });
      }
      feed();
    });
    const handBack = (): void => {
      // The worker could not load, crashed or exited: its files go back to the queue for the calling thread.
      queue.unshift(...held);
      held.clear();
      finish();
    };
    worker.on('error', handBack);
    worker.on('exit', handBack);
    feed();
  });
}

/**
 * A worker running digestWorker: the compiled .js; or, when this module runs
 * from its TypeScript sources (the tests, the bench under tsx), the .ts,
 * after the worker registers the tsx loader (loaders given to a worker with
 * --import do not reach it).
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!/\.[cm]?ts$/.test(new URL(here).pathname)) return new Worker(new URL('./digestWorker.js', here));
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./digestWorker.ts', here).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`, { eval: true });
}
