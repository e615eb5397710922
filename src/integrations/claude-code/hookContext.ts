// The context a SessionStart hook gives back to Claude Code
// (`hookSpecificOutput.additionalContext`): what an agent needs to go on after
// a resume or a compaction, most important first, within Claude Code's
// 10,000-character cap. Built from the session view alone (no I/O).

import { contextItemsInOrder } from '../../projections/contextItems.js';
import type { SessionView } from '../../projections/sessionView.js';
import { contextItemLine } from '../../context/renderContextItems.js';
import type { BudgetReport } from '../../engine/sessionHandle.js';

/** Claude Code's cap on `additionalContext`: past it, the text is saved to a file and replaced with a preview. */
export const ADDITIONAL_CONTEXT_MAX = 10_000;

/** Tasks by how much they matter to an agent picking the work up: working, blocked, failed, pending. */
const TASK_ORDER: readonly string[] = ['in_progress', 'token_warning', 'context_switch', 'blocked', 'failed', 'recovered', 'pending'];
/** How many done tasks are named (the newest). */
const DONE_SHOWN = 5;

const oneLine = (text: string, max: number): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
};

const grouped = (n: number): string => n.toLocaleString('en-US');

/**
 * The re-injectable context of a session as text: a heading line (session,
 * status, model), the budget (context in use against the window, the level,
 * the spend), the open tasks (working, blocked, failed, then pending), the
 * critical and supporting context items (decisions, constraints, the last
 * compaction's summary), then the newest done tasks. Sections are added in
 * that order while they fit in `max` characters; a section that does not fit
 * whole is cut at a line, and what was left out is said on the last line.
 */
export function sessionContextText(view: SessionView, budget: BudgetReport, max = ADDITIONAL_CONTEXT_MAX): string {
  const session = view.session;
  const sections: string[][] = [];
  sections.push([
    `# moai-session: session ${session.sessionId}${session.title === undefined ? '' : ` (${oneLine(session.title, 200)})`}, ${session.status}, on ${session.model}`,
  ]);
  const budgetLine =
    budget.contextWindow === undefined
      ? `Context in use: ${grouped(budget.contextTokens)} tokens (no window known for ${budget.model}).`
      : `Context in use: ${grouped(budget.contextTokens)} of ${grouped(budget.contextWindow)} tokens (${(budget.percent ?? 0).toFixed(1)}%, ${budget.level ?? 'normal'}).`;
  sections.push([`${budgetLine} Spent ${grouped(budget.spend.totalTokens)} tokens, $${budget.costUsd.toFixed(2)}.`]);

  const tasks = view.tasks.order.toArray().map((id) => view.tasks.byId.get(id)!);
  const open = tasks
    .filter((task) => TASK_ORDER.includes(task.state))
    .sort((a, b) => TASK_ORDER.indexOf(a.state) - TASK_ORDER.indexOf(b.state) || b.version - a.version);
  if (open.length > 0) {
    sections.push([
      `## Open tasks (${open.length})`,
      ...open.map((task) => {
        const why = task.state === 'failed' ? task.failureReason : task.state === 'blocked' ? task.lastReason : undefined;
        return `- [${task.state}] ${task.taskId}: ${oneLine(task.title, 300)}${why === undefined ? '' : ` (${oneLine(why, 200)})`}`;
      }),
    ]);
  }
  const items = contextItemsInOrder(view.context).filter((item) => item.tier !== 'temporary');
  if (items.length > 0) sections.push(['## Context to keep', ...items.map((item) => oneLine(contextItemLine(item), 2000))]);
  const done = tasks.filter((task) => task.state === 'completed').sort((a, b) => b.version - a.version);
  if (done.length > 0) {
    sections.push([
      `## Done (${done.length}${done.length > DONE_SHOWN ? `, newest ${DONE_SHOWN}` : ''})`,
      ...done.slice(0, DONE_SHOWN).map((task) => `- ${task.taskId}: ${oneLine(task.title, 200)}`),
    ]);
  }
  return packSections(sections, max);
}

/** Lines of sections in order while they fit in `max`; a note of what was left out at the end. */
function packSections(sections: readonly string[][], max: number): string {
  const note = (left: number): string => `(${grouped(left)} more line${left === 1 ? '' : 's'} left out: \`moai-session state\` shows all.)`;
  const total = sections.reduce((sum, lines) => sum + lines.length, 0);
  const out: string[] = [];
  let length = 0;
  let used = 0;
  for (const lines of sections) {
    for (const line of lines) {
      // Room is kept for the note, in case something after this line is left out.
      const room = max - (used + 1 < total ? note(total - used - 1).length + 1 : 0);
      if (length + line.length + (out.length > 0 ? 1 : 0) > room) {
        out.push(note(total - used));
        return out.join('\n').slice(0, max);
      }
      length += line.length + (out.length > 0 ? 1 : 0);
      out.push(line);
      used++;
    }
  }
  return out.join('\n');
}
