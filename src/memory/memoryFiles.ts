import { TASK_STATES, type TaskState } from '../../machines/taskLifecycleNames.js';
import { contextWindowFor } from '../budget/contextWindows.js';
import { percentOfWindow } from '../budget/usage.js';
import type { SessionStatus } from '../../machines/session.js';
import type { CheckpointRef } from '../projections/checkpoints.js';
import { openTaskSummaries, tasksInOrder, type OpenTaskSummary, type SessionView } from '../projections/sessionView.js';
import type { TokenSpend } from '../projections/tokenBudget.js';
import type { TokenHistory, TokenUsageEntry } from '../projections/tokenHistory.js';
import { contextItemsInOrder, type ContextKind } from '../projections/contextItems.js';
import { packText, type PackedText } from '../context/packText.js';
import { renderContextItems } from '../context/renderContextItems.js';
import { groupDigits } from '../util/groupDigits.js';

/*
 * The memory files are projections of the log written as files under
 * `.moai/sessions/`. Everything here is pure and deterministic: no clock, no
 * I/O, sessions in the order they started (then by id), so the same log
 * always gives the same bytes and `checkMemorySync` can compare them exactly.
 */

/** The session-state file, relative to the `.moai` folder. */
export const SESSION_STATE_FILE = 'sessions/session-state.json';
/** The context-cache file, relative to the `.moai` folder. */
export const CONTEXT_CACHE_FILE = 'sessions/context-cache.json';
/** The token-usage log, relative to the `.moai` folder. */
export const TOKEN_USAGE_LOG_FILE = 'sessions/token-usage.log';
/** The person-readable task list, relative to the `.moai` folder. */
export const ACTIVE_TASKS_FILE = 'sessions/active-tasks.md';
/** The folder of checkpoint documents, relative to the `.moai` folder. */
export const CHECKPOINTS_FOLDER = 'sessions/checkpoints';

/** The lock every writer of a folder's memory files holds while it compares and writes, in `sessions/`. */
export const MEMORY_FILES_LOCK = '.memory-files.lock';
/** Every memory file the builders produce, in the order they are checked. */
export const MEMORY_FILES = [SESSION_STATE_FILE, CONTEXT_CACHE_FILE, TOKEN_USAGE_LOG_FILE, ACTIVE_TASKS_FILE] as const;

/** The relative path of a checkpoint's document: `sessions/checkpoints/<sessionId>/<checkpointId>.json`. */
export const checkpointFilePath = (sessionId: string, checkpointId: string): string =>
  `${CHECKPOINTS_FOLDER}/${sessionId}/${checkpointId}.json`;

/** Where a checkpoint's document was kept before the folder per session: `sessions/checkpoints/<checkpointId>.json` (still read). */
export const legacyCheckpointFilePath = (checkpointId: string): string => `${CHECKPOINTS_FOLDER}/${checkpointId}.json`;

/** Options shared by the memory-file builders, writers and the check. */
export interface MemoryFilesOptions {
  /** Per-model context window overrides (as in the config), passed to `contextWindowFor`. */
  contextWindows?: Readonly<Record<string, number>>;
  /** `session.forking_enabled`, for `forking.enabled` in `session-state.json`. Defaults to true. */
  forkingEnabled?: boolean;
  /** `session.persistence_enabled`, for `persistence.cache_enabled` in `session-state.json`. Defaults to true. */
  persistenceEnabled?: boolean;
}

/** The memory-file options an engine's settings give: its context windows, forking and persistence. */
export function memoryFilesOptionsFrom(settings: {
  budget: { contextWindows?: Readonly<Record<string, number>> };
  forkingEnabled: boolean;
  persistenceEnabled: boolean;
}): MemoryFilesOptions {
  const options: MemoryFilesOptions = { forkingEnabled: settings.forkingEnabled, persistenceEnabled: settings.persistenceEnabled };
  if (settings.budget.contextWindows !== undefined) options.contextWindows = settings.budget.contextWindows;
  return options;
}

/**
 * What the memory files are built from: every session's view and token
 * history by session id, as `engine.replay()` returns them.
 */
export interface MemorySource {
  sessions: ReadonlyMap<string, SessionView>;
  /** Each stream's own usage records, for `token-usage.log`. */
  tokenHistories: ReadonlyMap<string, TokenHistory>;
  /**
   * The log position these views reflect: every event up to it is folded in
   * (a replay report's `lastPosition`). Written as `log_position` in
   * `session-state.json`, and files built at a later one are not overwritten.
   * Left out, the files say null and are written whatever is on disk.
   */
  lastPosition?: number;
}

/** The token budget of a session as the memory files show it. */
export interface MemoryBudget {
  /** The context in use now. */
  contextTokens: number;
  /** The model's context window; null when the model is not one the table (or the overrides) know. */
  contextWindow: number | null;
  /** `contextTokens` as a percent of the window, rounded to 2 decimals; null without a window. */
  percent: number | null;
}

/**
 * One session in `session-state.json`: the product document's session
 * metadata (`session_id`, `model`, `created_at`, `context_window`,
 * `persistence`, `forking`) beside the engine's fields.
 */
export interface SessionStateEntry {
  session_id: string;
  model: string;
  /** When the session started. */
  created_at: string;
  /** The context window: its size (null for a model not known), the tokens in use and free, and the use as a percent. */
  context_window: { total: number | null; used: number; available: number | null; position_percent: number | null };
  /**
   * What survives: history is loaded from the log on resume; critical and
   * supporting context items are kept through compactions and handoffs;
   * the context cache is written when `session.persistence_enabled` is.
   */
  persistence: { auto_load_history: true; context_preservation: 'critical_and_supporting'; cache_enabled: boolean };
  /** `session.forking_enabled`, the session's newest fork (or null) and its newest checkpoint's time (a fork point), or null. */
  forking: { enabled: boolean; fork_session_id: string | null; checkpoint_timestamp: string | null };
  /** True for the current session (see `current_session_id`). */
  current: boolean;
  status: SessionStatus;
  title: string | null;
  agent: string;
  agents: string[];
  startedAt: string;
  version: number;
  position: number;
  updatedAt: string;
  /** How many tasks are in each state; `total` is all of them, `open` those not completed. */
  tasks: { total: number; open: number } & Record<TaskState, number>;
  tokens: MemoryBudget & { spend: TokenSpend };
  /** For a fork: the session and version it branched from. */
  parent: { sessionId: string; version: number } | null;
  /** The newest checkpoint recorded and not archived, if any. */
  latestCheckpointId: string | null;
}

/**
 * The content of `session-state.json`: every session that has not ended, by
 * id, and which one is current: of those, the one started, forked, resumed
 * or taken over by a handoff last (null when none is active).
 */
export interface SessionStateDocument {
  current_session_id: string | null;
  /** When the newest event these sessions reflect happened (the product's `last_sync`); null before any. */
  last_sync: string | null;
  /** The log position these files were built at (every event up to it folded in); null when the source did not say. */
  log_position: number | null;
  sessions: Record<string, SessionStateEntry>;
}

/** An open task in `context-cache.json`. */
/** An open task in `context-cache.json`. */
export type ContextCacheTask = OpenTaskSummary;

/** A critical context item in `context-cache.json`: what names it (its text is in `critical_context`). */
export interface ContextCacheItem {
  id: string;
  tag: string | null;
  kind: ContextKind | null;
  tokens: number | null;
}

/** One session in `context-cache.json`: what to re-inject into an agent after a compaction or a restart. */
export interface ContextCacheEntry {
  title: string | null;
  agent: string;
  model: string;
  /** The stream version this context was taken at. */
  version: number;
  /** Tasks not completed, in the order they were added. */
  openTasks: ContextCacheTask[];
  /** The newest checkpoint recorded and not archived, if any. */
  checkpoint: { id: string; version: number; reason: string } | null;
  budget: MemoryBudget;
  /**
   * The critical context items, one line each (`[critical constraint] tag: text`),
   * as text; compressed (`{ encoding: "gzip+base64", chars, data }`) when long; null when there are none.
   */
  critical_context: PackedText | null;
  /** The critical items, in order: their ids, tags, kinds and sizes. */
  critical_items: ContextCacheItem[];
}

/** The content of `context-cache.json`: every session that has not ended, by id. */
export interface ContextCacheDocument {
  sessions: Record<string, ContextCacheEntry>;
}

/** The memory files as data: the two JSON documents and the two text files. */
export interface MemoryDocuments {
  sessionState: SessionStateDocument;
  contextCache: ContextCacheDocument;
  tokenUsageLog: string;
  activeTasks: string;
}

/** JSON as the memory files hold it: pretty-printed with 2 spaces, with a trailing newline. */
export const toJsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** The sessions of a views map that have started, ordered by start time, then id. */
export function sessionsInStartOrder(views: ReadonlyMap<string, SessionView>): Array<[string, SessionView]> {
  return [...views]
    .filter(([, view]) => view.session.status !== 'none')
    .sort(([idA, a], [idB, b]) => compareStrings(a.session.startedAt, b.session.startedAt) || compareStrings(idA, idB));
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const isOpen = (view: SessionView): boolean => view.session.status !== 'ended';

// A fork's view starts as its parent's view at the fork's version: it holds
// the parent's usage records and checkpoints up to there. The memory files
// list a record or a checkpoint under the session whose stream recorded it.

/** The usage records a session's own stream recorded (a fork's parent's are in the parent's history), in version order. */
export function ownUsageEntries(sessionId: string, histories: ReadonlyMap<string, TokenHistory> | undefined): TokenUsageEntry[] {
  return histories?.get(sessionId)?.entries.toArray() ?? [];
}

/** The checkpoints a session's own stream recorded (a fork's inherited ones left out), in log order. */
export function ownCheckpoints(sessionId: string, views: ReadonlyMap<string, SessionView>): CheckpointRef[] {
  const view = views.get(sessionId);
  if (view === undefined) return [];
  const parent = view.session.parent === undefined ? undefined : views.get(view.session.parent.sessionId);
  const inherited = new Set(parent === undefined ? [] : [...parent.checkpoints.all].map((ref) => ref.checkpointId));
  return view.checkpoints.all.toArray().filter((ref) => !inherited.has(ref.checkpointId));
}

/** The newest checkpoint a session recorded itself and has not archived. */
export function latestCheckpoint(sessionId: string, views: ReadonlyMap<string, SessionView>): CheckpointRef | undefined {
  const archived = views.get(sessionId)?.checkpoints.archived;
  return ownCheckpoints(sessionId, views)
    .reverse()
    .find((ref) => archived?.has(ref.checkpointId) !== true);
}

/** The budget of a view: the context in use, the model's window (null when unknown) and the percent. */
export function memoryBudget(view: SessionView, options: MemoryFilesOptions = {}): MemoryBudget {
  const contextTokens = view.tokens.contextTokens;
  let contextWindow: number | null;
  try {
    contextWindow = contextWindowFor(view.session.model, options.contextWindows);
  } catch {
    contextWindow = null;
  }
  const percent = contextWindow === null ? null : Math.round(percentOfWindow(contextTokens, contextWindow) * 100) / 100;
  return { contextTokens, contextWindow, percent };
}

function taskCounts(view: SessionView): SessionStateEntry['tasks'] {
  const byState = Object.fromEntries(TASK_STATES.map((state) => [state, 0])) as Record<TaskState, number>;
  let total = 0;
  for (const task of view.tasks.byId.values()) {
    byState[task.state]++;
    total++;
  }
  return { total, open: total - byState.completed, ...byState };
}

const spendOf = (spend: TokenSpend): TokenSpend => ({
  inputTokens: spend.inputTokens,
  outputTokens: spend.outputTokens,
  cacheCreationInputTokens: spend.cacheCreationInputTokens,
  cacheReadInputTokens: spend.cacheReadInputTokens,
  totalTokens: spend.totalTokens,
});

/**
 * The current session of some views: of the sessions not ended, the one
 * started, forked, resumed or taken over by a handoff last; undefined when
 * none is active. (A view restored from a checkpoint older than activations
 * counts from its last event.)
 */
export function currentSessionOf(views: ReadonlyMap<string, SessionView>): string | undefined {
  let current: string | undefined;
  let newest = -1;
  for (const [id, view] of sessionsInStartOrder(views)) {
    if (!isOpen(view)) continue;
    const at = view.session.activatedPosition ?? view.position;
    if (at >= newest) {
      newest = at;
      current = id;
    }
  }
  return current;
}

/**
 * The `session-state.json` document: every session not ended, in start order,
 * the current one, and the log position the views reflect (`logPosition`).
 */
export function buildSessionState(
  views: ReadonlyMap<string, SessionView>,
  options: MemoryFilesOptions = {},
  logPosition: number | null = null,
): SessionStateDocument {
  const sessions: Record<string, SessionStateEntry> = {};
  const current = currentSessionOf(views) ?? null;
  let lastSync: string | null = null;
  const newestFork = new Map<string, { id: string; at: string }>();
  for (const [id, view] of sessionsInStartOrder(views)) {
    if (lastSync === null || view.updatedAt > lastSync) lastSync = view.updatedAt;
    const parent = view.session.parent?.sessionId;
    if (parent !== undefined) newestFork.set(parent, { id, at: view.session.startedAt });
  }
  for (const [id, view] of sessionsInStartOrder(views)) {
    if (!isOpen(view)) continue;
    const s = view.session;
    const budget = memoryBudget(view, options);
    const checkpoint = latestCheckpoint(id, views);
    sessions[id] = {
      session_id: id,
      model: s.model,
      created_at: s.startedAt,
      context_window: {
        total: budget.contextWindow,
        used: budget.contextTokens,
        available: budget.contextWindow === null ? null : Math.max(0, budget.contextWindow - budget.contextTokens),
        position_percent: budget.percent,
      },
      persistence: {
        auto_load_history: true,
        context_preservation: 'critical_and_supporting',
        cache_enabled: options.persistenceEnabled ?? true,
      },
      forking: {
        enabled: options.forkingEnabled ?? true,
        fork_session_id: newestFork.get(id)?.id ?? null,
        checkpoint_timestamp: checkpoint?.at ?? null,
      },
      current: id === current,
      status: s.status as SessionStatus,
      title: s.title ?? null,
      agent: s.agent,
      agents: [...s.agents],
      startedAt: s.startedAt,
      version: view.version,
      position: view.position,
      updatedAt: view.updatedAt,
      tasks: taskCounts(view),
      tokens: { ...budget, spend: spendOf(view.tokens.spend) },
      parent: s.parent === undefined ? null : { sessionId: s.parent.sessionId, version: s.parent.version },
      latestCheckpointId: checkpoint?.checkpointId ?? null,
    };
  }
  return { current_session_id: current, last_sync: lastSync, log_position: logPosition, sessions };
}

/** The `context-cache.json` document: the critical context of every session not ended, in start order. */
export function buildContextCache(
  views: ReadonlyMap<string, SessionView>,
  options: MemoryFilesOptions = {},
): ContextCacheDocument {
  const sessions: Record<string, ContextCacheEntry> = {};
  for (const [id, view] of sessionsInStartOrder(views)) {
    if (!isOpen(view)) continue;
    const checkpoint = latestCheckpoint(id, views);
    sessions[id] = {
      title: view.session.title ?? null,
      agent: view.session.agent,
      model: view.session.model,
      version: view.version,
      openTasks: openTaskSummaries(view),
      checkpoint:
        checkpoint === undefined
          ? null
          : { id: checkpoint.checkpointId, version: checkpoint.version, reason: checkpoint.reason },
      budget: memoryBudget(view, options),
      ...criticalContextOf(view),
    };
  }
  return { sessions };
}

/** The critical context of a view, as `context-cache.json` keeps it. */
function criticalContextOf(view: SessionView): Pick<ContextCacheEntry, 'critical_context' | 'critical_items'> {
  const critical = contextItemsInOrder(view.context).filter((item) => item.tier === 'critical');
  return {
    critical_context: critical.length === 0 ? null : packText(renderContextItems(critical)),
    critical_items: critical.map((item) => ({ id: item.itemId, tag: item.tag ?? null, kind: item.kind ?? null, tokens: item.tokens ?? null })),
  };
}

// A model name is printed bare unless it would break the line's fields.
const logField = (value: string): string => (/^[^\s="]+$/.test(value) ? value : JSON.stringify(value));

/** One line of `token-usage.log` (without its newline). */
export function tokenUsageLine(sessionId: string, entry: TokenUsageEntry): string {
  return (
    `${entry.at} ${logField(sessionId)} ${logField(entry.model)} ${entry.main ? 'main' : 'side'}` +
    ` in=${entry.inputTokens} out=${entry.outputTokens}` +
    ` cache_write=${entry.cacheCreationInputTokens} cache_read=${entry.cacheReadInputTokens}` +
    ` context=${entry.contextTokens}`
  );
}

/**
 * The `token-usage.log` text: one line per usage record of every session
 * (ended ones too), under the session whose stream recorded it (a fork does
 * not repeat its parent's), in time order; records of the same instant in
 * session start order, then stream version.
 */
export function buildTokenUsageLog(
  views: ReadonlyMap<string, SessionView>,
  histories: ReadonlyMap<string, TokenHistory> | undefined,
): string {
  const records: Array<{ at: string; line: string }> = [];
  for (const [id] of sessionsInStartOrder(views)) {
    for (const entry of ownUsageEntries(id, histories)) records.push({ at: entry.at, line: tokenUsageLine(id, entry) });
  }
  // Array.prototype.sort is stable: ties keep session order, then version order.
  records.sort((a, b) => compareStrings(a.at, b.at));
  return records.map((r) => `${r.line}\n`).join('');
}

// One line, and no `|` that would split a table cell.
const cell = (value: string | undefined): string =>
  value === undefined ? '' : value.replace(/\s*[\r\n]+\s*/g, ' ').replace(/\\/g, '\\\\').replace(/\|/g, '\\|').trim();

const oneLine = (value: string): string => value.replace(/\s*[\r\n]+\s*/g, ' ').trim();

/**
 * A task's reason as `active-tasks.md` shows it: the last reason given, and,
 * when the task failed and something followed (a recovery), why it failed
 * first: `failed: tests fail; then: recovery r-1`.
 */
function taskReason(task: { lastReason: string | undefined; failureReason: string | undefined }): string | undefined {
  if (task.failureReason === undefined || task.failureReason === task.lastReason) return task.lastReason;
  return task.lastReason === undefined ? `failed: ${task.failureReason}` : `failed: ${task.failureReason}; then: ${task.lastReason}`;
}

/**
 * The `active-tasks.md` text: for each session not ended (newest last), a
 * heading, one line of facts and a table of its tasks in the order added.
 */
export function buildActiveTasks(
  views: ReadonlyMap<string, SessionView>,
  options: MemoryFilesOptions = {},
): string {
  const lines = ['# Active tasks', ''];
  const open = sessionsInStartOrder(views).filter(([, view]) => isOpen(view));
  if (open.length === 0) lines.push('_No active sessions._', '');
  for (const [id, view] of open) {
    const s = view.session;
    const tasks = tasksInOrder(view);
    const openCount = tasks.filter((task) => task.state !== 'completed').length;
    const budget = memoryBudget(view, options);
    lines.push(s.title === undefined ? `## ${id}` : `## ${id}: ${oneLine(s.title)}`, '');
    lines.push(
      `Status ${s.status}, agent ${s.agent}, model ${s.model}, version ${view.version}, ` +
        `${openCount} of ${tasks.length} task${tasks.length === 1 ? '' : 's'} open, context ${groupDigits(budget.contextTokens)} tokens` +
        (budget.percent === null || budget.contextWindow === null
          ? '.'
          : ` (${percentOfWindow(budget.contextTokens, budget.contextWindow).toFixed(1)}% of ${groupDigits(budget.contextWindow)}).`),
      '',
    );
    if (tasks.length === 0) {
      lines.push('_No tasks._', '');
      continue;
    }
    lines.push('| Id | State | Title | Phase | Last reason |', '| --- | --- | --- | --- | --- |');
    for (const task of tasks) {
      lines.push(`| ${cell(task.taskId)} | ${task.state} | ${cell(task.title)} | ${cell(task.phase)} | ${cell(taskReason(task))} |`);
    }
    lines.push('');
  }
  // One trailing newline, no blank line at the end.
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Every memory file as data. */
export function buildMemoryDocuments(source: MemorySource, options: MemoryFilesOptions = {}): MemoryDocuments {
  const views = source.sessions;
  return {
    sessionState: buildSessionState(views, options, source.lastPosition ?? null),
    contextCache: buildContextCache(views, options),
    tokenUsageLog: buildTokenUsageLog(views, source.tokenHistories),
    activeTasks: buildActiveTasks(views, options),
  };
}

/** The memory files of some documents: relative path to exact content. */
export function memoryFilesOf(documents: MemoryDocuments): Map<string, string> {
  return new Map([
    [SESSION_STATE_FILE, toJsonText(documents.sessionState)],
    [CONTEXT_CACHE_FILE, toJsonText(documents.contextCache)],
    [TOKEN_USAGE_LOG_FILE, documents.tokenUsageLog],
    [ACTIVE_TASKS_FILE, documents.activeTasks],
  ]);
}

/**
 * The memory files of the sessions' views and token histories: relative path
 * (e.g. `sessions/session-state.json`) to the exact content to write. Pure and
 * deterministic: the same source always gives the same bytes.
 *
 * @example
 * const files = buildMemoryFiles(await engine.replay());
 * files.get('sessions/token-usage.log');
 */
export function buildMemoryFiles(source: MemorySource, options: MemoryFilesOptions = {}): Map<string, string> {
  return memoryFilesOf(buildMemoryDocuments(source, options));
}
