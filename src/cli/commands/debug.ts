import { sessionViewToJson } from '../../projections/sessionView.js';
import { relative } from 'node:path';
import type { LoadedCheckpoint } from '../../checkpoints/checkpointStore.js';
import { isCheckpointIntact } from '../../checkpoints/checkpointDocument.js';
import type { Engine } from '../../engine/createEngine.js';
import { windowOf } from '../../engine/decideBudget.js';
import { UnknownSessionError } from '../../errors.js';
import { checkMemorySync } from '../../memory/checkMemorySync.js';
import { buildTokenUsageLog, ownUsageEntries, tokenUsageLine } from '../../memory/memoryFiles.js';
import type { SessionView } from '../../projections/sessionView.js';
import { tasksInOrder } from '../../projections/sessionView.js';
import { checkId } from '../../validation/ids.js';
import { CliUsageError, EXIT } from '../exitCodes.js';
import { formatBudgetReport, formatSessionView, percent, table, tokens } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { resolveSessionId } from '../../runtime/currentSession.js';
import { withReadOnlyEngine } from '../stateFolder.js';

/** Options of `moai-session debug`: exactly one view. */
export interface DebugCommandOptions extends GlobalOptions {
  /** A session id, or true for every session. */
  showSessionState?: string | true;
  /** A session (id or unique start of one), or true for the current session. */
  showTokenBudget?: string | true;
  /** A session (id or unique start of one), or true for the current session. */
  listCheckpoints?: string | true;
  checkMemorySync?: boolean;
  /** A session id, or true for every session. */
  showTokenUsageLog?: string | true;
}

/** The views `debug` offers, as their options are spelled. */
export const DEBUG_VIEWS = [
  '--show-session-state',
  '--show-token-budget',
  '--list-checkpoints',
  '--check-memory-sync',
  '--show-token-usage-log',
] as const;

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/**
 * `moai-session debug`: the product's inspection views, each on the log
 * opened read-only. `--check-memory-sync` exits 1 when the memory files
 * differ from what the log gives, listing every difference.
 */
export async function debugCommand(options: DebugCommandOptions, io: CliIo): Promise<number> {
  const chosen = [
    options.showSessionState !== undefined,
    options.showTokenBudget !== undefined,
    options.listCheckpoints !== undefined,
    options.checkMemorySync === true,
    options.showTokenUsageLog !== undefined,
  ].filter(Boolean).length;
  if (chosen !== 1) {
    throw new CliUsageError(`debug shows one view at a time: give exactly one of ${DEBUG_VIEWS.join(', ')}.`);
  }
  return withReadOnlyEngine(options, io, async (engine, dir) => {
    if (options.showSessionState !== undefined) return showSessionState(engine, options, io, options.showSessionState);
    // As the product's debug views do: without a session, the current one.
    const session = (typed: string | true): Promise<string> => resolveSessionId(engine.store, typed === true ? undefined : typed, { dir });
    if (options.showTokenBudget !== undefined) return showTokenBudget(engine, options, io, await session(options.showTokenBudget));
    if (options.listCheckpoints !== undefined) return listCheckpoints(engine, options, io, await session(options.listCheckpoints));
    if (options.showTokenUsageLog !== undefined) return showTokenUsageLog(engine, options, io, options.showTokenUsageLog);
    return checkSync(engine, dir, options, io);
  });
}

async function allSessions(engine: Engine): Promise<ReadonlyMap<string, SessionView>> {
  return (await engine.replay()).sessions;
}

function requireSession(sessions: ReadonlyMap<string, SessionView>, sessionId: string): SessionView {
  checkId('session', sessionId);
  const view = sessions.get(sessionId);
  if (view === undefined || view.version === 0) throw new UnknownSessionError(sessionId, [...sessions.keys()]);
  return view;
}

/** One session as a row of the sessions table. */
function sessionRow(engine: Engine, sessionId: string, view: SessionView) {
  const tasks = tasksInOrder(view);
  const contextWindow = windowOf(view.session.model, engine.settings.budget);
  return {
    sessionId,
    status: view.session.status,
    agent: view.session.agent,
    model: view.session.model,
    version: view.version,
    tasks: tasks.length,
    openTasks: tasks.filter((task) => task.state !== 'completed').length,
    contextTokens: view.tokens.contextTokens,
    contextWindow: contextWindow ?? null,
    percent: contextWindow === undefined ? null : (view.tokens.contextTokens / contextWindow) * 100,
    parent: view.session.parent ?? null,
    pendingHandoff: view.session.pendingHandoff ?? null,
  };
}

async function showSessionState(engine: Engine, options: GlobalOptions, io: CliIo, sessionId: string | true): Promise<number> {
  if (sessionId !== true) {
    const view = await engine.sessionState(sessionId);
    io.stdout(options.json ? json(sessionViewToJson(view)) : `${formatSessionView(view, engine.settings.budget, engine.settings.prices)}\n`);
    return EXIT.ok;
  }
  const rows = [...(await allSessions(engine))].filter(([, view]) => view.version > 0).map(([id, view]) => sessionRow(engine, id, view));
  if (options.json) {
    io.stdout(json({ sessions: rows }));
    return EXIT.ok;
  }
  if (rows.length === 0) {
    io.stdout('The log has no sessions yet.\n');
    return EXIT.ok;
  }
  io.stdout(
    `${table([
      ['session', 'status', 'agent', 'model', 'version', 'open tasks', 'context', 'forked from'],
      ...rows.map((r) => [
        r.sessionId,
        r.status + (r.pendingHandoff === null ? '' : ` (to ${r.pendingHandoff.toAgent})`),
        r.agent,
        r.model,
        `v${r.version}`,
        `${r.openTasks} of ${r.tasks}`,
        `${tokens(r.contextTokens)}${r.percent === null ? '' : ` (${percent(r.percent)})`}`,
        r.parent === null ? '' : `${r.parent.sessionId} v${r.parent.version}`,
      ]),
    ])}\n`,
  );
  return EXIT.ok;
}

async function showTokenBudget(engine: Engine, options: GlobalOptions, io: CliIo, sessionId: string): Promise<number> {
  const session = await engine.openSession(sessionId);
  const report = { sessionId, ...session.budget() };
  io.stdout(options.json ? json(report) : `${formatBudgetReport(report)}\n`);
  return EXIT.ok;
}

/** A checkpoint as `--list-checkpoints` shows it. */
interface CheckpointListing {
  checkpointId: string;
  version: number;
  position: number;
  at: string;
  reason: string;
  checksum: string;
  /** The session whose stream recorded it: a fork inherits its parent's checkpoints up to the fork. */
  recordedBy: string;
  archived: boolean;
  /** `ok`, `archived`, `missing`, or what is wrong with the document. */
  document: string;
}

async function listCheckpoints(engine: Engine, options: GlobalOptions, io: CliIo, sessionId: string): Promise<number> {
  const view = await engine.sessionState(sessionId);
  const recordedBy = new Map<string, string>();
  const lineage = [sessionId];
  // The oldest ancestor that has a checkpoint recorded it.
  for (let parent = view.session.parent; parent !== undefined; ) {
    const parentView = await engine.sessionState(parent.sessionId, { atVersion: parent.version });
    lineage.push(parent.sessionId);
    for (const ref of parentView.checkpoints.all) recordedBy.set(ref.checkpointId, parent.sessionId);
    parent = parentView.session.parent;
    if (lineage.length > 10_000) break;
  }
  const documents = new Map<string, LoadedCheckpoint>();
  for (const id of lineage) {
    for (const found of await engine.checkpoints.list(id)) {
      documents.set(found.ok ? found.document.checkpointId : found.checkpointId, found);
    }
  }
  const listing: CheckpointListing[] = view.checkpoints.all.toArray().map((ref) => {
    const archived = view.checkpoints.archived.has(ref.checkpointId);
    const found = documents.get(ref.checkpointId);
    let document: string;
    if (archived) document = 'archived';
    else if (found === undefined) document = 'missing';
    else if (!found.ok) document = `unreadable: ${found.reason}`;
    else if (!isCheckpointIntact(found.document)) document = 'damaged: its state does not match its checksum';
    else if (found.document.checksum !== ref.checksum) document = 'damaged: its checksum is not the one the log recorded';
    else document = 'ok';
    return { ...ref, recordedBy: recordedBy.get(ref.checkpointId) ?? sessionId, archived, document };
  });
  if (options.json) {
    io.stdout(json({ sessionId, folder: engine.checkpoints.location, checkpoints: listing }));
    return EXIT.ok;
  }
  if (listing.length === 0) {
    io.stdout(`Session ${sessionId} has no checkpoints yet.\n`);
    return EXIT.ok;
  }
  io.stdout(
    [
      `Checkpoints of session ${sessionId} (${listing.length}; documents in ${relative(io.cwd, engine.checkpoints.location) || engine.checkpoints.location})`,
      table([
        ['  checkpoint', 'version', 'taken at', 'reason', 'document'],
        ...listing.map((c) => [
          `  ${c.checkpointId}`,
          `v${c.version}`,
          c.at,
          c.reason + (c.recordedBy === sessionId ? '' : ` (inherited from ${c.recordedBy})`),
          c.document,
        ]),
      ]),
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}

async function showTokenUsageLog(engine: Engine, options: GlobalOptions, io: CliIo, sessionId: string | true): Promise<number> {
  const { sessions, tokenHistories } = await engine.replay();
  const ids = sessionId === true ? [...sessions.keys()] : [sessionId];
  if (sessionId !== true) requireSession(sessions, sessionId);
  if (options.json) {
    const records = ids
      .flatMap((id) => ownUsageEntries(id, tokenHistories).map((entry) => ({ sessionId: id, ...entry })))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    io.stdout(json({ records }));
    return EXIT.ok;
  }
  const text =
    sessionId === true
      ? buildTokenUsageLog(sessions, tokenHistories)
      : ownUsageEntries(sessionId, tokenHistories)
          .map((entry) => `${tokenUsageLine(sessionId, entry)}\n`)
          .join('');
  io.stdout(text === '' ? 'No token usage recorded yet.\n' : text);
  return EXIT.ok;
}

async function checkSync(engine: Engine, dir: string, options: GlobalOptions, io: CliIo): Promise<number> {
  const report = await checkMemorySync(engine, dir);
  const where = `${relative(io.cwd, dir) || dir}/sessions`;
  if (options.json) {
    io.stdout(json(report));
  } else if (report.inSync) {
    io.stdout(`The memory files under ${where} match the log.\n`);
  } else {
    io.stdout(
      [
        `The memory files under ${where} differ from the log in ${report.differences.length} place${report.differences.length === 1 ? '' : 's'}:`,
        ...report.differences.map((d) => `  - ${d.message}`),
        ...(engine.settings.persistenceEnabled
          ? []
          : ['(session.persistence_enabled is false in the config, so nothing keeps these files in sync.)']),
        '',
      ].join('\n'),
    );
  }
  if (report.inSync) return EXIT.ok;
  io.stderr(
    `moai-session: the memory files under ${where} are out of sync with the log (${report.differences.length} difference${report.differences.length === 1 ? '' : 's'}); ` +
      '`moai-session replay --write-memory-files` rewrites the memory files from the log (a checkpoint document it cannot: take a new checkpoint).\n',
  );
  return EXIT.userError;
}
