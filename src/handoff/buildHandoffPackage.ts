import type { TaskState } from '../../machines/taskLifecycle.js';
import { InvalidArgumentError } from '../errors.js';
import { tasksInOrder, type SessionView } from '../projections/sessionView.js';
import type { TaskView } from '../projections/tasks.js';
import type { HandoffPackage, HandoffTask } from './handoffPackage.js';

/** Input of {@link buildHandoffPackage}: who hands to whom, and what the view cannot know. */
export interface BuildHandoffPackageInput {
  handoffId: string;
  fromAgent: string;
  toAgent: string;
  /** When the package is made; a `Date` is written as its ISO string. */
  createdAt: string | Date;
  /** What has happened so far, for the receiving agent. */
  summary: string;
  keyDecisions?: readonly string[];
  files?: readonly string[];
  /**
   * The checkpoint to name. Omitted: the newest checkpoint of the view that is
   * not archived (null when there is none). `null`: no checkpoint.
   */
  checkpointId?: string | null;
  /**
   * The task being worked on. Omitted: the task in progress (or blocked, in
   * `token_warning`, `context_switch` or `recovered`) that changed last, or
   * null when there is none.
   */
  currentTaskId?: string;
  /** The context window of the session's model, in tokens (see `contextWindowFor`). */
  contextWindow: number;
  /** What the receiver should do; omitted, a sentence is written from the checkpoint and the current task. */
  instructions?: string;
}

// Tasks someone is working on: candidates for the current task when none is named.
const WORKING_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'in_progress',
  'blocked',
  'token_warning',
  'context_switch',
  'recovered',
]);

function toHandoffTask(task: TaskView): HandoffTask {
  const handoffTask: HandoffTask = { id: task.taskId, title: task.title, state: task.state };
  if (task.phase !== undefined) handoffTask.phase = task.phase;
  return handoffTask;
}

function defaultInstructions(
  sessionId: string,
  checkpoint: { id: string; version: number | undefined } | null,
  version: number,
  current: TaskView | undefined,
): string {
  const restore =
    checkpoint === null
      ? `No checkpoint was named: resume session ${sessionId} by replaying its log up to version ${version}.`
      : `Restore checkpoint ${checkpoint.id}` +
        (checkpoint.version === undefined ? '' : ` (version ${checkpoint.version})`) +
        ` of session ${sessionId}, then replay the events after it up to version ${version}.`;
  const next =
    current === undefined
      ? ' No task is in progress: pick the next open task.'
      : ` Then continue task ${current.taskId} (${JSON.stringify(current.title)}), which is ${current.state}.`;
  return restore + next;
}

/**
 * Make the handoff package of a session from its view. Pure: the same view and
 * input always give the same package, and nothing is validated or written;
 * pass the result to `validateHandoffPackage` before handing off.
 *
 * Tokens used are the view's context in use (`view.tokens.contextTokens`);
 * tokens available are `contextWindow - used`, never below 0. Open tasks are
 * every task not completed (failed ones too: they can be recovered), in the
 * order they were added. `recovery_info.resume_from_version` is the named
 * checkpoint's version when the view records it, otherwise the view's version.
 *
 * @throws InvalidArgumentError when the view has no session, the context
 *   window is not a positive whole number, or `currentTaskId` is not a task
 *   of the session.
 * @example
 * const pkg = buildHandoffPackage(session.state, {
 *   handoffId: 'h-1', fromAgent: 'planner', toAgent: 'builder', createdAt: new Date(),
 *   summary: 'Spec written; build next.', contextWindow: contextWindowFor(session.state.session.model),
 * });
 */
export function buildHandoffPackage(view: SessionView, input: BuildHandoffPackageInput): HandoffPackage {
  const sessionId = view.session.sessionId;
  if (view.session.status === 'none' || sessionId === '') {
    throw new InvalidArgumentError('The view has no session yet: start the session before making a handoff package.');
  }
  const window = input.contextWindow;
  if (!Number.isSafeInteger(window) || window < 1) {
    throw new InvalidArgumentError(
      `The context window for the handoff of session ${sessionId} is ${String(window)}; ` +
        `it must be a whole number of tokens of at least 1 (see contextWindowFor).`,
    );
  }

  const tasks = tasksInOrder(view);
  let current: TaskView | undefined;
  if (input.currentTaskId !== undefined) {
    current = view.tasks.byId.get(input.currentTaskId);
    if (current === undefined) {
      throw new InvalidArgumentError(
        `Task ${input.currentTaskId} is not a task of session ${sessionId}, so it cannot be the handoff's current task. ` +
          (tasks.length > 0 ? `Its tasks are: ${tasks.map((t) => t.taskId).join(', ')}.` : 'The session has no tasks.'),
      );
    }
  } else {
    for (const task of tasks) {
      if (WORKING_STATES.has(task.state) && (current === undefined || task.version > current.version)) current = task;
    }
  }

  let checkpoint: { id: string; version: number | undefined } | null;
  if (input.checkpointId === null) {
    checkpoint = null;
  } else if (input.checkpointId !== undefined) {
    const id = input.checkpointId;
    checkpoint = { id, version: view.checkpoints.all.toArray().find((c) => c.checkpointId === id)?.version };
  } else {
    const newest = view.checkpoints.all
      .toArray()
      .reverse()
      .find((c) => !view.checkpoints.archived.has(c.checkpointId));
    checkpoint = newest === undefined ? null : { id: newest.checkpointId, version: newest.version };
  }

  const used = view.tokens.contextTokens;
  const snapshot: HandoffPackage['context_snapshot'] = {
    summary: input.summary,
    key_decisions: [...(input.keyDecisions ?? [])],
    checkpoint_id: checkpoint?.id ?? null,
  };
  if (input.files !== undefined) snapshot.files = [...input.files];

  return {
    handoff_id: input.handoffId,
    from_agent: input.fromAgent,
    to_agent: input.toAgent,
    created_at: typeof input.createdAt === 'string' ? input.createdAt : input.createdAt.toISOString(),
    session_context: {
      session_id: sessionId,
      model: view.session.model,
      context_window: window,
      tokens_used: used,
      tokens_available: Math.max(0, window - used),
      log_position: view.position,
      session_version: view.version,
    },
    task_context: {
      current_task: current === undefined ? null : toHandoffTask(current),
      open_tasks: tasks.filter((t) => t.state !== 'completed').map(toHandoffTask),
      completed_tasks: tasks.filter((t) => t.state === 'completed').map((t) => t.taskId),
    },
    context_snapshot: snapshot,
    recovery_info: {
      checkpoint_id: checkpoint?.id ?? null,
      resume_from_version: checkpoint?.version ?? view.version,
      instructions: input.instructions ?? defaultInstructions(sessionId, checkpoint, view.version, current),
    },
  };
}
