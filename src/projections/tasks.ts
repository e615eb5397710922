import type { TaskEventType, TaskState } from '../../machines/taskLifecycle.js';
import type { StoredEvent } from '../events/envelope.js';
import { AppendOnlyList } from './appendOnlyList.js';
import { PersistentMap } from './persistentMap.js';
import type { Projection } from './projection.js';

/**
 * One task as the log tells it. Every key is always present (undefined when
 * not known), so every task view has one shape: updates stay fast.
 */
export interface TaskView {
  taskId: string;
  title: string;
  phase: string | undefined;
  assignee: string | undefined;
  state: TaskState;
  addedAt: string;
  updatedAt: string;
  /** How many lifecycle transitions the task has taken. */
  transitions: number;
  lastEvent: TaskEventType | undefined;
  /** The reason given with the last transition that gave one. */
  lastReason: string | undefined;
  /** Why the task last failed (the reason of its last `FAIL`), kept through the recovery that followed. */
  failureReason: string | undefined;
  /** The stream version of the task's last change. */
  version: number;
}

/**
 * The tasks of a session, by id and in the order they were added. `byId` is a
 * persistent map behind a plain `ReadonlyMap`: changing one task costs
 * O(log n), never a copy of every task, and every older view stays as it was.
 */
export interface TasksState {
  byId: ReadonlyMap<string, TaskView>;
  order: AppendOnlyList<string>;
}

/** The map a tasks state holds: the projection makes every one of them. */
const tasksById = (state: TasksState): PersistentMap<string, TaskView> => state.byId as PersistentMap<string, TaskView>;

/** The tasks projection: each task's lifecycle state and what moved it. */
export const tasksProjection: Projection<TasksState> = {
  name: 'tasks',
  initialState: () => ({ byId: PersistentMap.empty<string, TaskView>(), order: AppendOnlyList.empty() }),
  evolve(state, event: StoredEvent) {
    switch (event.type) {
      case 'TaskAdded': {
        const { taskId, title, phase, assignee } = event.data;
        if (state.byId.has(taskId)) return state;
        const task: TaskView = {
          taskId,
          title,
          phase,
          assignee,
          state: 'pending',
          addedAt: event.meta.at,
          updatedAt: event.meta.at,
          transitions: 0,
          lastEvent: undefined,
          lastReason: undefined,
          failureReason: undefined,
          version: event.version,
        };
        return { byId: tasksById(state).set(taskId, task), order: state.order.append(taskId) };
      }
      case 'TaskTransitioned': {
        const previous = state.byId.get(event.data.taskId);
        if (previous === undefined) return state;
        const task: TaskView = {
          taskId: previous.taskId,
          title: previous.title,
          phase: previous.phase,
          assignee: previous.assignee,
          state: event.data.to,
          addedAt: previous.addedAt,
          updatedAt: event.meta.at,
          transitions: previous.transitions + 1,
          lastEvent: event.data.event,
          lastReason: event.data.reason ?? previous.lastReason,
          failureReason: event.data.event === 'FAIL' ? event.data.reason : previous.failureReason,
          version: event.version,
        };
        return { byId: tasksById(state).set(task.taskId, task), order: state.order };
      }
      case 'TaskDeleted': {
        // Deleted (Claude Code's `deleted` status): the task leaves the session's tasks, open set and all; nothing failed.
        if (!state.byId.has(event.data.taskId)) return state;
        const { taskId } = event.data;
        return { byId: tasksById(state).delete(taskId), order: AppendOnlyList.of(state.order.toArray().filter((id) => id !== taskId)) };
      }
      default:
        return state;
    }
  },
};
