import type { StoredEvent } from '../events/envelope.js';
import { checkpointsProjection, type CheckpointsState } from './checkpoints.js';
import type { Projection } from './projection.js';
import { sessionSummaryProjection, type SessionSummary } from './sessionSummary.js';
import { tasksProjection, type TasksState } from './tasks.js';
import { tokenHistoryProjection, type TokenHistory } from './tokenHistory.js';

/** Everything the log says about one session: every projection, side by side. */
export interface SessionView {
  session: SessionSummary;
  tasks: TasksState;
  tokens: TokenHistory;
  checkpoints: CheckpointsState;
}

/** All projections of a session in one fold: what the engine keeps live and replay rebuilds. */
export const sessionViewProjection: Projection<SessionView> = {
  name: 'sessionView',
  initialState: () => ({
    session: sessionSummaryProjection.initialState(),
    tasks: tasksProjection.initialState(),
    tokens: tokenHistoryProjection.initialState(),
    checkpoints: checkpointsProjection.initialState(),
  }),
  evolve(state, event: StoredEvent) {
    return {
      session: sessionSummaryProjection.evolve(state.session, event),
      tasks: tasksProjection.evolve(state.tasks, event),
      tokens: tokenHistoryProjection.evolve(state.tokens, event),
      checkpoints: checkpointsProjection.evolve(state.checkpoints, event),
    };
  },
};

/** The tasks of a view in the order they were added. */
export const tasksInOrder = (view: SessionView) => view.tasks.order.map((id) => view.tasks.byId[id]!);
