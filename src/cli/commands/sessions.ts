import { costOfSpend } from '../../budget/pricing.js';
import { createFileViewSnapshots } from '../../checkpoints/viewSnapshots.js';
import { loadConfig } from '../../config/loadConfig.js';
import { windowOf } from '../../engine/decideBudget.js';
import { loadSessionView } from '../../engine/loadSessionView.js';
import { settingsFromConfig } from '../../engine/settings.js';
import { sessionIdOfStream } from '../../events/envelope.js';
import { tasksInOrder, type SessionView } from '../../projections/sessionView.js';
import { resolveSessionId } from '../../runtime/currentSession.js';
import { EXIT } from '../exitCodes.js';
import { coloursFor, stateColour } from '../colour.js';
import { percent, table, usd } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { plural } from '../../util/plural.js';
import { openLogForReading, sessionToRead, stateFolder } from '../stateFolder.js';

/** One session as `moai-session sessions` lists it. */
export interface SessionRow {
  sessionId: string;
  current: boolean;
  status: string;
  agent: string;
  model: string;
  openTasks: number;
  /** Context in use against the window, in percent; null when the window is unknown. */
  contextPercent: number | null;
  costUsd: number;
  /** When its last event happened. */
  lastActivity: string;
  parent: string | null;
}

/**
 * `moai-session sessions` (alias `ls`): every session of the log with its
 * status, agent, model, open tasks, context in use, cost and last activity;
 * the current session is marked.
 */
export async function sessionsCommand(options: GlobalOptions, io: CliIo): Promise<number> {
  const store = await openLogForReading(options, io);
  try {
    const dir = stateFolder(options, io);
    const settings = settingsFromConfig((await loadConfig({ dir, env: io.env }).catch(() => undefined))?.config);
    const snapshots = createFileViewSnapshots(dir);
    const current = await resolveSessionId(store, undefined, { dir }).catch(() => undefined);
    const rows: SessionRow[] = [];
    for (const info of await store.listStreams()) {
      const sessionId = sessionIdOfStream(info.stream);
      if (sessionId === undefined) continue;
      const view = (await loadSessionView(store, sessionId, { snapshots }))!.view;
      rows.push(rowOf(view, sessionId === current, settings));
    }
    if (options.json) {
      io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      return EXIT.ok;
    }
    if (rows.length === 0) {
      io.stdout('No sessions yet: start one with `moai-session start --agent A --model M`.\n');
      return EXIT.ok;
    }
    const colours = coloursFor(io);
    io.stdout(
      `${table([
        ['', 'session', 'status', 'agent', 'model', 'open tasks', 'context', 'cost', 'last activity'].map((h) => colours.bold(h)),
        ...rows.map((r) => [
          r.current ? colours.bold('*') : '',
          r.current ? colours.bold(r.sessionId) : r.sessionId,
          stateColour(colours, r.status),
          r.agent,
          r.model,
          String(r.openTasks),
          r.contextPercent === null ? '?' : percent(r.contextPercent),
          usd(r.costUsd),
          r.lastActivity,
        ]),
      ])}\n${plural(rows.length, 'session')}${current === undefined ? ', none current' : `; * marks the current one`}.\n`,
    );
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

function rowOf(view: SessionView, current: boolean, settings: ReturnType<typeof settingsFromConfig>): SessionRow {
  const window = windowOf(view.session.model, settings.budget);
  return {
    sessionId: view.session.sessionId,
    current,
    status: view.session.status,
    agent: view.session.agent,
    model: view.session.model,
    openTasks: tasksInOrder(view).filter((t) => t.state !== 'completed').length,
    contextPercent: window === undefined ? null : (view.tokens.contextTokens / window) * 100,
    costUsd: costOfSpend(view.tokens.byModel, settings.prices).usd,
    lastActivity: view.updatedAt,
    parent: view.session.parent?.sessionId ?? null,
  };
}

/** Options of `moai-session task list`. */
export interface TaskListCommandOptions extends GlobalOptions {
  /** The session as typed, or undefined for the current session. */
  sessionId: string | undefined;
  /** Only tasks in this state. */
  state?: string;
}

/** `moai-session task list [sessionId]`: a session's tasks, in the order they were added. */
export async function taskListCommand(options: TaskListCommandOptions, io: CliIo): Promise<number> {
  const store = await openLogForReading(options, io);
  try {
    const sessionId = await sessionToRead(store, options, io, options.sessionId);
    const view = (await loadSessionView(store, sessionId, { snapshots: createFileViewSnapshots(stateFolder(options, io)) }))!.view;
    const tasks = tasksInOrder(view).filter((t) => options.state === undefined || t.state === options.state);
    if (options.json) {
      io.stdout(`${JSON.stringify({ sessionId, tasks }, null, 2)}\n`);
      return EXIT.ok;
    }
    const lines = [`Tasks of session ${sessionId}: ${plural(tasks.length, 'task')}${options.state === undefined ? '' : ` ${options.state}`}.`];
    if (tasks.length > 0) {
      const colours = coloursFor(io);
      lines.push(
        table([
          ['  id', 'state', 'phase', 'assignee', 'moves', 'title'].map((h) => colours.bold(h)),
          ...tasks.map((t) => [`  ${t.taskId}`, stateColour(colours, t.state), t.phase ?? '', t.assignee ?? '', String(t.transitions), t.title + (t.lastReason ? ` (${t.lastReason})` : '')]),
        ]),
      );
    }
    io.stdout(`${lines.join('\n')}\n`);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
