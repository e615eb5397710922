import { resolve } from 'node:path';
import { digestTranscripts, forEachDigest, type DigestTranscriptsOptions } from './digestTranscripts.js';
import type { TranscriptDigest, TranscriptFileSpec } from './digestTranscript.js';
import { findSubagentFiles, sizeOf } from './findSubagentFiles.js';
import { agentIdOfFile } from './scanTranscript.js';
import { summariseDigests, type TranscriptSummary } from './summariseDigests.js';
import type { TranscriptCheckpoint } from './types.js';

/** Options of {@link summariseTranscripts} and {@link summariseTranscriptSessions}. */
export interface SummariseTranscriptsOptions {
  /** Find and read the subagent files beside each main transcript (default true; `--no-subagents` sets false). */
  subagents?: boolean;
  /** Threads to read on, the calling one included (default: every core, for files large enough to pay for it). */
  threads?: number;
  /** Checkpoints of an earlier import, by file path: those files are read only from there (what was appended since). */
  from?: ReadonlyMap<string, TranscriptCheckpoint>;
  /** Called as each file is read (for a progress bar). */
  onFile?: DigestTranscriptsOptions['onFile'];
}

/**
 * Read one session's transcripts (the main file, and its subagent files,
 * found beside it unless `subagents` is false) and sum them up: API calls
 * and tokens over every file, each call once; the main chain's compactions
 * and context; models; subagents; tasks; skipped lines. A path named
 * `agent-<id>.jsonl` is taken as a subagent's, any other as a main transcript.
 *
 * @example
 * const summary = await summariseTranscripts(['/home/me/.claude/projects/-p/0b1c.jsonl']);
 * console.log(summary.apiCalls, summary.tokens.output, summary.peakContextTokens);
 */
export async function summariseTranscripts(
  files: readonly (string | TranscriptFileSpec)[],
  options: SummariseTranscriptsOptions = {},
): Promise<TranscriptSummary> {
  const specs = await sessionFiles(files, options);
  return summariseDigests(await digestTranscripts(specs, threadsOf(options)));
}

/**
 * {@link summariseTranscripts} for many sessions at once (`import --all`):
 * one summary per main transcript, in the order given, every file of every
 * session read in one pool of threads. Each session is summed up as soon as
 * its files are read and their digests dropped, so memory does not grow with
 * the number of sessions.
 */
export async function summariseTranscriptSessions(mainFiles: readonly string[], options: SummariseTranscriptsOptions = {}): Promise<TranscriptSummary[]> {
  const sessions = await Promise.all(mainFiles.map((file) => sessionFiles([file], options)));
  const specs = sessions.flat();
  // Which session each file is of, and where in its session.
  const sessionOf: number[] = [];
  const placeOf: number[] = [];
  sessions.forEach((files, session) => files.forEach((_, place) => (sessionOf.push(session), placeOf.push(place))));
  const slots: (TranscriptDigest | undefined)[][] = sessions.map((files) => files.map(() => undefined));
  const left = sessions.map((files) => files.length);
  const summaries: (TranscriptSummary | undefined)[] = sessions.map(() => undefined);
  const summarise = (session: number): void => {
    summaries[session] = summariseDigests(slots[session] as TranscriptDigest[]);
    slots[session] = [];
  };
  sessions.forEach((files, session) => files.length === 0 && summarise(session));
  // In the order given, so sessions finish (and are dropped) one after another.
  const order = specs.map((_, index) => index);
  await forEachDigest(specs, order, threadsOf(options), (index, digest) => {
    const session = sessionOf[index]!;
    slots[session]![placeOf[index]!] = digest;
    if (--left[session]! === 0) summarise(session);
  });
  return summaries as TranscriptSummary[];
}

const threadsOf = (options: SummariseTranscriptsOptions): DigestTranscriptsOptions => ({
  ...(options.threads === undefined ? {} : { threads: options.threads }),
  ...(options.onFile === undefined ? {} : { onFile: options.onFile }),
});

/** The files of one import: those given, then the subagent files beside each main one; main files first, sizes known. */
async function sessionFiles(files: readonly (string | TranscriptFileSpec)[], options: SummariseTranscriptsOptions): Promise<TranscriptFileSpec[]> {
  const specs = new Map<string, TranscriptFileSpec>();
  for (const file of files) {
    const spec: TranscriptFileSpec = typeof file === 'string' ? specOf(file) : { ...file, path: resolve(file.path) };
    specs.set(spec.path, spec);
  }
  if (options.subagents !== false) {
    for (const main of [...specs.values()].filter((spec) => spec.role === 'main')) {
      for (const spec of await findSubagentFiles(main.path)) if (!specs.has(spec.path)) specs.set(spec.path, spec);
    }
  }
  // The main transcripts first: their records come before their subagents' in the summary.
  const ordered = [...specs.values()].sort((a, b) => Number(a.role === 'subagent') - Number(b.role === 'subagent'));
  for (const spec of ordered) {
    spec.size ??= await sizeOf(spec.path);
    const from = options.from?.get(spec.path);
    if (from !== undefined && spec.from === undefined) spec.from = from;
  }
  return ordered;
}

function specOf(file: string): TranscriptFileSpec {
  const path = resolve(file);
  const agentId = agentIdOfFile(path);
  return agentId === undefined ? { path, role: 'main' } : { path, role: 'subagent', agentId };
}
