import { Map as ImmutableMap } from 'immutable';
import type { TaskEventType, TaskState } from '../../machines/taskLifecycle.js';
import type { StoredEvent } from '../events/envelope.js';
import { AppendOnlyList } from './appendOnlyList.js';
import type { Projection } from './projection.js';

/** One task as the log tells it. */
export interface TaskView {
  taskId: string;
  title: string;
  phase?: string;
  assignee?: string;
  state: TaskState;
  addedAt: string;
  updatedAt: string;
  /** How many lifecycle transitions the task has taken. */
  transitions: number;
  lastEvent?: TaskEventType;
  lastReason?: string;
  /** The stream version of the task's last change. */
  version: number;
}

/**
 * The tasks of a session, by id and in the order they were added. `byId` is a
 * persistent map (Immutable.js): changing one task costs O(log n), never a
 * copy of every task, and every older view stays as it was.
 */
export interface TasksState {
  byId: ImmutableMap<string, TaskView>;
  order: AppendOnlyList<string>;
}

/** The tasks projection: each task's lifecycle state and what moved it. */
export const tasksProjection: Projection<TasksState> = {
  name: 'tasks',
  initialState: () => ({ byId: ImmutableMap(), order: AppendOnlyList.empty() }),
  evolve(state, event: StoredEvent) {
    switch (event.type) {
      case 'TaskAdded': {
        const { taskId, title, phase, assignee } = event.data;
        const task: TaskView = {
          taskId,
          title,
          state: 'pending',
          addedAt: event.meta.at,
          updatedAt: event.meta.at,
          transitions: 0,
          version: event.version,
        };
        if (phase !== undefined) task.phase = phase;
        if (assignee !== undefined) task.assignee = assignee;
        if (state.byId.has(taskId)) return state;
        return { byId: state.byId.set(taskId, task), order: state.order.append(taskId) };
      }
      case 'TaskTransitioned': {
        const previous = state.byId.get(event.data.taskId);
        if (previous === undefined) return state;
        const task: TaskView = {
          ...previous,
          state: event.data.to,
          updatedAt: event.meta.at,
          transitions: previous.transitions + 1,
          lastEvent: event.data.event,
          version: event.version,
        };
        if (event.data.reason !== undefined) task.lastReason = event.data.reason;
        return { byId: state.byId.set(task.taskId, task), order: state.order };
      }
      default:
        return state;
    }
  },
};
