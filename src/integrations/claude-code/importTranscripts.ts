// `moai-session import claude-code`: a session rebuilt from its Claude Code
// transcripts (the main file and its subagents'), each file read from where
// the session last read it, so importing again adds nothing and a file that
// grew adds only what is new; then the session's figures, from its own events.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { costOfSpend, type ModelPrice, type TokensByKind } from '../../budget/pricing.js';
import type { Engine } from '../../engine/createEngine.js';
import type { SessionCommand } from '../../engine/commands.js';
import { executeSessionCommand, type SessionHandle } from '../../engine/sessionHandle.js';
import { sessionStream, type StoredEvent } from '../../events/envelope.js';
import { isUnknownSessionError } from '../../errors.js';
import { decide } from '../../engine/decide.js';
import { sessionViewProjection } from '../../projections/sessionView.js';
import type { SessionView } from '../../projections/sessionView.js';
import { isValidId } from '../../validation/ids.js';
import { commandsOfRead, nothingToRead, planTranscriptRead, type TranscriptReadPlan } from './readTranscript.js';
import type { TranscriptDigest, TranscriptFileSpec } from './transcript/digestTranscript.js';
import { forEachDigest } from './transcript/digestTranscripts.js';
import { findSubagentFiles } from './transcript/findSubagentFiles.js';
import { agentIdOfFile, scanTranscriptSync } from './transcript/scanTranscript.js';
import { MAIN_TRANSCRIPT, subagentTranscriptKey, type IntakeFile } from './transcriptIntake.js';

/** The agent a Claude Code session is recorded under. */
export const CLAUDE_CODE_AGENT = 'claude-code';
/** The model a session starts on when its transcript names none yet. */
export const UNKNOWN_MODEL = 'unknown';
/** Claude Code's model for messages it writes itself (no API call). */
const SYNTHETIC_MODEL = '<synthetic>';
/** Anthropic's tool call ids (`toolu_…`): a subagent task named by one was never told its agent id. */
const TOOL_USE_ID_PREFIX = 'toolu_';
/** How many commands one append holds at most: a large file is recorded in several appends, each with its cursor. */
export const COMMANDS_PER_BATCH = 2_000;

/** The four token counts, as the `--json` contract names them. */
export interface ImportTokens {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
}

/** A line that could not be read: where, and why. */
export interface ImportSkippedLine {
  file: string;
  line: number;
  reason: string;
}

/**
 * What `moai-session import claude-code --json` prints for one session: a
 * stable contract. The figures are the session's, from its events (so
 * importing again gives the same ones); `skippedLines` are this run's.
 */
export interface ClaudeCodeImportResult {
  sessionId: string;
  files: string[];
  /** Every API call recorded in the session (main chain and subagents), each once. */
  apiCalls: number;
  tokens: ImportTokens;
  /** What the calls cost at the list prices (or the config's), each at its own model's price. */
  costUsd: number;
  /** The main chain's compactions, in order. */
  compactions: { trigger: string; preTokens: number; at: string }[];
  /** The largest context of a main-chain call (input + cache creation + cache read). */
  peakContextTokens: number;
  /** The context of the last main-chain call. */
  finalContextTokens: number;
  /** The models of the calls, in the order they first appear. */
  models: string[];
  subagents: { agentId: string; apiCalls: number; tokens: ImportTokens }[];
  tasks: { id: string; title: string; state: string }[];
  skippedLines: ImportSkippedLine[];
  /**
   * API calls left out of these figures because their reply may still grow (a
   * file changed in the last minute whose last reply has neither a stop reason
   * nor a later turn end): recorded by the next import. 0 when the figures are final.
   */
  pendingCalls: number;
}

/** Options of {@link importClaudeCodeTranscript}. */
export interface ImportClaudeCodeOptions {
  /** Also import the subagent files beside the main file (default true). */
  subagents?: boolean;
  /** Price overrides (the engine's `settings.prices`). */
  prices?: Readonly<Record<string, ModelPrice>>;
  /** Called as files are read: bytes done of bytes in all files. */
  onProgress?: (done: number, total: number) => void;
  /** The clock that tells a file still being written from one at rest (default `Date.now`). */
  now?: () => number;
}

/**
 * A transcript changed less than this long ago is taken as still being
 * written (Claude Code writes a reply's lines within seconds): what may yet
 * grow there (a split reply whose last line may carry the final output count,
 * a compaction whose summary is the next line, a task call awaiting its
 * result) is left open for the next import instead of being recorded as it
 * stands, since a recorded call is never amended.
 */
export const LIVE_WINDOW_MS = 60_000;

const statOf = (path: string): { size: number; mtimeMs: number } | undefined => {
  try {
    const { size, mtimeMs } = statSync(path);
    return { size, mtimeMs };
  } catch {
    return undefined;
  }
};

const noTokens = (): ImportTokens => ({ input: 0, output: 0, cacheCreation: 0, cacheRead: 0 });

/** The session id and first main-chain model (with `sidechains`, first model) a transcript names (its first lines do), without reading further. */
export function transcriptIdentity(path: string, options: { sidechains?: boolean } = {}): { sessionId: string | undefined; model: string | undefined } {
  let sessionId: string | undefined;
  let model: string | undefined;
  // Small reads: the first lines name both, and a scan decodes every line of a read.
  for (const record of scanTranscriptSync(path, { chunkSize: IDENTITY_CHUNK })) {
    if (record.kind === 'session-info' && sessionId === undefined && record.sessionId !== undefined) sessionId = record.sessionId;
    if (record.kind === 'api-call' && model === undefined && (options.sidechains === true || !record.isSidechain) && record.model !== undefined && record.model !== SYNTHETIC_MODEL) {
      model = record.model;
    }
    if (sessionId !== undefined && model !== undefined) break;
  }
  return { sessionId, model };
}

/** Bytes per read when only a transcript's first lines are wanted. */
const IDENTITY_CHUNK = 16 << 10;
const SESSION_ID_KEY = /"sessionId":"([^"\\]{1,200})"/;

/** The session id a transcript's first lines name: its first `"sessionId"` within the first bytes, else from a scan. */
export function transcriptSessionId(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.allocUnsafe(IDENTITY_CHUNK);
    const text = head.toString('utf8', 0, readSync(fd, head, 0, IDENTITY_CHUNK, 0));
    const found = SESSION_ID_KEY.exec(text)?.[1];
    if (found !== undefined) return found;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return transcriptIdentity(path).sessionId;
}

/** The session id an import gives a transcript: the id its lines name, else its file name's. */
export function sessionIdOfTranscript(path: string, named: string | undefined): string {
  if (named !== undefined && isValidId('session', named)) return named;
  const fromName = basename(path).replace(/\.jsonl$/, '');
  return isValidId('session', fromName) ? fromName : idFromFileName(fromName);
}

/** A file name made into a session id: what the id rule does not allow replaced by `-`. */
function idFromFileName(fromName: string): string {
  return fromName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 100) || 'claude-code-session';
}

/** Call keys (`messageId\0requestId`) of the usage a session has recorded: calls another file repeats are not recorded twice. */
export async function recordedCallKeys(engine: Engine, sessionId: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const event of engine.store.readStream(sessionStream(sessionId))) {
    if (event.type === 'TokenUsageRecorded' && event.data.messageId !== undefined) keys.add(`${event.data.messageId}\u0000${event.data.requestId ?? ''}`);
  }
  return keys;
}

/**
 * Apply the commands of one read: in appends of at most
 * {@link COMMANDS_PER_BATCH}, each a `RunBatch` (all or nothing) whose last
 * command is the cursor's move, so a read cut short is resumed where its last
 * append left it. A command the session refuses (a compaction larger than the
 * context, say) is left out; the others go on.
 */
export async function applyReadCommands(handle: SessionHandle, commands: readonly SessionCommand[], agent = CLAUDE_CODE_AGENT): Promise<readonly StoredEvent[]> {
  if (commands.length === 0) return [];
  const appended: StoredEvent[] = [];
  const cursor = commands[commands.length - 1]!;
  const body = cursor.type === 'RecordTranscriptRead' ? commands.slice(0, -1) : commands;
  for (let at = 0; at < body.length || at === 0; at += COMMANDS_PER_BATCH) {
    const last = at + COMMANDS_PER_BATCH >= body.length;
    const part = body.slice(at, at + COMMANDS_PER_BATCH);
    // Only the last part moves the cursor: a part cut short is read again, and its calls are known by their keys then.
    const batch: SessionCommand[] = last && cursor.type === 'RecordTranscriptRead' ? [...part, cursor] : part;
    if (batch.length > 0) appended.push(...(await executeSessionCommand(handle, { type: 'RunBatch', commands: batch, skipRefused: true }, agent)));
    if (last) break;
  }
  return appended;
}

/**
 * A session of an import: the log's (opened), or one the log does not have
 * yet, started only with what its first read adds, in one append (so a failed
 * import leaves no session without its calls); until then its view is the one
 * its start would give.
 */
interface ImportSession {
  handle: SessionHandle | undefined;
  model: string;
  /** The view of the session not started yet: its start folded on an empty view. */
  scratch: SessionView | undefined;
}

/** The view a session would have once started on `model` (nothing appended). */
function startedView(sessionId: string, model: string): SessionView {
  const command = { type: 'StartSession' as const, sessionId, agent: CLAUDE_CODE_AGENT, model, title: `Claude Code ${sessionId}` };
  let view = sessionViewProjection.initialState();
  for (const body of decide(undefined, command)) {
    view = sessionViewProjection.evolve(view, { type: body.type, data: body.data, id: '', stream: '', version: view.version + 1, position: 0, schemaVersion: 1, meta: { at: '' } } as StoredEvent);
  }
  return view;
}

const viewOf = (session: ImportSession): SessionView => session.handle?.state ?? session.scratch!;

/**
 * Record `commands` (one read's, the cursor's move last) in `session`: an
 * existing one by {@link applyReadCommands}; one not started yet is started
 * with the first append's worth of them, in that same append.
 */
async function recordIn(engine: Engine, sessionId: string, session: ImportSession, commands: readonly SessionCommand[]): Promise<void> {
  if (session.handle !== undefined) {
    await applyReadCommands(session.handle, commands);
    return;
  }
  const first = commands.length <= COMMANDS_PER_BATCH + 1 ? commands : commands.slice(0, COMMANDS_PER_BATCH);
  session.handle = await engine.startSession({
    sessionId,
    agent: CLAUDE_CODE_AGENT,
    model: session.model,
    title: `Claude Code ${sessionId}`,
    ...(first.length === 0 ? {} : { commands: first, skipRefused: true }),
  });
  session.scratch = undefined;
  if (first.length < commands.length) await applyReadCommands(session.handle, commands.slice(first.length));
}

/**
 * Import one session from its main transcript (and, unless `subagents` is
 * false, the subagent files beside it): every API call once, compactions,
 * task tool calls along the task machine's legal paths, subagents as tasks,
 * models. Returns the session's figures.
 */
export async function importClaudeCodeTranscript(engine: Engine, mainPath: string, options: ImportClaudeCodeOptions = {}): Promise<ClaudeCodeImportResult> {
  const [result] = await importClaudeCodeTranscripts(engine, [mainPath], options);
  return result!;
}

/** How many files the reading threads may be ahead of the recording one. */
const READ_AHEAD = 8;
/** How many sessions are recorded at a time (one decided while the appends of the others are written). */
const RECORDING_AHEAD = 4;

/** Options of {@link importClaudeCodeTranscripts}. */
export interface ImportClaudeCodeTranscriptsOptions extends Omit<ImportClaudeCodeOptions, 'onProgress'> {
  /** Called as files are read: bytes read of the bytes to read, and which session of how many is being recorded. */
  onProgress?: (done: number, total: number, session: { index: number; count: number }) => void;
  /** Threads to read on (default: every core when there is enough to read to pay for starting them). */
  threads?: number;
  /**
   * A file that keeps each session's figures from its events, with the view
   * they were worked out at (`import claude-code` keeps it in the state
   * folder's cache): a session with nothing new whose view is still that one
   * gives them from there instead of from reading its events again. A file
   * that cannot be read or written costs only that speed.
   */
  figuresCache?: string;
}

/** One session of an import: its files, and how each is to be read. */
interface SessionPlan {
  sessionId: string;
  session: ImportSession;
  /** Started by this import: its events so far are the ones this import appends. */
  isNew: boolean;
  files: IntakeFile[];
  live: boolean[];
  /** The digest job of each file (an index into the jobs), or -1 when it has nothing new. */
  jobs: number[];
}

/**
 * Import many sessions, one per main transcript, in the order given (the
 * CLI's `import claude-code a.jsonl b.jsonl`, `--all`). The files are read on
 * worker threads while the main thread records the sessions one after
 * another, each as soon as its files are read; a file with nothing new since
 * the last import is not read at all, so importing an unchanged folder again
 * reads only the sessions' logs. Returns each session's figures, in order.
 */
export async function importClaudeCodeTranscripts(
  engine: Engine,
  mainPaths: readonly string[],
  options: ImportClaudeCodeTranscriptsOptions = {},
): Promise<ClaudeCodeImportResult[]> {
  const now = (options.now ?? Date.now)();
  // Each main transcript's session and files.
  const named: { sessionId: string; files: IntakeFile[] }[] = [];
  // A file is read once per import, whichever way it was named (given twice, or a subagent's given and found beside its main one).
  const planned = new Set<string>();
  // The sessions: each opened, or (the log has none yet) planned on the view its start would give, and started
  // later in the append of its first read (see recordIn).
  const sessions = new Map<string, Promise<{ session: ImportSession; isNew: boolean }>>();
  for (const mainPath of mainPaths) {
    if (planned.has(mainPath)) continue;
    const sessionId = sessionIdOfTranscript(mainPath, transcriptSessionId(mainPath));
    // A subagent's own file named on its own (`agent-<id>.jsonl`) is read as that subagent's, in the session its lines name.
    const agentOfPath = agentIdOfFile(mainPath);
    const files: IntakeFile[] = [
      agentOfPath === undefined
        ? { key: MAIN_TRANSCRIPT, path: mainPath, role: 'main' }
        : { key: subagentTranscriptKey(agentOfPath), path: mainPath, role: 'subagent', agentId: agentOfPath },
    ];
    if (options.subagents !== false && agentOfPath === undefined) {
      for (const spec of await findSubagentFiles(mainPath)) {
        const agentId = spec.agentId ?? basename(spec.path, '.jsonl');
        files.push({ key: subagentTranscriptKey(agentId), path: spec.path, role: 'subagent', agentId });
      }
    }
    for (let k = files.length - 1; k >= 0; k--) if (planned.has(files[k]!.path)) files.splice(k, 1);
    for (const file of files) planned.add(file.path);
    if (files.length === 0) continue;
    named.push({ sessionId, files });
    if (sessions.has(sessionId)) continue;
    let session: Promise<{ session: ImportSession; isNew: boolean }>;
    try {
      const handle = await engine.openSession(sessionId);
      session = Promise.resolve({ session: { handle, model: handle.state.session.model, scratch: undefined }, isNew: false });
    } catch (error) {
      if (!isUnknownSessionError(error)) throw error;
      // A subagent's file holds only sidechain calls: its model is the session's first one then.
      const model = transcriptIdentity(mainPath, { sidechains: agentOfPath !== undefined }).model;
      const startModel = model ?? UNKNOWN_MODEL;
      session = Promise.resolve({ session: { handle: undefined, model: startModel, scratch: startedView(sessionId, startModel) }, isNew: true });
    }
    sessions.set(sessionId, session);
  }
  const handles = new Map<string, { session: ImportSession; isNew: boolean }>();
  const outcomes = await Promise.allSettled([...sessions].map(async ([sessionId, session]) => handles.set(sessionId, await session)));
  const refused = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (refused !== undefined) throw refused.reason;

  const plans: SessionPlan[] = [];
  const specs: TranscriptFileSpec[] = [];
  const readPlans: TranscriptReadPlan[] = [];
  const seen = new Set<string>();
  for (const { sessionId, files } of named) {
    const { session, isNew: started } = handles.get(sessionId)!;
    // Only the first of a session's plans starts on what this import started: a later one reads what the first recorded.
    const isNew = started && !seen.has(sessionId);
    seen.add(sessionId);
    const plan: SessionPlan = { sessionId, session, isNew, files, live: [], jobs: [] };
    for (const file of files) {
      const info = statOf(file.path);
      // A file at rest is read to its end; one still being written keeps what may yet grow (a reply's last line) for the next import.
      const live = info !== undefined && now - info.mtimeMs < LIVE_WINDOW_MS;
      plan.live.push(live);
      const read = planTranscriptRead(viewOf(session), file, { flush: !live });
      if (nothingToRead(read)) {
        plan.jobs.push(-1);
        continue;
      }
      plan.jobs.push(specs.length);
      const spec: TranscriptFileSpec = { path: file.path, role: file.role, everyLine: true, size: Math.max(0, (read.size ?? 0) - (read.cursor?.offset ?? 0)) };
      if (read.scan.agentId !== undefined) spec.agentId = read.scan.agentId;
      if (read.scan.from !== undefined) spec.from = read.scan.from;
      specs.push(spec);
      readPlans.push(read);
    }
    plans.push(plan);
  }

  // The reads, on every core; each session is recorded once all its files are read.
  const total = specs.reduce((sum, spec) => sum + (spec.size ?? 0), 0);
  let bytesDone = 0;
  let recording = 0;
  const digests: (TranscriptDigest | undefined)[] = specs.map(() => undefined);
  // The sessions being recorded wait for their files' digests: each one read wakes them all.
  let waiting: (() => void)[] = [];
  const wake = (): void => {
    const woken = waiting;
    waiting = [];
    for (const go of woken) go();
  };
  let readError: unknown;
  let readsDone = false;
  // The workers read while this thread records (it reads only when there is too little to start a worker for),
  // at most READ_AHEAD files ahead of it, so that memory holds only a few files' records whatever their number.
  let consumed = 0;
  const turns: { index: number; go: () => void }[] = [];
  const gate = (index: number): Promise<void> =>
    index < consumed + READ_AHEAD ? Promise.resolve() : new Promise<void>((go) => turns.push({ index, go }));
  const advance = (): void => {
    consumed++;
    for (let k = turns.length - 1; k >= 0; k--) {
      if (turns[k]!.index < consumed + READ_AHEAD) {
        turns[k]!.go();
        turns.splice(k, 1);
      }
    }
  };
  const readOptions = { callerReads: false, gate, ...(options.threads === undefined ? {} : { threads: options.threads }) };
  const reading = forEachDigest(specs, specs.map((_, index) => index), readOptions, (index, digest) => {
    digests[index] = digest;
    bytesDone += specs[index]!.size ?? 0;
    options.onProgress?.(bytesDone, total, { index: recording, count: plans.length });
    wake();
  }).then(
    () => {
      readsDone = true;
      wake();
    },
    (error: unknown) => {
      readError = error;
      readsDone = true;
      wake();
    },
  );
  const digestOf = async (job: number): Promise<TranscriptDigest> => {
    for (;;) {
      const digest = digests[job];
      if (digest !== undefined) {
        digests[job] = undefined;
        advance();
        return digest;
      }
      if (readError !== undefined) throw readError;
      if (readsDone) throw new Error(`The transcript ${specs[job]!.path} was not read.`);
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };

  const cache = options.figuresCache === undefined ? undefined : await loadFiguresCache(options.figuresCache);
  const extraOf = (plan: SessionPlan, skipped: ImportSkippedLine[]): FiguresExtra => ({
    files: plan.files.map((file) => file.path),
    skippedLines: skipped,
    ...(options.prices === undefined ? {} : { prices: options.prices }),
  });

  /** One session recorded: each of its files from where the session last read it, then its figures. */
  const record = async (plan: SessionPlan): Promise<ClaudeCodeImportResult> => {
    const { session } = plan;
    // Nothing to read, and the view the cached figures were worked out at: those figures.
    const cached = session.handle === undefined ? undefined : cache?.entries[plan.sessionId];
    if (cached !== undefined && plan.jobs.every((job) => job < 0) && cached.stamp === viewStamp(session.handle!.state)) {
      return figuresOfView(cached.figures, session.handle!.state, extraOf(plan, []));
    }
    // An existing session's events: the calls it recorded (a file read from its start is checked against them) and its figures.
    const before = plan.isNew ? [] : await readSession(engine, plan.sessionId);
    const keys = new Set<string>();
    for (const event of before) {
      if (event.type === 'TokenUsageRecorded' && event.data.messageId !== undefined) keys.add(`${event.data.messageId}\u0000${event.data.requestId ?? ''}`);
    }
    const appended: StoredEvent[] = [];
    const skipped: ImportSkippedLine[] = [];
    for (const [place, file] of plan.files.entries()) {
      const job = plan.jobs[place]!;
      if (job < 0) continue;
      const digest = await digestOf(job);
      // Planned against the view before the files read ahead of this one were recorded: planned again on the view now (the same cursor: no other writer moves it).
      const read = planTranscriptRead(viewOf(session), file, { flush: !plan.live[place]!, recordedKeys: keys });
      const result = commandsOfRead(viewOf(session), { ...read, scan: readPlans[job]!.scan }, digest.records);
      for (const line of result.skipped) skipped.push({ file: line.file, line: line.line, reason: line.reason });
      if (session.handle === undefined) await recordIn(engine, plan.sessionId, session, result.commands);
      else appended.push(...(await applyReadCommands(session.handle, result.commands)));
    }
    // A session with nothing to read is still started (its start alone).
    if (session.handle === undefined) await recordIn(engine, plan.sessionId, session, []);
    const handle = session.handle!;
    // A session this import started: its events are the log's (its first read went in with its start).
    const figures = eventFigures(plan.isNew ? await readSession(engine, plan.sessionId) : [...before, ...appended]);
    if (cache !== undefined) {
      cache.entries[plan.sessionId] = { stamp: viewStamp(handle.state), figures };
      cache.changed = true;
    }
    return figuresOfView(figures, handle.state, extraOf(plan, skipped));
  };

  // Several sessions at a time: one is decided while the appends of those before it are written, so that their
  // appends share the log's writes (and its fdatasyncs) instead of each waiting for the one before. A session's
  // plans run one after another; the first failure stops new ones, and is thrown once those under way are done.
  const results: ClaudeCodeImportResult[] = [];
  const running = new Set<Promise<void>>();
  const lastOf = new Map<string, Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    for (const [index, plan] of plans.entries()) {
      while (running.size >= RECORDING_AHEAD && failure === undefined) await Promise.race(running);
      if (failure !== undefined) break;
      recording = index;
      const previous = lastOf.get(plan.sessionId);
      const task: Promise<void> = (async () => {
        if (previous !== undefined) await previous;
        results[index] = await record(plan);
      })().then(
        () => {
          running.delete(task);
        },
        (error: unknown) => {
          running.delete(task);
          failure ??= { error };
        },
      );
      running.add(task);
      lastOf.set(plan.sessionId, task);
    }
    await Promise.all(running);
    if (failure !== undefined) throw failure.error;
    if (cache?.changed === true) await saveFiguresCache(options.figuresCache!, cache.entries);
  } finally {
    // A failure above leaves files unread: let the workers go on to the end (nothing waits for them), then finish.
    consumed = Number.POSITIVE_INFINITY;
    for (const turn of turns.splice(0)) turn.go();
    await Promise.all(running);
    await reading;
  }
  return results;
}

/** A session's events, in order. */
export async function readSession(engine: Engine, sessionId: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of engine.store.readStream(sessionStream(sessionId))) events.push(event);
  return events;
}

/** The figures of a session that its events give (those its view gives are added by {@link figuresOfView}). */
export interface EventFigures {
  apiCalls: number;
  tokens: ImportTokens;
  /** The tokens by the model of each call, what the cost is worked out from. */
  byModel: Record<string, TokensByKind>;
  compactions: ClaudeCodeImportResult['compactions'];
  peakContextTokens: number;
  finalContextTokens: number;
  models: string[];
  /** The subagents that made calls, by agent id in the order they first did. */
  subagents: ClaudeCodeImportResult['subagents'];
}

/** What {@link sessionFigures} adds to a session's figures besides its events and view. */
interface FiguresExtra {
  files: string[];
  skippedLines: ImportSkippedLine[];
  prices?: Readonly<Record<string, ModelPrice>>;
}

/**
 * The figures of a session as `import claude-code --json` prints them,
 * worked out from its events (usage, compactions) and view (tasks): the same
 * whether the session came from an import, from hooks, or from both.
 */
export function sessionFigures(events: readonly StoredEvent[], view: SessionView, extra: FiguresExtra): ClaudeCodeImportResult {
  return figuresOfView(eventFigures(events), view, extra);
}

/** The figures a session's events give: its calls (each at its model), compactions, context peaks, models, subagents. */
export function eventFigures(events: readonly StoredEvent[]): EventFigures {
  const tokens = noTokens();
  const byModel: Record<string, TokensByKind> = {};
  const models: string[] = [];
  const subagents = new Map<string, { agentId: string; apiCalls: number; tokens: ImportTokens }>();
  const compactions: ClaudeCodeImportResult['compactions'] = [];
  let apiCalls = 0;
  let peak = 0;
  let final = 0;
  for (const event of events) {
    if (event.type === 'TokenUsageRecorded') {
      const u = event.data;
      apiCalls++;
      tokens.input += u.inputTokens;
      tokens.output += u.outputTokens;
      tokens.cacheCreation += u.cacheCreationInputTokens;
      tokens.cacheRead += u.cacheReadInputTokens;
      const model = (byModel[u.model] ??= { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });
      model.inputTokens += u.inputTokens;
      model.outputTokens += u.outputTokens;
      model.cacheCreationInputTokens += u.cacheCreationInputTokens;
      model.cacheReadInputTokens += u.cacheReadInputTokens;
      if (!models.includes(u.model)) models.push(u.model);
      if (u.main) {
        final = u.inputTokens + u.cacheCreationInputTokens + u.cacheReadInputTokens;
        peak = Math.max(peak, final);
      } else {
        const agentId = u.agentId ?? 'unknown';
        const agent = subagents.get(agentId) ?? { agentId, apiCalls: 0, tokens: noTokens() };
        agent.apiCalls++;
        agent.tokens.input += u.inputTokens;
        agent.tokens.output += u.outputTokens;
        agent.tokens.cacheCreation += u.cacheCreationInputTokens;
        agent.tokens.cacheRead += u.cacheReadInputTokens;
        subagents.set(agentId, agent);
      }
    } else if (event.type === 'ContextCompacted') {
      compactions.push({ trigger: event.data.trigger ?? 'unknown', preTokens: event.data.tokensBefore, at: event.data.at ?? event.meta.at });
    }
  }
  return { apiCalls, tokens, byModel, compactions, peakContextTokens: peak, finalContextTokens: final, models, subagents: [...subagents.values()] };
}

/** A session's figures: those of its events, its tasks (and the subagents they name) from its view, the cost at the prices. */
function figuresOfView(figures: EventFigures, view: SessionView, extra: FiguresExtra): ClaudeCodeImportResult {
  const subagents = new Map(figures.subagents.map((agent) => [agent.agentId, agent]));
  const tasks: ClaudeCodeImportResult['tasks'] = [];
  for (const id of view.tasks.order.toArray()) {
    const task = view.tasks.byId.get(id)!;
    tasks.push({ id, title: task.title, state: task.state });
    // A subagent that made no call of its own here (its file absent, or not imported) is still one of the session's;
    // a launch refused before it ran (its result an error that names no agent, so its task is known by the tool call's id) is none.
    if (id.startsWith('agent-') && task.assignee !== undefined && !task.assignee.startsWith(TOOL_USE_ID_PREFIX) && !subagents.has(task.assignee)) {
      subagents.set(task.assignee, { agentId: task.assignee, apiCalls: 0, tokens: noTokens() });
    }
  }
  return {
    sessionId: view.session.sessionId,
    files: extra.files,
    apiCalls: figures.apiCalls,
    tokens: { ...figures.tokens },
    costUsd: costOfSpend(figures.byModel, extra.prices).usd,
    compactions: figures.compactions.map((compaction) => ({ ...compaction })),
    peakContextTokens: figures.peakContextTokens,
    finalContextTokens: figures.finalContextTokens,
    models: [...figures.models],
    subagents: [...subagents.values()]
      .map((agent) => ({ agentId: agent.agentId, apiCalls: agent.apiCalls, tokens: { ...agent.tokens } }))
      .sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0)),
    tasks,
    skippedLines: extra.skippedLines,
    pendingCalls: Object.values(view.ingest.transcripts).reduce((sum, cursor) => sum + cursor.open.filter((item) => item.kind === 'call').length, 0),
  };
}

/** What a session's view was when its figures were cached: its version, position and time (any event appended since changes them). */
const viewStamp = (view: SessionView): string => `${view.version}:${view.position}:${view.updatedAt}`;

/** The cached figures of each session, by session id. */
interface FiguresCache {
  entries: Record<string, { stamp: string; figures: EventFigures }>;
  changed: boolean;
}

/** What the cache file holds: its version, and the entries. */
const FIGURES_CACHE_VERSION = 1;

/** The figures cache at `path`: empty when there is none, or one that cannot be read or is not of this version. */
async function loadFiguresCache(path: string): Promise<FiguresCache> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as { version?: unknown; entries?: unknown };
    if (json.version === FIGURES_CACHE_VERSION && typeof json.entries === 'object' && json.entries !== null) {
      const entries: FiguresCache['entries'] = {};
      for (const [sessionId, entry] of Object.entries(json.entries as Record<string, { stamp?: unknown; figures?: unknown }>)) {
        if (typeof entry?.stamp === 'string' && isEventFigures(entry.figures)) entries[sessionId] = { stamp: entry.stamp, figures: entry.figures };
      }
      return { entries, changed: false };
    }
  } catch {
    // No cache yet, or one that cannot be read: every session's events are read.
  }
  return { entries: {}, changed: false };
}

const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;
const isTokens = (value: unknown): boolean => {
  const t = value as Partial<ImportTokens> | null;
  return typeof t === 'object' && t !== null && isCount(t.input) && isCount(t.output) && isCount(t.cacheCreation) && isCount(t.cacheRead);
};

/** The shape of {@link EventFigures}, checked before a cached entry is used. */
function isEventFigures(value: unknown): value is EventFigures {
  const f = value as Partial<EventFigures> | null;
  return (
    typeof f === 'object' &&
    f !== null &&
    isCount(f.apiCalls) &&
    isTokens(f.tokens) &&
    typeof f.byModel === 'object' &&
    f.byModel !== null &&
    Object.values(f.byModel).every(
      (m: Partial<TokensByKind> | null) =>
        typeof m === 'object' && m !== null && isCount(m.inputTokens) && isCount(m.outputTokens) && isCount(m.cacheCreationInputTokens) && isCount(m.cacheReadInputTokens),
    ) &&
    Array.isArray(f.compactions) &&
    isCount(f.peakContextTokens) &&
    isCount(f.finalContextTokens) &&
    Array.isArray(f.models) &&
    f.models.every((model) => typeof model === 'string') &&
    Array.isArray(f.subagents) &&
    f.subagents.every((agent) => typeof agent?.agentId === 'string' && isCount(agent.apiCalls) && isTokens(agent.tokens))
  );
}

/** Write the figures cache (a new file renamed over the old one); a failure costs only the next import's speed. */
async function saveFiguresCache(path: string, entries: FiguresCache['entries']): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, JSON.stringify({ version: FIGURES_CACHE_VERSION, entries }));
    await rename(temp, path);
  } catch {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}
