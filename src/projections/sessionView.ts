import type { StoredEvent } from '../events/envelope.js';
import { checkpointsProjection, type CheckpointsState } from './checkpoints.js';
import type { Projection } from './projection.js';
import { sessionSummaryProjection, type SessionSummary } from './sessionSummary.js';
import { tasksProjection, type TasksState } from './tasks.js';
import { tokenHistoryProjection, type TokenHistory } from './tokenHistory.js';

/** Everything the log says about one session: every projection, side by side. */
export interface SessionView {
  /** The stream version of the last event folded in; 0 before the first. */
  version: number;
  /** The store position of that event. */
  position: number;
  /** When that event happened. */
  updatedAt: string;
  session: SessionSummary;
  tasks: TasksState;
  tokens: TokenHistory;
  checkpoints: CheckpointsState;
}

/** All projections of a session in one fold: what the engine keeps live and replay rebuilds. */
export const sessionViewProjection: Projection<SessionView> = {
  name: 'sessionView',
  initialState: () => ({
    version: 0,
    position: 0,
    updatedAt: '',
    session: sessionSummaryProjection.initialState(),
    tasks: tasksProjection.initialState(),
    tokens: tokenHistoryProjection.initialState(),
    checkpoints: checkpointsProjection.initialState(),
  }),
  evolve(state, event: StoredEvent) {
    return {
      version: event.version,
      position: event.position,
      updatedAt: event.meta.at,
      session: sessionSummaryProjection.evolve(state.session, event),
      tasks: tasksProjection.evolve(state.tasks, event),
      tokens: tokenHistoryProjection.evolve(state.tokens, event),
      checkpoints: checkpointsProjection.evolve(state.checkpoints, event),
    };
  },
};

/** The tasks of a view in the order they were added. */
export const tasksInOrder = (view: SessionView) => view.tasks.order.toArray().map((id) => view.tasks.byId.get(id)!);

/**
 * A view as plain JSON data: the persistent lists and maps become arrays and
 * objects. This is the form written to checkpoints and memory files and
 * printed by `--json`.
 */
export function sessionViewToJson(view: SessionView): Record<string, unknown> {
  return JSON.parse(JSON.stringify(view)) as Record<string, unknown>;
}
