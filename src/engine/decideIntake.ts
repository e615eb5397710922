// Decisions for what comes in from outside the engine (Claude Code's hooks
// and transcripts, an Agent SDK stream): tasks brought to a state along the
// machine's legal path, tool failures, transcript cursors, aliases, and
// batches of commands appended together. Pure, like decide.

import type { AnyStateMachine } from 'xstate';
import type { TaskState } from '../../machines/taskLifecycle.js';
import type { SessionEventBody } from '../events/eventTypes.js';
import type { StoredEvent } from '../events/envelope.js';
import { CommandRejectedError, InvalidArgumentError, isCommandRejectedError, isInvalidArgumentError, isInvalidTransitionError } from '../errors.js';
import { sessionViewProjection, type SessionView } from '../projections/sessionView.js';
import { checkId } from '../validation/ids.js';
import type { AddSessionAlias, MoveTask, RecordToolFailure, RecordTranscriptRead, RunBatch, SessionCommand } from './commands.js';
import { transitionTableFor, type TransitionTable } from './transitionTable.js';

/** One task to bring to a state, as {@link MoveTask} says. */
export type TaskMove = Omit<MoveTask, 'type' | 'toolUseId'>;

/** The states a task counts as working in: asked to be `in_progress`, a task in one of them is left there. */
const WORKING: ReadonlySet<string> = new Set(['in_progress', 'token_warning', 'context_switch']);

/** Events that move a task on towards being done; the others (a block, a failure) only when that is the target. */
const FORWARD: ReadonlySet<string> = new Set(['START', 'COMPLETE', 'UNBLOCK', 'BUDGET_OK', 'SWITCH_DONE', 'RECOVER', 'RESUME']);
const TOWARDS: Readonly<Record<string, string>> = { failed: 'FAIL', blocked: 'BLOCK' };

const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * The shortest sequence of events that takes a task from `from` to `to` in
 * the machine, through forward events only (plus the one event into `to` for
 * a failed or blocked target); undefined when there is none.
 */
export function taskPath(table: TransitionTable, from: string, to: string): string[] | undefined {
  if (from === to || (to === 'in_progress' && WORKING.has(from))) return [];
  const previous = new Map<string, { state: string; event: string }>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length > 0) {
    const state = queue.shift()!;
    for (const event of table.accepted(state)) {
      if (!FORWARD.has(event) && TOWARDS[to] !== event) continue;
      const next = table.next(state, event);
      if (next === undefined || seen.has(next)) continue;
      seen.add(next);
      previous.set(next, { state, event });
      if (next === to) {
        const events: string[] = [];
        for (let at = to; at !== from; ) {
          const step = previous.get(at)!;
          events.unshift(step.event);
          at = step.state;
        }
        return events;
      }
      queue.push(next);
    }
  }
  return undefined;
}

/**
 * The events that bring each task of `moves` to its state (see
 * {@link MoveTask}), in order, each carrying `toolUseId`. A tool call already
 * recorded (one of the session's recent ones) moves nothing. With `list` (or a
 * move's `list`), the moves are that whole list: its tasks they do not name,
 * not completed, are deleted.
 */
export function decideTaskMoves(
  view: SessionView,
  moves: readonly TaskMove[],
  toolUseId: string | undefined,
  taskMachine: AnyStateMachine,
  list?: string,
): SessionEventBody[] {
  if (toolUseId !== undefined && view.ingest.recentToolUses.includes(toolUseId)) return [];
  const table = transitionTableFor(taskMachine);
  const states = new Map<string, TaskState>();
  // Tasks deleted by an earlier move of the same list: the view still has them.
  const deleted = new Set<string>();
  const bodies: SessionEventBody[] = [];
  for (const move of moves) {
    checkId('task', move.taskId);
    let state = states.get(move.taskId) ?? (deleted.has(move.taskId) ? undefined : view.tasks.byId.get(move.taskId)?.state);
    if (move.to === 'deleted') {
      // A task never seen is not made to be deleted; a completed one was done, and stays so.
      if (state === undefined || state === 'completed') continue;
      const body: SessionEventBody & { type: 'TaskDeleted' } = { type: 'TaskDeleted', data: { taskId: move.taskId, state } };
      if (move.reason !== undefined) body.data.reason = cut(move.reason, 10_000);
      if (toolUseId !== undefined) body.data.toolUseId = toolUseId;
      bodies.push(body);
      states.delete(move.taskId);
      deleted.add(move.taskId);
      continue;
    }
    const target = move.to;
    if (state === undefined) {
      const title = cut((move.title ?? '').trim() || move.taskId, 1000);
      const added: SessionEventBody & { type: 'TaskAdded' } = { type: 'TaskAdded', data: { taskId: move.taskId, title } };
      if (move.assignee !== undefined) {
        checkId('agent', move.assignee);
        added.data.assignee = move.assignee;
      }
      if (toolUseId !== undefined) added.data.toolUseId = toolUseId;
      bodies.push(added);
      state = 'pending';
    }
    for (const event of taskPath(table, state, target) ?? []) {
      const to = table.next(state, event) as TaskState;
      const body: SessionEventBody & { type: 'TaskTransitioned' } = {
        type: 'TaskTransitioned',
        data: { taskId: move.taskId, event: event as never, from: state, to },
      };
      if (move.reason !== undefined) body.data.reason = cut(move.reason, 10_000);
      if (toolUseId !== undefined) body.data.toolUseId = toolUseId;
      bodies.push(body);
      state = to;
    }
    states.set(move.taskId, state);
    deleted.delete(move.taskId);
  }
  bodies.push(...droppedFromLists(view, moves, deleted, toolUseId, list));
  return bodies;
}

/** A whole list's tasks ({@link TaskMove.list}) that the list no longer names and that are not done: deleted. */
function droppedFromLists(view: SessionView, moves: readonly TaskMove[], deleted: ReadonlySet<string>, toolUseId: string | undefined, list: string | undefined): SessionEventBody[] {
  const prefixes = new Set(moves.flatMap((move) => (move.list === undefined ? [] : [move.list])));
  if (list !== undefined) prefixes.add(list);
  if (prefixes.size === 0) return [];
  const named = new Set(moves.map((move) => move.taskId));
  const bodies: SessionEventBody[] = [];
  for (const task of view.tasks.byId.values()) {
    if (named.has(task.taskId) || deleted.has(task.taskId) || task.state === 'completed') continue;
    if (![...prefixes].some((prefix) => task.taskId.startsWith(prefix))) continue;
    const body: SessionEventBody & { type: 'TaskDeleted' } = { type: 'TaskDeleted', data: { taskId: task.taskId, state: task.state, reason: 'no longer in the list' } };
    if (toolUseId !== undefined) body.data.toolUseId = toolUseId;
    bodies.push(body);
  }
  return bodies;
}

/** The task a failed tool call is counted against: the one named, or the working task that moved last. */
function taskInProgress(view: SessionView): string | undefined {
  let best: { taskId: string; version: number } | undefined;
  for (const task of view.tasks.byId.values()) {
    if (WORKING.has(task.state) && (best === undefined || task.version > best.version)) best = { taskId: task.taskId, version: task.version };
  }
  return best?.taskId;
}

/** `ToolCallFailed`, against the task in progress; a tool call already recorded records nothing. */
export function decideToolFailure(view: SessionView, command: RecordToolFailure): SessionEventBody[] {
  if (command.toolUseId !== undefined && view.ingest.recentToolUses.includes(command.toolUseId)) return [];
  if (command.taskId !== undefined) checkId('task', command.taskId);
  const taskId = command.taskId !== undefined && view.tasks.byId.has(command.taskId) ? command.taskId : taskInProgress(view);
  const body: SessionEventBody & { type: 'ToolCallFailed' } = {
    type: 'ToolCallFailed',
    data: { tool: cut(command.tool.trim() || 'unknown', 200), error: cut(command.error, 10_000) },
  };
  if (command.toolUseId !== undefined) body.data.toolUseId = command.toolUseId;
  if (taskId !== undefined) body.data.taskId = taskId;
  if (command.interrupted !== undefined) body.data.interrupted = command.interrupted;
  return [body];
}

/** `TranscriptRead`: where a transcript was read to. */
export function decideTranscriptRead(view: SessionView, command: RecordTranscriptRead): SessionEventBody[] {
  const { type: _, ...data } = command;
  if (!Number.isSafeInteger(data.offset) || data.offset < 0 || !Number.isSafeInteger(data.line) || data.line < 0) {
    throw new InvalidArgumentError(`A transcript offset and line are whole numbers, 0 or more; got ${data.offset} and ${data.line}.`);
  }
  const known = view.ingest.transcripts[data.file];
  // Nothing moved: nothing to record.
  if (known !== undefined && known.offset === data.offset && known.path === data.path && sameJson(known.open, data.open)) return [];
  return [{ type: 'TranscriptRead', data }];
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** `SessionAliasAdded`, unless the session already has that alias. */
export function decideAlias(view: SessionView, command: AddSessionAlias): SessionEventBody[] {
  const alias = command.alias.trim();
  // eslint-disable-next-line no-control-regex
  if (alias === '' || alias.length > 500 || /[\u0000-\u001f\u007f]/.test(alias)) {
    throw new InvalidArgumentError(`An alias is one line of at most 500 characters; got ${JSON.stringify(cut(command.alias, 60))}.`);
  }
  if (view.ingest.aliases.includes(alias) || alias === view.session.sessionId) return [];
  return [{ type: 'SessionAliasAdded', data: { alias, source: command.source } }];
}

const isRefusal = (error: unknown): boolean => isCommandRejectedError(error) || isInvalidTransitionError(error) || isInvalidArgumentError(error);

/**
 * A batch: each command decided against the view the ones before it leave
 * (folded from their bodies, as the log will fold them), all bodies in order.
 * `decideOne` is `decide` (passed in, so this module does not import it).
 */
export function decideBatch(
  view: SessionView,
  command: RunBatch,
  decideOne: (view: SessionView, command: SessionCommand) => SessionEventBody[],
): SessionEventBody[] {
  let scratch = view;
  const bodies: SessionEventBody[] = [];
  for (const inner of command.commands) {
    if (inner.type === 'RunBatch' || inner.type === 'StartSession' || inner.type === 'ForkSession') {
      throw new CommandRejectedError(`A batch cannot hold a ${inner.type}: start the session first, then run the batch.`);
    }
    let decided: SessionEventBody[];
    try {
      decided = decideOne(scratch, inner);
    } catch (error) {
      if (command.skipRefused === true && isRefusal(error)) continue;
      throw error;
    }
    for (const body of decided) {
      scratch = sessionViewProjection.evolve(scratch, provisional(scratch, body));
      bodies.push(body);
    }
  }
  return bodies;
}

/**
 * A body as the next event of the stream, to fold into a scratch view (its id, position and time are the view's).
 * Built key by key, not spread from the body: a spread of bodies of many shapes is ~30x slower, paid per event of a large batch.
 */
const provisional = (view: SessionView, body: SessionEventBody): StoredEvent =>
  ({
    type: body.type,
    data: body.data,
    id: '',
    stream: view.session.stream,
    version: view.version + 1,
    position: view.position,
    schemaVersion: 1,
    meta: { at: view.updatedAt },
  }) as StoredEvent;
