// `moai-session statusline`: the line Claude Code shows under its prompt,
// from the payload it sends the status line command and the session's view,
// read without the writer lock (a status line never waits for a writer).

import { budgetReport } from '../../engine/sessionHandle.js';
import type { SessionView } from '../../projections/sessionView.js';
import type { BudgetReport } from '../../engine/sessionHandle.js';
import { hookStateFolder, sessionOfClaudeId } from './runHook.js';
import { asObject, asString } from './transcript/toolShapes.js';

/** Tasks that are still to be done. */
const OPEN: ReadonlySet<string> = new Set(['pending', 'in_progress', 'token_warning', 'context_switch', 'blocked', 'recovered']);

const short = (n: number): string =>
  n >= 1_000_000 ? `${(n / 1_000_000).toFixed(n >= 10_000_000 ? 0 : 1)}M` : n >= 1_000 ? `${(n / 1_000).toFixed(n >= 100_000 ? 0 : 1)}k` : String(n);

/** The status line of a session: context against the window and the level, open tasks, cost. */
export function statusLineText(view: SessionView, budget: BudgetReport): string {
  const open = view.tasks.order.toArray().filter((id) => OPEN.has(view.tasks.byId.get(id)!.state)).length;
  const working = view.tasks.order.toArray().filter((id) => view.tasks.byId.get(id)!.state === 'in_progress').length;
  const context =
    budget.contextWindow === undefined
      ? `ctx ${short(budget.contextTokens)}`
      : `ctx ${short(budget.contextTokens)}/${short(budget.contextWindow)} ${(budget.percent ?? 0).toFixed(0)}% ${budget.level ?? 'ok'}`;
  const tasks = `${open} open task${open === 1 ? '' : 's'}${working > 0 ? ` (${working} in progress)` : ''}`;
  const status = view.session.status === 'active' ? '' : ` · ${view.session.status}`;
  return `moai ${context} · ${tasks} · $${budget.costUsd.toFixed(2)}${status}`;
}

/** Options of {@link runStatusLine}. */
export interface StatusLineOptions {
  dir?: string;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** The line for one status line payload (never throws: a problem is a short line saying so). */
export async function runStatusLine(text: string, options: StatusLineOptions): Promise<string> {
  let payload: Record<string, unknown> = {};
  try {
    payload = asObject(JSON.parse(text)) ?? {};
  } catch {
    // no payload: the state folder of the working folder, no session
  }
  const workspace = asObject(payload.workspace);
  const projectDir = asString(workspace?.project_dir);
  const env = projectDir !== undefined && options.env.CLAUDE_PROJECT_DIR === undefined ? { ...options.env, CLAUDE_PROJECT_DIR: projectDir } : options.env;
  const dir = hookStateFolder({ ...options, env }, asString(payload.cwd));
  const claudeId = asString(payload.session_id);
  if (claudeId === undefined || claudeId === '') return 'moai: no session';
  try {
    const { openStateFolder } = await import('../../runtime/openStateFolder.js');
    const folder = await openStateFolder({ dir, mode: 'read' });
    try {
      const sessionId = sessionOfClaudeId(dir, claudeId);
      const { sessionStream } = await import('../../events/envelope.js');
      if ((await folder.engine.store.streamVersion(sessionStream(sessionId))) === 0) return 'moai: session not recorded yet';
      const view = await folder.engine.sessionState(sessionId);
      return statusLineText(view, budgetReport(view, folder.engine.settings));
    } finally {
      await folder.close();
    }
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    return /does not exist|no such|state folder at|not a state folder|ENOENT/i.test(message) ? 'moai: no state folder' : `moai: ${message.slice(0, 80)}`;
  }
}
