import type { StoredEvent } from '../events/envelope.js';
import type { TaskState } from '../../machines/taskLifecycleNames.js';
import { AppendOnlyList } from './appendOnlyList.js';
import { PersistentMap, PersistentSet } from './persistentMap.js';
import { checkpointsProjection, type CheckpointRef, type CheckpointsState } from './checkpoints.js';
import { contextItemsProjection, contextStateFromJson, type ContextState } from './contextItems.js';
import { ingestProjection, ingestStateFromJson, type IngestState } from './ingest.js';
import type { Projection } from './projection.js';
import { sessionSummaryProjection, type SessionSummary } from './sessionSummary.js';
import { tasksProjection, type TasksState, type TaskView } from './tasks.js';
import { tokenBudgetProjection, type TokenBudget } from './tokenBudget.js';

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
  /** Where the token budget stands (bounded); the call-by-call history is `tokenHistoryProjection`. */
  tokens: TokenBudget;
  checkpoints: CheckpointsState;
  /** The context items recorded and not dropped (critical, supporting, temporary). */
  context: ContextState;
  /** What came in from outside (Claude Code, the Agent SDK): where transcripts were read to, recent idempotency keys. */
  ingest: IngestState;
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
    tokens: tokenBudgetProjection.initialState(),
    checkpoints: checkpointsProjection.initialState(),
    context: contextItemsProjection.initialState(),
    ingest: ingestProjection.initialState(),
  }),
  evolve(state, event: StoredEvent) {
    return {
      version: event.version,
      position: event.position,
      // The repair's mark of a hole is no activity: the view's time stays that of the last event that happened.
      updatedAt: event.type === 'EventLost' ? state.updatedAt : event.meta.at,
      session: sessionSummaryProjection.evolve(state.session, event),
      tasks: tasksProjection.evolve(state.tasks, event),
      tokens: tokenBudgetProjection.evolve(state.tokens, event),
      checkpoints: checkpointsProjection.evolve(state.checkpoints, event),
      context: contextItemsProjection.evolve(state.context, event),
      ingest: ingestProjection.evolve(state.ingest, event),
    };
  },
};

/** The tasks of a view in the order they were added. */
export const tasksInOrder = (view: SessionView) => view.tasks.order.toArray().map((id) => view.tasks.byId.get(id)!);

/** A task not yet completed, as the re-injectable context and `context-cache.json` give it. */
export interface OpenTaskSummary {
  id: string;
  title: string;
  state: TaskState;
  phase: string | null;
  /** The reason given with its last move, if any. */
  lastReason: string | null;
  /** Why it last failed, kept through the recovery that followed; null when it never failed with a reason. */
  failureReason: string | null;
}

/** The session's tasks that are not completed, in the order they were added. */
export const openTaskSummaries = (view: SessionView): OpenTaskSummary[] =>
  tasksInOrder(view)
    .filter((task) => task.state !== 'completed')
    .map((task) => ({
      id: task.taskId,
      title: task.title,
      state: task.state,
      phase: task.phase ?? null,
      lastReason: task.lastReason ?? null,
      failureReason: task.failureReason ?? null,
    }));

/**
 * A view as plain JSON data: the persistent lists and maps become arrays and
 * objects. This is the form written to checkpoints and memory files and
 * printed by `--json`.
 */
export function sessionViewToJson(view: SessionView): Record<string, unknown> {
  return JSON.parse(JSON.stringify(view)) as Record<string, unknown>;
}

/**
 * Rebuild a view from its JSON form (a checkpoint's state): the inverse of
 * {@link sessionViewToJson}. The caller has checked the JSON's checksum.
 */
export function sessionViewFromJson(json: Record<string, unknown>): SessionView {
  const plain = json as unknown as {
    version: number;
    position: number;
    updatedAt: string;
    session: SessionSummary;
    tasks: { byId: Record<string, TaskView>; order: string[] };
    tokens: TokenBudget;
    checkpoints: { all: CheckpointRef[]; archived: string[] };
    context?: unknown;
    ingest?: unknown;
  };
  const tasks = PersistentMap.of<string, TaskView>(
    plain.tasks.order.map((id) => {
      const task = plain.tasks.byId[id]!;
      // JSON drops undefined keys; views keep every key.
      return [id, {
        taskId: task.taskId,
        title: task.title,
        phase: task.phase,
        assignee: task.assignee,
        state: task.state,
        addedAt: task.addedAt,
        updatedAt: task.updatedAt,
        transitions: task.transitions,
        lastEvent: task.lastEvent,
        lastReason: task.lastReason,
        failureReason: task.failureReason,
        version: task.version,
      }] as const;
    }),
  );
  return {
    version: plain.version,
    position: plain.position,
    updatedAt: plain.updatedAt,
    session: plain.session,
    tasks: { byId: tasks, order: AppendOnlyList.of(plain.tasks.order) },
    // JSON drops undefined keys; views keep every key.
    tokens: {
      ...plain.tokens,
      model: plain.tokens.model,
      lastCallAt: plain.tokens.lastCallAt,
      // A state written before the spend was split by model: what it had spent is the model's it had then.
      byModel: plain.tokens.byModel ?? (plain.tokens.spend.totalTokens > 0 ? { [plain.tokens.model ?? plain.session.model]: plain.tokens.spend } : {}),
    },
    checkpoints: { all: AppendOnlyList.of(plain.checkpoints.all), archived: PersistentSet.of(plain.checkpoints.archived) },
    context: contextStateFromJson(plain.context),
    ingest: ingestStateFromJson(plain.ingest),
  };
}
