import { percentOfWindow } from '../budget/usage.js';
import type { StoredEvent } from '../events/envelope.js';
import type { SessionView } from '../projections/sessionView.js';
import { tasksInOrder } from '../projections/sessionView.js';
import { windowOf, type BudgetSettings } from '../engine/decideBudget.js';
import { costOfSpend, type ModelPrice } from '../budget/pricing.js';
import { groupDigits } from '../util/groupDigits.js';
import { visibleLength } from './colour.js';

/** A short, readable description of an event's data. */
export function describeEvent(event: StoredEvent): string {
  switch (event.type) {
    case 'SessionStarted':
      return `${event.data.sessionId} by ${event.data.agent} on ${event.data.model}${event.data.title ? `: ${event.data.title}` : ''}`;
    case 'SessionResumed':
      return `by ${event.data.agent}${event.data.reason ? ` (${event.data.reason})` : ''}`;
    case 'SessionForked':
      return `from ${event.data.parentSessionId} at v${event.data.parentVersion}`;
    case 'SessionEnded':
      return event.data.reason ?? '';
    case 'ModelSwitched':
      return `${event.data.from} -> ${event.data.to}`;
    case 'TaskAdded':
      return `${event.data.taskId}: ${event.data.title}${event.data.phase ? ` [${event.data.phase}]` : ''}`;
    case 'TaskTransitioned':
      return `${event.data.taskId} ${event.data.event}: ${event.data.from} -> ${event.data.to}${event.data.reason ? ` (${event.data.reason})` : ''}`;
    case 'TokenUsageRecorded': {
      const u = event.data;
      return `${u.model}${u.main ? '' : ' (sidechain)'} in ${u.inputTokens} out ${u.outputTokens} cache+ ${u.cacheCreationInputTokens} cache> ${u.cacheReadInputTokens}`;
    }
    case 'BudgetThresholdCrossed':
      return `${event.data.level} at ${event.data.percent.toFixed(1)}% (${event.data.contextTokens}/${event.data.contextWindow})`;
    case 'BudgetThresholdCleared':
      return `${event.data.level} cleared at ${event.data.percent.toFixed(1)}% (${event.data.contextTokens}/${event.data.contextWindow})`;
    case 'ContextCompacted':
      return event.data.tokensAfter === undefined ? `${event.data.tokensBefore} -> ? tokens (size after not reported)` : `${event.data.tokensBefore} -> ${event.data.tokensAfter} tokens`;
    case 'CheckpointCreated':
      return `${event.data.checkpointId} (${event.data.reason}) at v${event.data.version}`;
    case 'CheckpointArchived':
      return event.data.checkpointId;
    case 'HandoffRequested':
      return `${event.data.handoffId}: ${event.data.fromAgent} -> ${event.data.toAgent}`;
    case 'HandoffAccepted':
      return `${event.data.handoffId} by ${event.data.agent}`;
    case 'HandoffRejected':
      return `${event.data.handoffId}: ${event.data.reason}`;
    case 'RecoveryStarted':
      return `${event.data.recoveryId} (${event.data.strategy})`;
    case 'RecoveryStepCompleted':
      return `${event.data.recoveryId} ${event.data.step}: ${event.data.detail}`;
    case 'RecoveryCompleted':
      return `${event.data.recoveryId}: ${event.data.summary.replace(/\s*\n\s*/g, ' ')}`;
    case 'ContextItemRecorded': {
      const d = event.data;
      const content = d.text ?? JSON.stringify(d.value) ?? '';
      return `${d.itemId}${d.tag ? ` (${d.tag})` : ''} ${d.tier}${d.kind ? ` ${d.kind}` : ''}: ${content.length > 60 ? `${content.slice(0, 57)}...` : content}`;
    }
    case 'ContextItemUpdated':
      return `${event.data.itemId}${event.data.tier ? ` -> ${event.data.tier}` : ''}${event.data.reason ? ` (${event.data.reason})` : ''}`;
    case 'ContextItemDropped':
      return `${event.data.itemId}${event.data.reason ? ` (${event.data.reason})` : ''}`;    case 'TranscriptRead':
      return `${event.data.file} to line ${event.data.line} (byte ${event.data.offset})${event.data.open.length > 0 ? `, ${event.data.open.length} call(s) open` : ''}`;
    case 'SessionAliasAdded':
      return `also known as ${event.data.alias} (${event.data.source})`;
    case 'ToolCallFailed':
      return `${event.data.tool}${event.data.taskId ? ` during ${event.data.taskId}` : ''}: ${event.data.error.split('\n')[0]!.slice(0, 80)}`;
    case 'EventLost':
      return `lost to damage at ${event.data.file}:${event.data.line} (${event.data.reason}); see ${event.data.quarantine}`;
    case 'TaskDeleted':
      return `${event.data.taskId} deleted (was ${event.data.state})${event.data.reason ? ` (${event.data.reason})` : ''}`;
  }
}

/** One event as one line: position, stream and version, time, type, what happened. */
export function formatEventLine(event: StoredEvent): string {
  return [
    String(event.position).padStart(6),
    `${event.stream} v${event.version}`.padEnd(24),
    event.meta.at,
    event.type.padEnd(22),
    describeEvent(event),
  ].join('  ');
}

/** Lay out rows as aligned columns (colour codes take no width). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
  const pad = (cell: string, width: number): string => cell + ' '.repeat(Math.max(0, width - visibleLength(cell)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** A session view as a readable block of text. */
export function formatSessionView(view: SessionView, budget?: BudgetSettings, prices?: Readonly<Record<string, ModelPrice>>): string {
  const s = view.session;
  const lines = [
    `Session ${s.sessionId}${s.title ? `: ${s.title}` : ''}`,
    `  status    ${s.status}`,
    `  agent     ${s.agent} (agents: ${s.agents.join(', ')})`,
    `  model     ${s.model}`,
    `  version   ${view.version} (log position ${view.position})`,
    `  started   ${s.startedAt}${s.resumes > 0 ? `, resumed ${s.resumes} time${s.resumes === 1 ? '' : 's'}` : ''}`,
  ];
  if (s.parent) lines.push(`  forked    from ${s.parent.sessionId} at v${s.parent.version}`);
  if (s.startLost) lines.push('  start     lost (its first event is not in the log: lost in a repair, or left out by --skip-damaged); agent, model and start are from the events after it');
  if (s.endedAt) lines.push(`  ended     ${s.endedAt}${s.endReason ? ` (${s.endReason})` : ''}`);
  const tasks = tasksInOrder(view);
  lines.push('', `Tasks (${tasks.length})`);
  if (tasks.length > 0) {
    lines.push(
      table([
        ['  id', 'state', 'moves', 'title'],
        ...tasks.map((t) => [`  ${t.taskId}`, t.state, String(t.transitions), t.title + (t.lastReason ? ` (${t.lastReason})` : '')]),
      ]),
    );
  }
  const tokens = view.tokens;
  const window = windowOf(s.model, budget); // the config's context windows, when given
  lines.push(
    '',
    'Tokens',
    `  context in use  ${groupDigits(tokens.contextTokens)}` +
      (window === undefined
        ? ` (no known context window for ${s.model})`
        : ` of ${groupDigits(window)} (${percentOfWindow(tokens.contextTokens, window).toFixed(1)}% of ${s.model}'s window)`),
    `  spent           ${groupDigits(tokens.spend.totalTokens)} over ${tokens.calls} call${tokens.calls === 1 ? '' : 's'}` +
      ` (in ${groupDigits(tokens.spend.inputTokens)}, out ${groupDigits(tokens.spend.outputTokens)},` +
      ` cache write ${groupDigits(tokens.spend.cacheCreationInputTokens)}, cache read ${groupDigits(tokens.spend.cacheReadInputTokens)})`,
  );
  if (tokens.calls > 0) {
    const { usd, unpriced } = costOfSpend(tokens.byModel, prices);
    lines.push(`  cost            ${costText(usd, unpriced)}`);
  }
  if (view.checkpoints.all.length > 0) {
    lines.push('', `Checkpoints (${view.checkpoints.all.length})`);
    for (const c of view.checkpoints.all) {
      lines.push(`  ${c.checkpointId}  v${c.version}  ${c.reason}${view.checkpoints.archived.has(c.checkpointId) ? '  (archived)' : ''}`);
    }
  }
  return lines.join('\n');
}


/** US dollars as a person reads them: cents, or four decimals under a dollar. */
export const usd = (amount: number): string => `$${amount >= 1 ? groupDigits(Math.round(amount * 100) / 100) : amount.toFixed(4)}`;

/** A cost and what it leaves out. */
function costText(amount: number, unpriced: readonly string[]): string {
  return `${usd(amount)} at list prices` + (unpriced.length > 0 ? ` (no price known for ${unpriced.join(', ')}: add it under models.prices)` : '');
}

/** A whole number with thousands separators: 150,000. */
export const tokens = (n: number): string => groupDigits(n);

/** A percent with one decimal: 75.0%. */
export const percent = (n: number): string => `${n.toFixed(1)}%`;

/**
 * Events a command appended, one indented line each: session and version,
 * type, what happened. Empty when there were none.
 */
export function formatAppended(events: readonly StoredEvent[]): string[] {
  const where = events.map((event) => `${event.stream.replace(/^session-/, '')} v${event.version}`);
  const width = Math.max(0, ...where.map((w) => w.length));
  return events.map((event, i) => `  ${where[i]!.padEnd(width)}  ${event.type.padEnd(22)}  ${describeEvent(event)}`);
}

/** The budget report of `SessionHandle.budget()` and the settings it was measured against. */
export interface BudgetReportInput {
  sessionId: string;
  model: string;
  contextWindow: number | undefined;
  contextTokens: number;
  percent: number | undefined;
  level: string | undefined;
  thresholds: { monitor: number; warning: number; emergency: number };
  spend: { inputTokens: number; outputTokens: number; cacheCreationInputTokens: number; cacheReadInputTokens: number; totalTokens: number };
  costUsd: number;
  unpricedModels: readonly string[];
  allocation:
    | {
        contextWindow: number;
        shares: Readonly<Record<string, { percent: number; tokens: number }>>;
        reserveBudgetTokens: number;
        availableTokens: number;
        remainingBeforeReserveTokens: number;
        reserveInUse: boolean;
        reserveEatenTokens: number;
        warnings: readonly string[];
      }
    | undefined;
}

/** A session's token budget as a readable block: context against the window, the level, the allocation, the warnings. */
export function formatBudgetReport(report: BudgetReportInput): string {
  const { thresholds: t } = report;
  const lines = [`Token budget of session ${report.sessionId} (${report.model})`];
  if (report.contextWindow === undefined || report.percent === undefined) {
    lines.push(
      `  context    ${tokens(report.contextTokens)} tokens; no context window is known for ${report.model}`,
      `             (add it under models.context_windows in the config to get thresholds and an allocation)`,
    );
  } else {
    lines.push(
      `  context    ${tokens(report.contextTokens)} of ${tokens(report.contextWindow)} tokens (${percent(report.percent)} of the window)`,
      `  level      ${report.level ?? 'unknown'} (monitor ${t.monitor}%, warning ${t.warning}%, emergency ${t.emergency}%)`,
    );
    const next = (['monitor', 'warning', 'emergency'] as const).find((level) => report.percent! < t[level]);
    if (next !== undefined) {
      const at = Math.ceil((report.contextWindow * t[next]) / 100);
      lines.push(`  next       ${next} at ${tokens(at)} tokens, ${tokens(Math.max(0, at - report.contextTokens))} from here`);
    }
  }
  const s = report.spend;
  lines.push(
    `  spent      ${tokens(s.totalTokens)} (in ${tokens(s.inputTokens)}, out ${tokens(s.outputTokens)}, cache write ${tokens(s.cacheCreationInputTokens)}, cache read ${tokens(s.cacheReadInputTokens)})`,
    `  cost       ${costText(report.costUsd, report.unpricedModels)}`,
  );
  const a = report.allocation;
  if (a !== undefined) {
    lines.push('', `Allocation of the ${tokens(a.contextWindow)}-token window`);
    lines.push(
      table([
        ['  share', 'percent', 'tokens'],
        ...Object.entries(a.shares).map(([name, share]) => [`  ${name}`, `${share.percent}%`, tokens(share.tokens)]),
      ]),
    );
    lines.push(
      `  reserve held back         ${tokens(a.reserveBudgetTokens)} tokens`,
      `  available before reserve  ${tokens(a.availableTokens)} tokens, ${tokens(a.remainingBeforeReserveTokens)} still free`,
      `  reserve in use            ${a.reserveInUse ? `yes, ${tokens(a.reserveEatenTokens)} tokens` : 'no'}`,
    );
    if (a.warnings.length > 0) lines.push('', 'Warnings', ...a.warnings.map((w) => `  ${w}`));
  }
  return lines.join('\n');
}

/** A configuration (or any JSON object) as `key.path  value` lines, one a leaf; an empty object or list is one leaf. */
export function flattenForDisplay(value: unknown, prefix = ''): [string, string][] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) =>
      flattenForDisplay(child, prefix === '' ? key : `${prefix}.${key}`),
    );
  }
  return [[prefix, JSON.stringify(value) ?? 'undefined']];
}
