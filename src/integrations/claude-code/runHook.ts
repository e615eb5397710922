// `moai-session hook`: one Claude Code hook payload in, what it means
// appended. The payload goes to the spool first; then the run takes the
// writer lock (a short wait) and applies the whole spool in order, its own
// payload among them; a run that cannot get the lock leaves its payload
// there for the next. It never fails Claude Code: every own problem goes to
// `<dir>/logs/hook.log` and the run still ends well.

import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createEngine, type Engine } from '../../engine/createEngine.js';
import type { SessionCommand } from '../../engine/commands.js';
import { executeSessionCommand, type SessionHandle } from '../../engine/sessionHandle.js';
import type { EngineSettings } from '../../engine/settings.js';
import type { SessionView } from '../../projections/sessionView.js';
import { sessionStream } from '../../events/envelope.js';
import { isCorruptLogError, isLogLockedError, isStorageError, StoreClosedError } from '../../errors.js';
import { isValidId } from '../../validation/ids.js';
import { sessionContextText } from '../../context/sessionContext.js';
import { writeHookLog, type HookLogLevel } from './hookLog.js';
import { recordsNothing, ruleOf, type HookPlan } from './hookMapping.js';
import { payloadOf, parseHookPayload, HookInputError, type HookPayload } from './hookPayload.js';
import { listSpool, readSpoolEntry, removeSpoolEntry, setSpoolEntryAside, spoolPayload } from './hookSpool.js';
import { commandsOfRead, nothingToRead, planTranscriptRead } from './readTranscript.js';
import { scanTranscriptSync } from './transcript/scanTranscript.js';
import { MAIN_TRANSCRIPT, subagentTranscriptKey } from './transcriptIntake.js';

/** The agent Claude Code sessions are recorded under. */
export const CLAUDE_CODE_AGENT = 'claude-code';
/** The model a session starts on when neither the payload nor the transcript names one yet. */
const UNKNOWN_MODEL = 'unknown';
/** How long a hook waits for another writer's lock before it leaves its payload in the spool, in ms. */
export const HOOK_LOCK_WAIT_MS = 300;

/**
 * How many transcript bytes one hook run reads at most (8 MiB, a few seconds
 * even under load): a longer read (the first of a long transcript) records
 * that part and its cursor, and the next runs go on from there.
 */
export const HOOK_READ_BYTES = 8 * 1024 * 1024;

/** What is left of this run's transcript bytes ({@link RunHookOptions.maxReadBytes}). */
let readBudget = HOOK_READ_BYTES;

/** Options of {@link runHook}. */
export interface RunHookOptions {
  /** The state folder as given (`--dir`); else `$CLAUDE_PROJECT_DIR/.moai`, else the payload's `cwd`, else `cwd`'s. */
  dir?: string;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Only apply what waits in the spool (no payload on standard input). */
  drain?: boolean;
  /** The most transcript bytes one run reads, over all its payloads (default {@link HOOK_READ_BYTES}; a `--drain` run: no bound). */
  maxReadBytes?: number;
  /** How long to wait for the writer lock; {@link HOOK_LOCK_WAIT_MS} by default (`--drain`: the config's wait). */
  lockWaitMs?: number;
  /** The clock (tests). */
  clock?: () => Date;
}

/** What one hook run did. */
export interface HookRunResult {
  /** What to print on standard output: the SessionStart context as Claude Code's JSON, or nothing. */
  stdout: string;
  /** The state folder used. */
  dir: string;
  /** Payloads applied from the spool by this run (its own among them when it got the lock). */
  applied: number;
  /** True when the lock stayed busy: the payload waits in the spool. */
  spooled: boolean;
}

/** The state folder of a hook run (see {@link RunHookOptions.dir}). */
export function hookStateFolder(options: Pick<RunHookOptions, 'dir' | 'cwd' | 'env'>, payloadCwd?: string): string {
  if (options.dir !== undefined) return resolve(options.cwd, options.dir);
  const project = options.env.CLAUDE_PROJECT_DIR;
  if (project !== undefined && project !== '') return resolve(project, '.moai');
  return resolve(payloadCwd ?? options.cwd, '.moai');
}

/**
 * Run the hook on one payload's text (or, with `drain`, on the spool only).
 * Never throws: a problem is logged to the hook log and the result says
 * what was done.
 */
export async function runHook(text: string, options: RunHookOptions): Promise<HookRunResult> {
  let payload: HookPayload | undefined;
  let parseProblem: string | undefined;
  if (options.drain !== true) {
    try {
      payload = parseHookPayload(text);
    } catch (error) {
      parseProblem = error instanceof HookInputError ? error.message : String(error);
    }
  }
  readBudget = options.maxReadBytes ?? (options.drain === true ? Infinity : HOOK_READ_BYTES);
  const dir = hookStateFolder(options, payload?.cwd);
  const result: HookRunResult = { stdout: '', dir, applied: 0, spooled: false };
  const log = (level: HookLogLevel, message: string, about?: HookPayload): void =>
    writeHookLog(dir, { level, message, ...(about?.event ? { event: about.event } : {}), ...(about?.sessionId ? { session: about.sessionId } : {}) });
  if (parseProblem !== undefined) {
    log('error', `${parseProblem}: nothing recorded`);
    return result;
  }
  // An event that records nothing, with nothing waiting in the spool: done, without opening the log.
  if (payload !== undefined && recordsNothing(ruleOf(payload.event)) && listSpool(dir).length === 0) return result;
  try {
    let own: string | undefined;
    if (payload !== undefined) own = spoolPayload(dir, payload.raw, options.clock?.() ?? new Date());
    const outcome = await drainSpool(dir, options, own, log);
    result.applied = outcome.applied;
    if (outcome.context !== undefined) result.stdout = outcome.context;
    if (outcome.locked) {
      result.spooled = true;
      if (payload?.event === 'SessionStart') result.stdout = (await contextReadOnly(dir, payload, log)) ?? '';
    }
    // A payload spooled by a run that found the lock held by this one is applied now, not at the next event.
    for (let round = 0; round < 3 && !outcome.locked && listSpool(dir).length > 0; round++) {
      const again = await drainSpool(dir, { ...options, lockWaitMs: 0 }, undefined, log);
      result.applied += again.applied;
      if (again.locked) break;
    }
  } catch (error) {
    log('error', `the hook failed: ${(error as Error)?.stack ?? String(error)}`, payload);
  }
  return result;
}

/** What one drain did. */
interface DrainOutcome {
  applied: number;
  locked: boolean;
  /** The Claude Code JSON output for the run's own payload, when it asks for one. */
  context?: string;
}

/** Take the lock and apply every spool entry in order; `own` is the run's own entry (its output is kept). */
async function drainSpool(dir: string, options: RunHookOptions, own: string | undefined, log: (level: HookLogLevel, message: string, about?: HookPayload) => void): Promise<DrainOutcome> {
  const outcome: DrainOutcome = { applied: 0, locked: false };
  let engine: Engine;
  try {
    const lockWaitMs = options.lockWaitMs ?? (options.drain === true ? undefined : HOOK_LOCK_WAIT_MS);
    engine = await createEngine({
      dir,
      memoryFiles: false,
      ...(lockWaitMs === undefined ? {} : { lockWaitMs }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      onWarning: (warning) => {
        // A session started before any call named its model has no window yet: expected, not worth a line.
        if (warning.code === 'NO_CONTEXT_WINDOW' && warning.message.includes(`model ${UNKNOWN_MODEL},`)) return;
        log('warn', `${warning.code}: ${warning.message}`);
      },
    });
  } catch (error) {
    if (isLogLockedError(error)) {
      outcome.locked = true;
      return outcome;
    }
    throw error;
  }
  try {
    for (const name of listSpool(dir)) {
      const entry = readSpoolEntry(dir, name);
      if (entry === undefined) {
        if (existsSync(join(dir, 'spool', 'claude-code', name))) {
          log('error', `spool entry ${name} is not a payload: set aside in spool/claude-code/failed`);
          setSpoolEntryAside(dir, name);
        }
        continue;
      }
      const payload = payloadOf(entry.payload);
      try {
        const context = await applyPayload(engine, dir, payload, log);
        if (name === own && context !== undefined) outcome.context = context;
      } catch (error) {
        if (spoolFailureOf(error) === 'retry') {
          // The store, not the payload: it stays for the next run, and so do those after it (the spool is applied in order).
          log('error', `could not apply the spooled payload ${name} (${(error as Error).message}); it stays in the spool`, payload);
          break;
        }
        log('error', `could not apply the payload (${(error as Error)?.stack ?? String(error)}); set aside as spool/claude-code/failed/${name}`, payload);
        setSpoolEntryAside(dir, name);
        outcome.applied++;
        continue;
      }
      removeSpoolEntry(dir, name);
      outcome.applied++;
    }
  } finally {
    await engine.close();
  }
  return outcome;
}

/** SQLSTATE classes of a store refusing the data itself: 22 (data exception: a value it cannot hold), 54 (program limit exceeded: too large). */
const DATA_REFUSED = /^(22|54)[0-9A-Z]{3}$/;

/**
 * What to do with a spooled payload that could not be applied: `retry` when
 * the store is busy or unavailable (a disk, a connection, a damaged log
 * awaiting repair: every payload would fail alike, so it stays in the spool
 * and so do those after it), `refused` when it is this payload (a store that
 * refuses its data, a bug on its input: it would fail again the same way,
 * so it is set aside in `spool/claude-code/failed` and the spool goes on).
 */
export function spoolFailureOf(error: unknown): 'retry' | 'refused' {
  for (let cause: unknown = error, depth = 0; cause !== undefined && cause !== null && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && DATA_REFUSED.test(code)) return 'refused';
  }
  return isStorageError(error) || isCorruptLogError(error) || isLogLockedError(error) || error instanceof StoreClosedError ? 'retry' : 'refused';
}

/** Apply one payload; returns the JSON output for Claude Code when the event asks for one. */
export async function applyPayload(
  engine: Engine,
  dir: string,
  payload: HookPayload,
  log: (level: HookLogLevel, message: string, about?: HookPayload) => void,
): Promise<string | undefined> {
  const rule = ruleOf(payload.event);
  if (recordsNothing(rule)) return undefined;
  const handle = await sessionFor(engine, dir, payload, log);
  if (handle === undefined) return undefined;
  const plan: HookPlan = rule.plan(payload, handle.state);
  for (const warning of plan.warnings ?? []) log('warn', warning, payload);
  // What the main transcript adds and what the payload says go in one append (all of it or nothing).
  const commands: SessionCommand[] = [];
  if (plan.transcript !== 'none' && payload.transcriptPath !== undefined) {
    commands.push(...(await readCommands(engine, handle, { key: MAIN_TRANSCRIPT, path: payload.transcriptPath, role: 'main' }, plan.transcript === 'flush', payload, log)));
  }
  if (plan.subagentTranscript !== undefined) {
    // Read against the view the main transcript's calls leave (a call both files hold is recorded once).
    if (commands.length > 0) await appendCommands(handle, commands.splice(0));
    const { agentId, path } = plan.subagentTranscript;
    commands.push(...(await readCommands(engine, handle, { key: subagentTranscriptKey(agentId), path, role: 'subagent', agentId }, true, payload, log)));
  }
  commands.push(...plan.commands);
  if (commands.length > 0) await appendCommands(handle, commands);
  if (plan.checkpointIfDue === true && handle.state.session.status !== 'ended') await handle.checkpointIfDue();
  if (plan.end !== undefined && handle.state.session.status !== 'ended') await handle.end(plan.end, CLAUDE_CODE_AGENT);
  if (plan.printContext === true) return contextOutput(contextOf(handle.state, engine.settings));
  return undefined;
}

/** Claude Code's cap on `additionalContext`: past it, the text is saved to a file and replaced with a preview. */
export const ADDITIONAL_CONTEXT_MAX = 10_000;

/** The re-injectable context of a session (src/context's), within Claude Code's cap. */
const contextOf = (view: SessionView, settings: EngineSettings): string =>
  sessionContextText(view, { contextWindows: settings.budget.contextWindows, thresholds: settings.budget.thresholds, maxChars: ADDITIONAL_CONTEXT_MAX });

/** Claude Code's SessionStart output carrying `text` as additional context. */
export const contextOutput = (text: string): string =>
  `${JSON.stringify({ hookSpecificOutput: { hookEventName: 'SessionStart', additionalContext: text } })}\n`;

/** The commands that record what is new in one transcript since the session's cursor (the cursor's move last). */
async function readCommands(
  engine: Engine,
  handle: SessionHandle,
  file: { key: string; path: string; role: 'main' | 'subagent'; agentId?: string },
  flush: boolean,
  payload: HookPayload,
  log: (level: HookLogLevel, message: string, about?: HookPayload) => void,
): Promise<SessionCommand[]> {
  let read: ReturnType<typeof commandsOfRead>;
  try {
    let plan = planTranscriptRead(handle.state, file, { flush });
    // Read again from the start (rare), or read on after such a read: the cursor remembers only its last calls, so
    // check against every call the session recorded (a file cut short, then whole again, repeats calls past the cursor).
    const checkAll = plan.rewritten || plan.cursor?.recentKeys.includes(CHECK_ALL_KEYS) === true;
    if (checkAll && !nothingToRead(plan)) plan = planTranscriptRead(handle.state, file, { flush, recordedKeys: await recordedCallKeysOf(engine, handle.sessionId) });
    // A bounded run: past this run's budget the read stops (the rest for the next runs), holding open what may go on past it.
    const left = plan.size === undefined ? 0 : plan.size - (plan.cursor?.offset ?? 0);
    const cut = left > readBudget;
    if (cut) plan = planTranscriptRead(handle.state, file, { ...plan.options, flush: false });
    if (cut && readBudget <= 0) {
      log('info', `${file.path}: this run read its ${HOOK_READ_BYTES} bytes already; the next runs read on`, payload);
      return [];
    }
    const scan = cut ? { ...plan.scan, maxBytes: readBudget } : plan.scan;
    readBudget -= Math.min(left, readBudget);
    read = plan.size === undefined ? commandsOfRead(handle.state, plan, []) : commandsOfRead(handle.state, plan, scanTranscriptSync(file.path, scan));
    if (checkAll) markCheckAll(read.commands);
    if (cut) log('info', `${file.path}: ${left} bytes to read, more than one run reads: read part of it (${read.calls} calls); the next runs read on`, payload);
  } catch (error) {
    // The transcript is only where usage comes from: what the payload says is recorded without it, and the cursor stays for the next read.
    log('warn', `${file.path} could not be read (${transcriptProblem(error)}): its new calls are not recorded this time; the rest of the payload is`, payload);
    return [];
  }
  for (const line of read.skipped) log('warn', `${file.path} line ${line.line} skipped: ${line.reason}`, payload);
  if (read.rewritten) log('warn', `${file.path} was rewritten since it was last read: read again from the start (calls already recorded are not recorded again)`, payload);
  return read.commands;
}

/**
 * The mark a cursor's `recentKeys` carries once its file was rewritten: every
 * later read of it checks its calls against all the session recorded, not
 * only the cursor's last 256 (no call key has this form: a key is
 * `messageId\0requestId`).
 */
export const CHECK_ALL_KEYS = 'moai:check-all-recorded-keys';

/** Put the {@link CHECK_ALL_KEYS} mark first in the cursor's move among `commands` (within its 256 keys). */
function markCheckAll(commands: SessionCommand[]): void {
  const read = commands.find((command): command is SessionCommand & { type: 'RecordTranscriptRead' } => command.type === 'RecordTranscriptRead');
  if (read === undefined) return;
  read.recentKeys = [CHECK_ALL_KEYS, ...read.recentKeys.filter((key) => key !== CHECK_ALL_KEYS).slice(-255)];
}

/** Call keys (`messageId\0requestId`) of every call a session's stream records (its `TokenUsageRecorded` events). */
async function recordedCallKeysOf(engine: Engine, sessionId: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const event of engine.store.readStream(sessionStream(sessionId))) {
    if (event.type === 'TokenUsageRecorded' && event.data.messageId !== undefined) keys.add(`${event.data.messageId}\u0000${event.data.requestId ?? ''}`);
  }
  return keys;
}

/**
 * Append commands as one batch (all of it or none, so a run cut off in the
 * middle of a read records nothing, and the next reads it again from the same
 * cursor; a read is at most {@link HOOK_READ_BYTES} per run), leaving out
 * what the session refuses.
 */
async function appendCommands(handle: SessionHandle, commands: readonly SessionCommand[]): Promise<void> {
  await executeSessionCommand(handle, { type: 'RunBatch', commands, skipRefused: true }, CLAUDE_CODE_AGENT);
}

// ---- Which session a payload is about ----------------------------------------------------------

/** The alias index: Claude Code session ids that stand for another session of the log (a continuation, an old-style resume). */
const aliasIndexPath = (dir: string): string => join(dir, 'cache', 'claude-code', 'aliases.json');

function readAliases(dir: string): Record<string, string> {
  try {
    const value = JSON.parse(readFileSync(aliasIndexPath(dir), 'utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function writeAlias(dir: string, alias: string, sessionId: string): void {
  const aliases = readAliases(dir);
  aliases[alias] = sessionId;
  const path = aliasIndexPath(dir);
  mkdirSync(join(dir, 'cache', 'claude-code'), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(aliases));
  renameSync(temporary, path);
}

/** The session of the log a Claude Code session id stands for: itself, or the session its alias names (a continuation). */
export const sessionOfClaudeId = (dir: string, claudeId: string): string => readAliases(dir)[claudeId] ?? claudeId;

const streamExists = async (engine: Engine, sessionId: string): Promise<boolean> => (await engine.store.streamVersion(sessionStream(sessionId))) > 0;

/** The transcript's size now (the resume key: the same payload twice resumes once). */
const sizeOf = (path: string | undefined): string => {
  if (path === undefined) return 'none';
  try {
    return String(statSync(path).size);
  } catch {
    return 'none';
  }
};

/** Why a transcript could not be read, in one line: its error code and message. */
const transcriptProblem = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const message = String((error as Error | null)?.message ?? error).replace(/\s+/g, ' ');
  return typeof code === 'string' && !message.startsWith(code) ? `${code}: ${message}` : message;
};

/** The session id and first model a transcript's first lines name (read only when needed); none when it cannot be read (logged). */
async function identityOf(path: string | undefined, log: (level: HookLogLevel, message: string) => void): Promise<{ sessionId: string | undefined; model: string | undefined }> {
  if (path === undefined || !existsSync(path)) return { sessionId: undefined, model: undefined };
  const { transcriptIdentity } = await import('./importTranscripts.js');
  try {
    return transcriptIdentity(path);
  } catch (error) {
    log('warn', `${path} could not be read (${transcriptProblem(error)}): the session and model it names are not known`);
    return { sessionId: undefined, model: undefined };
  }
}

/**
 * The session a payload is about, started, resumed or forked as its event
 * says; undefined when there is none to record in (no usable session id,
 * an ended session, a start refused), which is logged.
 */
async function sessionFor(
  engine: Engine,
  dir: string,
  payload: HookPayload,
  log: (level: HookLogLevel, message: string, about?: HookPayload) => void,
): Promise<SessionHandle | undefined> {
  const claudeId = payload.sessionId;
  if (claudeId === undefined || !isValidId('session', claudeId)) {
    if (payload.event !== '' || claudeId !== undefined) log('warn', `payload without a usable session_id (${JSON.stringify(claudeId ?? null)}): nothing recorded`, payload);
    return undefined;
  }
  const starting = payload.event === 'SessionStart';
  const source = payload.source ?? 'startup';
  const aliased = readAliases(dir)[claudeId];
  let sessionId = aliased !== undefined && (await streamExists(engine, aliased)) ? aliased : claudeId;
  // The alias index is a cache: a continuation of an ended session is found by its name too (`<id>.2`, `.3`, ...).
  if (sessionId === claudeId) {
    for (let n = 2; await streamExists(engine, `${claudeId}.${n}`); n++) sessionId = `${claudeId}.${n}`;
  }
  if (await streamExists(engine, sessionId)) {
    const handle = await engine.openSession(sessionId);
    if (handle.state.session.status === 'ended') {
      if (!starting || source === 'clear' || source === 'compact') return undefined; // the ended session takes nothing more
      return continuation(engine, dir, handle, claudeId, payload);
    }
    if (starting && (source === 'resume' || source === 'fork')) {
      await executeSessionCommand(handle, { type: 'ResumeSession', agent: CLAUDE_CODE_AGENT, reason: `claude-code ${source}`, key: `${source}@${sizeOf(payload.transcriptPath)}` }, CLAUDE_CODE_AGENT);
    }
    return handle;
  }
  // An id the log does not know: a resumed or forked transcript may name the session it came from.
  const identity = payload.model === undefined || (starting && (source === 'resume' || source === 'fork')) ? await identityOf(payload.transcriptPath, (level, message) => log(level, message, payload)) : undefined;
  const model = payload.model ?? identity?.model ?? UNKNOWN_MODEL;
  const named = identity?.sessionId;
  if (starting && (source === 'resume' || source === 'fork') && named !== undefined && named !== claudeId && isValidId('session', named)) {
    const parentId = readAliases(dir)[named] ?? named;
    if (await streamExists(engine, parentId)) {
      if (source === 'fork') {
        const fork = await engine.forkSession(parentId, { sessionId: claudeId, agent: CLAUDE_CODE_AGENT, model });
        return fork;
      }
      // Before 2.1.214 a fork and some resumes came as `resume` under a new id: the session goes on under its alias.
      const handle = await engine.openSession(parentId);
      if (handle.state.session.status === 'ended') return continuation(engine, dir, handle, claudeId, payload);
      await executeSessionCommand(handle, { type: 'ResumeSession', agent: CLAUDE_CODE_AGENT, reason: `claude-code ${source} as ${claudeId}`, key: `${source}:${claudeId}` }, CLAUDE_CODE_AGENT);
      await executeSessionCommand(handle, { type: 'AddSessionAlias', alias: claudeId, source: 'claude-code' }, CLAUDE_CODE_AGENT);
      writeAlias(dir, claudeId, parentId);
      return handle;
    }
  }
  try {
    const title = typeof payload.raw.session_title === 'string' && payload.raw.session_title.trim() !== '' ? payload.raw.session_title.slice(0, 500) : `Claude Code ${claudeId}`;
    return await engine.startSession({ sessionId: claudeId, agent: CLAUDE_CODE_AGENT, model, title });
  } catch (error) {
    // Another run started it meanwhile cannot happen (one writer); a refusal (max_parallel_sessions) is logged.
    log('error', `session ${claudeId} could not be started: ${(error as Error).message}`, payload);
    return undefined;
  }
}

/** An ended session resumed in Claude Code: a fork of it goes on (`<id>.2`, `.3`, ...), known by the Claude Code id. */
async function continuation(engine: Engine, dir: string, ended: SessionHandle, claudeId: string, payload: HookPayload): Promise<SessionHandle> {
  let n = 2;
  while (await streamExists(engine, `${claudeId}.${n}`)) n++;
  const fork = await engine.forkSession(ended.sessionId, {
    sessionId: `${claudeId}.${n}`,
    agent: CLAUDE_CODE_AGENT,
    ...(payload.model === undefined ? {} : { model: payload.model }),
  });
  await executeSessionCommand(fork, { type: 'AddSessionAlias', alias: claudeId, source: 'claude-code' }, CLAUDE_CODE_AGENT);
  writeAlias(dir, claudeId, fork.sessionId);
  return fork;
}

/** The context of a session read without the lock (another writer holds it): the SessionStart output, or undefined. */
async function contextReadOnly(dir: string, payload: HookPayload, log: (level: HookLogLevel, message: string, about?: HookPayload) => void): Promise<string | undefined> {
  const claudeId = payload.sessionId;
  if (claudeId === undefined || !isValidId('session', claudeId)) return undefined;
  try {
    const { openStateFolder } = await import('../../runtime/openStateFolder.js');
    const folder = await openStateFolder({ dir, mode: 'read' });
    try {
      const sessionId = readAliases(dir)[claudeId] ?? claudeId;
      if (!(await streamExists(folder.engine, sessionId))) return undefined;
      const view = await folder.engine.sessionState(sessionId);
      return contextOutput(contextOf(view, folder.engine.settings));
    } finally {
      await folder.close();
    }
  } catch (error) {
    log('warn', `the context could not be read while the lock was busy: ${(error as Error).message}`, payload);
    return undefined;
  }
}
