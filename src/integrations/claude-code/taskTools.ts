// Claude Code's task tools (TodoWrite, TaskCreate, TaskUpdate) and subagent
// launches (Task, Agent), as task moves of the session: what a hook payload
// or a transcript's tool call and its result say, turned into the states the
// lifecycle machine is to bring each task to. Pure and lenient: any field may
// be missing, any status may be new.

import { createHash } from 'node:crypto';
import type { TaskState } from '../../../machines/taskLifecycleNames.js';
import type { TaskMove } from '../../engine/decideIntake.js';
import { isValidId } from '../../validation/ids.js';
import type { TodoItem } from './transcript/types.js';

/** The task tools whose calls move tasks, and the tools that launch a subagent. */
export const TASK_TOOLS: ReadonlySet<string> = new Set(['TodoWrite', 'TaskCreate', 'TaskUpdate']);
export const SUBAGENT_TOOLS: ReadonlySet<string> = new Set(['Task', 'Agent']);

/**
 * The lifecycle state a Claude Code task status asks for: `pending`,
 * `in_progress`, `completed`; `deleted` (the task will not be done: it
 * leaves the session's tasks, without failing) is `deleted`. Any other
 * status is data: undefined, the task is not moved.
 */
export function stateOfStatus(status: string | undefined): TaskState | 'deleted' | undefined {
  switch (status) {
    case 'pending':
      return 'pending';
    case 'in_progress':
      return 'in_progress';
    case 'completed':
      return 'completed';
    case 'deleted':
      return 'deleted';
    default:
      return undefined;
  }
}

const shortHash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 10);

/** An id made of `text` when it is a valid id after `prefix`, else of a slug of it and a hash (stable: the same text gives the same id). */
function idOf(prefix: string, text: string): string {
  const direct = `${prefix}${text}`;
  if (direct.length <= 80 && isValidId('task', direct)) return direct;
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `${prefix}${slug === '' ? '' : `${slug}-`}${shortHash(text)}`;
}

/** The task id of a TodoWrite item: its content made an id (`todo-write-the-spec-1a2b3c4d5e`). */
export const todoTaskId = (content: string): string => idOf('todo-', content);

/** The task id of a TaskCreate / TaskUpdate task (`task-3`). */
export const toolTaskId = (taskId: string): string => idOf('task-', taskId);

/** The task id of a subagent (`agent-a2898e3`). */
export const subagentTaskId = (agentId: string): string => idOf('agent-', agentId);

/** The agent id of a subagent task id, if it is one this module made directly. */
export const agentOfTaskId = (taskId: string): string | undefined => (taskId.startsWith('agent-') ? taskId.slice(6) : undefined);

const title = (text: string | undefined, fallback: string): string => {
  const line = (text ?? '').replace(/\s+/g, ' ').trim();
  return line === '' ? fallback : line.length > 1000 ? `${line.slice(0, 999)}…` : line;
};

/** True when a TodoWrite item's content can name a task: a string with something besides white space. */
const usableContent = (content: unknown): content is string => typeof content === 'string' && content.trim() !== '';

/**
 * How many items of a TodoWrite list (as the payload carries it, any shape)
 * name no task: not an object, or without usable `content`. They are
 * skipped, never made a task.
 */
export function unusableTodos(list: unknown): number {
  if (!Array.isArray(list)) return 0;
  return list.filter((item: unknown) => typeof item !== 'object' || item === null || !usableContent((item as { content?: unknown }).content)).length;
}

/** The prefix of TodoWrite items' task ids: the tasks one TodoWrite list stands for whole. */
export const TODO_LIST = 'todo-';

/**
 * The moves a TodoWrite list asks for: every item to its status; an item
 * without usable content is skipped. The whole list comes every time, so each
 * move says so ({@link TaskMove.list}): a TodoWrite task not completed that
 * the list no longer holds is deleted with them.
 */
export function todoMoves(todos: readonly TodoItem[]): TaskMove[] {
  const moves: TaskMove[] = [];
  for (const todo of todos) {
    if (!usableContent(todo.content)) continue;
    const to = stateOfStatus(todo.status) ?? 'pending';
    moves.push({ taskId: todoTaskId(todo.content), to, title: title(todo.content, todo.content), list: TODO_LIST });
  }
  return moves;
}

/** The move a TaskCreate asks for: the task its result names, pending. Undefined when the result names none. */
export function taskCreateMove(taskId: string | undefined, subject: string | undefined): TaskMove | undefined {
  if (taskId === undefined) return undefined;
  return { taskId: toolTaskId(taskId), to: 'pending', title: title(subject, `Task ${taskId}`) };
}

/** The move a TaskUpdate asks for: the task to its new status (added first when never seen). Undefined without a task id. */
export function taskUpdateMove(taskId: string | undefined, status: string | undefined, subject: string | undefined): TaskMove | undefined {
  if (taskId === undefined) return undefined;
  const to = stateOfStatus(status);
  // A status that is not one of the machine's: the task is known (added when new), not moved.
  return { taskId: toolTaskId(taskId), to: to ?? 'pending', title: title(subject, `Task ${taskId}`) };
}

/** What is known of a subagent when its task is moved. */
export interface SubagentFacts {
  agentId: string;
  description?: string | undefined;
  agentType?: string | undefined;
}

/** The move of a subagent's task: added (titled by what it was asked to do) and brought to `to`. */
export function subagentMove(facts: SubagentFacts, to: TaskState, reason?: string): TaskMove {
  const move: TaskMove = {
    taskId: subagentTaskId(facts.agentId),
    to,
    title: title(facts.description ?? (facts.agentType ? `${facts.agentType} subagent` : undefined), `Subagent ${facts.agentId}`),
  };
  if (isValidId('agent', facts.agentId)) move.assignee = facts.agentId;
  if (reason !== undefined) move.reason = reason;
  return move;
}

/** The state a Task / Agent result leaves its subagent in: still running (`async_launched`), failed (an error), or done. */
export function subagentStateOfResult(status: string | undefined, isError: boolean): TaskState {
  if (isError) return 'failed';
  if (status === 'async_launched' || status === 'running' || status === 'in_progress') return 'in_progress';
  return 'completed';
}
