import { contextWindowFor } from '../budget/contextWindows.js';
import { DEFAULT_THRESHOLDS, levelOf, type BudgetLevel, type BudgetThresholds } from '../budget/thresholds.js';
import { contextItemsInOrder, contextItemText, type ContextItem, type ContextTier, type LastHandoff } from '../projections/contextItems.js';
import { openTaskSummaries, type OpenTaskSummary, type SessionView } from '../projections/sessionView.js';
import { groupDigits } from '../util/groupDigits.js';
import { clipText, wellFormed } from '../util/clipText.js';

/*
 * The re-injectable context of a session: what an agent needs to go on after
 * a restart, a compaction or a handoff, built from the session's view alone
 * (pure), most important first, and written within a size bound. The Claude
 * Code hook prints it on SessionStart; `moai-session context show` prints it.
 */

/** One context item as the re-injectable context lists it. */
export interface SessionContextItem {
  id: string;
  tier: ContextTier;
  kind: string | null;
  tag: string | null;
  /** Its text, or its JSON value written as JSON. */
  text: string;
}

/** An open task as the re-injectable context lists it. */
/** A task not yet completed, in the context. */
export type SessionContextTask = OpenTaskSummary;

/** Everything the re-injectable context holds, as data, in the order it is written. */
export interface SessionContext {
  sessionId: string;
  title: string | null;
  status: string;
  agent: string;
  model: string;
  /** The stream version the context was taken at. */
  version: number;
  /** Critical items of kind `objective`. */
  objectives: SessionContextItem[];
  /** Critical items of kind `constraint`. */
  constraints: SessionContextItem[];
  /** Tasks not completed, in the order they were added. */
  openTasks: SessionContextTask[];
  budget: {
    contextTokens: number;
    /** Null for a model whose window is not known. */
    contextWindow: number | null;
    percent: number | null;
    level: BudgetLevel | null;
  };
  /** The newest checkpoint not archived, or null. */
  lastCheckpoint: {
    id: string;
    reason: string;
    version: number;
    at: string;
    /** The git state the checkpoint recorded (see `GitState`), or null. */
    git: { commit: string | null; branch: string | null; changedFiles: number } | null;
  } | null;
  /** The last handoff, with the summary its package carried, or null. */
  lastHandoff: LastHandoff | null;
  /** The other critical items: preferences (language, expertise), notes. */
  critical: SessionContextItem[];
  /** Supporting items (a compaction's summary, references), kept if space allows. */
  supporting: SessionContextItem[];
}

/** Options of {@link buildSessionContext} and {@link sessionContextText}. */
export interface SessionContextOptions {
  /** Context window overrides by model (the config's `models.context_windows`). */
  contextWindows?: Readonly<Record<string, number>>;
  /** The budget thresholds in percent (the config's); default 60 / 75 / 85. */
  thresholds?: BudgetThresholds;
}

/** Options of {@link formatSessionContext}. */
export interface FormatSessionContextOptions {
  /** The most characters the text may have; default {@link DEFAULT_CONTEXT_MAX_CHARS}. */
  maxChars?: number;
}

/** The default bound of the re-injectable context's text: 8,000 characters (about 2,000 tokens). */
export const DEFAULT_CONTEXT_MAX_CHARS = 8000;

/** The fewest characters a bound may be: enough for the header and the note of what was left out. */
export const MIN_CONTEXT_MAX_CHARS = 200;

const itemOf = (item: ContextItem): SessionContextItem => ({
  id: item.itemId,
  tier: item.tier,
  kind: item.kind ?? null,
  tag: item.tag ?? null,
  text: contextItemText(item),
});

/**
 * The re-injectable context of a session, as data: objectives, constraints,
 * open tasks and their states, the budget, the last checkpoint, the last
 * handoff and its summary, the other critical items and the supporting ones.
 * Temporary items are left out: they do not outlive a compaction. Pure.
 *
 * @example
 * const context = buildSessionContext(session.state);
 * context.constraints.map((item) => item.text); // ['Tests use pytest']
 */
export function buildSessionContext(view: SessionView, options: SessionContextOptions = {}): SessionContext {
  const items = contextItemsInOrder(view.context);
  const critical = items.filter((item) => item.tier === 'critical');
  let contextWindow: number | null;
  try {
    contextWindow = contextWindowFor(view.session.model, options.contextWindows);
  } catch {
    contextWindow = null;
  }
  const contextTokens = view.tokens.contextTokens;
  const percent = contextWindow === null ? null : Math.round((contextTokens / contextWindow) * 1000) / 10;
  const archived = view.checkpoints.archived;
  const checkpoint = view.checkpoints.all
    .toArray()
    .reverse()
    .find((c) => !archived.has(c.checkpointId));
  return {
    sessionId: view.session.sessionId,
    title: view.session.title ?? null,
    status: view.session.status,
    agent: view.session.agent,
    model: view.session.model,
    version: view.version,
    objectives: critical.filter((item) => item.kind === 'objective').map(itemOf),
    constraints: critical.filter((item) => item.kind === 'constraint').map(itemOf),
    openTasks: openTaskSummaries(view),
    budget: {
      contextTokens,
      contextWindow,
      percent,
      level: percent === null ? null : levelOf(percent, options.thresholds ?? DEFAULT_THRESHOLDS),
    },
    lastCheckpoint:
      checkpoint === undefined
        ? null
        : { id: checkpoint.checkpointId, reason: checkpoint.reason, version: checkpoint.version, at: checkpoint.at, git: checkpoint.git ?? null },
    lastHandoff: view.context.lastHandoff ?? null,
    critical: critical.filter((item) => item.kind !== 'objective' && item.kind !== 'constraint').map(itemOf),
    supporting: items.filter((item) => item.tier === 'supporting').map(itemOf),
  };
}

const oneLine = (text: string): string => text.replace(/\s*\r?\n\s*/g, ' / ').trim();
// A tag that says the same as the text (`must_use_pytest`) is not written twice.
const itemLine = (item: SessionContextItem): string =>
  `- ${item.tag === null || item.tag === item.text ? '' : `${item.tag}: `}${oneLine(item.text)}`;

function taskLine(task: SessionContextTask): string {
  const reasons: string[] = [];
  if (task.failureReason !== null && task.failureReason !== task.lastReason) reasons.push(`failed: ${task.failureReason}`);
  if (task.lastReason !== null) reasons.push(task.lastReason);
  return `- ${task.id} [${task.state}] ${oneLine(task.title)}${task.phase === null ? '' : ` (phase ${task.phase})`}` +
    (reasons.length === 0 ? '' : `: ${oneLine(reasons.join('; then '))}`);
}

/** The lines of the context, most important first, each section with its heading. */
function contextLines(context: SessionContext): string[][] {
  const header =
    `Session ${context.sessionId}${context.title === null ? '' : `: ${oneLine(context.title)}`} ` +
    `(${context.status}, agent ${context.agent}, model ${context.model}, version ${context.version})`;
  const b = context.budget;
  const budget =
    b.contextWindow === null || b.percent === null
      ? `- ${groupDigits(b.contextTokens)} tokens in use (the window of ${context.model} is not known)`
      : `- ${groupDigits(b.contextTokens)} of ${groupDigits(b.contextWindow)} tokens in use (${b.percent.toFixed(1)}%, ${b.level}); ` +
        `${groupDigits(Math.max(0, b.contextWindow - b.contextTokens))} free`;
  const c = context.lastCheckpoint;
  const h = context.lastHandoff;
  const sections: Array<[string, string[]]> = [
    ['Objectives:', context.objectives.map(itemLine)],
    ['Constraints:', context.constraints.map(itemLine)],
    ['Open tasks:', context.openTasks.length === 0 ? ['- none'] : context.openTasks.map(taskLine)],
    ['Budget:', [budget]],
    [
      'Last checkpoint:',
      c === null
        ? []
        : [`- ${c.id} (${c.reason}) at version ${c.version}, ${c.at}${c.git === null ? '' : `, git ${c.git.branch ?? '(detached HEAD)'} @ ${c.git.commit?.slice(0, 12) ?? '(no commit)'}`}`],
    ],
    [
      'Last handoff:',
      h === null ? [] : [`- ${h.handoffId}: ${h.fromAgent} -> ${h.toAgent} (${h.status}, ${h.requestedAt})${h.summary === undefined ? '' : `: ${oneLine(h.summary)}`}`],
    ],
    ['Critical context:', context.critical.map(itemLine)],
    ['Supporting context:', context.supporting.map(itemLine)],
  ];
  return [[header], ...sections.filter(([, lines]) => lines.length > 0).map(([title, lines]) => [title, ...lines])];
}

/**
 * The re-injectable context as text, at most `maxChars` characters, most
 * important first: the session, objectives, constraints, open tasks, budget,
 * last checkpoint, last handoff, other critical items, supporting items.
 * What does not fit is left out from the least important end, and a last
 * line says how many lines were; a line longer than the bound is cut.
 *
 * @throws RangeError when `maxChars` is below {@link MIN_CONTEXT_MAX_CHARS}.
 */
export function formatSessionContext(context: SessionContext, options: FormatSessionContextOptions = {}): string {
  const maxChars = options.maxChars ?? DEFAULT_CONTEXT_MAX_CHARS;
  if (!Number.isSafeInteger(maxChars) || maxChars < MIN_CONTEXT_MAX_CHARS) {
    throw new RangeError(`The context's bound is a whole number of characters, at least ${MIN_CONTEXT_MAX_CHARS}; got ${String(maxChars)}.`);
  }
  const lines = contextLines(context).flatMap((section, index) => (index === 0 ? section : ['', ...section]));
  const full = wellFormed(`${lines.join('\n')}\n`);
  if (full.length <= maxChars) return full;
  // Room for the note of what was left out (its count has at most 7 digits).
  const note = (left: number) => `[${left} more line${left === 1 ? '' : 's'} left out to stay within ${groupDigits(maxChars)} characters]\n`;
  const room = maxChars - note(9_999_999).length;
  let text = '';
  let kept = 0;
  for (const line of lines) {
    const next = `${line}\n`;
    if (text.length + next.length > room) {
      // The line that does not fit is cut to the room left, when that is worth a line; nothing after it is kept.
      const left = room - text.length;
      if (line !== '' && (kept === 0 || left >= 40)) {
        text += `${clipText(wellFormed(line), Math.max(3, left - 1))}\n`;
        kept++;
      }
      break;
    }
    text += next;
    kept++;
  }
  // A heading with none of its lines is left out too.
  const keptLines = text.trimEnd().split('\n');
  while (keptLines.length > 1 && /:$/.test(keptLines.at(-1)!) && !keptLines.at(-1)!.startsWith('- ')) keptLines.pop();
  while (keptLines.length > 1 && keptLines.at(-1) === '') keptLines.pop();
  // A line that was cut counts as kept.
  const left = lines.filter((line) => line !== '').length - keptLines.filter((line) => line !== '').length;
  return `${keptLines.join('\n')}\n${left > 0 ? note(left) : ''}`;
}

/**
 * The re-injectable context of a session as bounded text: what an agent
 * needs after a restart, a compaction or a handoff, most important first
 * (see {@link buildSessionContext} and {@link formatSessionContext}). This is
 * what the Claude Code hook prints on SessionStart.
 *
 * @example
 * process.stdout.write(sessionContextText(session.state, { maxChars: 4000 }));
 */
export function sessionContextText(view: SessionView, options: SessionContextOptions & FormatSessionContextOptions = {}): string {
  return formatSessionContext(buildSessionContext(view, options), options.maxChars === undefined ? {} : { maxChars: options.maxChars });
}
