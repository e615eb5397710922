import type { TaskState } from '../../machines/taskLifecycle.js';
import { DEFAULT_CONFIG } from '../config/defaultConfig.js';
import { packText } from '../context/packText.js';
import { renderContextItems } from '../context/renderContextItems.js';
import { InvalidArgumentError } from '../errors.js';
import { contextItemsInOrder, contextItemText, findContextItem } from '../projections/contextItems.js';
import { tasksInOrder, type SessionView } from '../projections/sessionView.js';
import type { TaskView } from '../projections/tasks.js';
import type { HandoffTask, WrittenHandoffPackage } from './handoffPackage.js';

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
  /** `recovery_info.recovery_tokens_reserved`: `session.context_budget.reserve_tokens` (default 55,000). */
  reserveTokens?: number;
  /** `recovery_info.session_fork_available`: `session.forking_enabled` (default true). */
  forkingEnabled?: boolean;
  /** `context_snapshot.token_budget_strategy`: `session.recovery_strategy` (default `progressive_summarization`). */
  tokenBudgetStrategy?: string;
}

/**
 * The tags of the context items a package's fields come from (and that
 * accepting a package records): `user_language`, `expertise_level`,
 * `current_project`, `spec_id`, `current_phase`, `next_step`, `completed_steps`.
 */
export const HANDOFF_CONTEXT_TAGS = {
  userLanguage: 'user_language',
  expertiseLevel: 'expertise_level',
  currentProject: 'current_project',
  specId: 'spec_id',
  currentPhase: 'current_phase',
  nextStep: 'next_step',
  completedSteps: 'completed_steps',
} as const;

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
 * The product document's fields come from the view: `context_position` is
 * the percent of the window in use (2 decimals); `user_language`,
 * `expertise_level`, `current_project`, `spec_id`, `current_phase` and
 * `next_step` are the texts of the context items of those tags
 * ({@link HANDOFF_CONTEXT_TAGS}), the phase defaulting to the current task's
 * and the next step to the first pending task, null when there is none;
 * `completed_steps` are the steps a package carried in (the
 * `completed_steps` item) and the completed tasks; `constraints` the
 * critical items of kind `constraint`; `critical_context` the critical items
 * one a line (compressed above 8 KiB), or null; `session_checkpoints` the
 * checkpoints not archived; `active_todos` the open tasks;
 * `last_checkpoint` the named (else newest) checkpoint's time.
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
export function buildHandoffPackage(view: SessionView, input: BuildHandoffPackageInput): WrittenHandoffPackage {
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

  const live = view.checkpoints.all.toArray().filter((c) => !view.checkpoints.archived.has(c.checkpointId));
  let checkpoint: { id: string; version: number | undefined; at: string | undefined } | null;
  if (input.checkpointId === null) {
    checkpoint = null;
  } else if (input.checkpointId !== undefined) {
    const id = input.checkpointId;
    const ref = view.checkpoints.all.toArray().find((c) => c.checkpointId === id);
    checkpoint = { id, version: ref?.version, at: ref?.at };
  } else {
    const newest = live.at(-1);
    checkpoint = newest === undefined ? null : { id: newest.checkpointId, version: newest.version, at: newest.at };
  }

  const used = view.tokens.contextTokens;
  const available = Math.max(0, window - used);
  const createdAt = typeof input.createdAt === 'string' ? input.createdAt : input.createdAt.toISOString();
  const open = tasks.filter((t) => t.state !== 'completed');
  const completed = tasks.filter((t) => t.state === 'completed').map((t) => t.taskId);

  // The product's fields that the session's context items hold, by tag.
  const tagged = (tag: string): string | null => {
    const item = findContextItem(view.context, tag);
    return item === undefined ? null : contextItemText(item);
  };
  const items = contextItemsInOrder(view.context);
  const critical = items.filter((item) => item.tier === 'critical');
  const carriedSteps = findContextItem(view.context, HANDOFF_CONTEXT_TAGS.completedSteps)?.value;
  const steps = Array.isArray(carriedSteps) ? carriedSteps.filter((step): step is string => typeof step === 'string' && step !== '') : [];
  const nextTask = open.find((t) => t.state === 'pending' && t.taskId !== current?.taskId);

  const snapshot: WrittenHandoffPackage['context_snapshot'] = {
    critical_context: critical.length === 0 ? null : packText(renderContextItems(critical)),
    session_checkpoints: live.map((c) => ({ checkpoint_id: c.checkpointId, timestamp: c.at, version: c.version, reason: c.reason })),
    active_todos: open.map((t) => ({ id: t.taskId, content: t.title, status: t.state })),
    token_budget_strategy: input.tokenBudgetStrategy ?? DEFAULT_CONFIG.session.recovery_strategy,
    summary: input.summary,
    key_decisions: [...(input.keyDecisions ?? [])],
    checkpoint_id: checkpoint?.id ?? null,
  };
  if (input.files !== undefined) snapshot.files = [...input.files];

  return {
    handoff_id: input.handoffId,
    timestamp: createdAt,
    from_agent: input.fromAgent,
    to_agent: input.toAgent,
    session_context: {
      session_id: sessionId,
      model: view.session.model,
      context_position: Math.round((used / window) * 10_000) / 100,
      available_tokens: available,
      user_language: tagged(HANDOFF_CONTEXT_TAGS.userLanguage),
      expertise_level: tagged(HANDOFF_CONTEXT_TAGS.expertiseLevel),
      current_project: tagged(HANDOFF_CONTEXT_TAGS.currentProject),
      context_window: window,
      tokens_used: used,
      tokens_available: available,
      log_position: view.position,
      session_version: view.version,
    },
    task_context: {
      spec_id: tagged(HANDOFF_CONTEXT_TAGS.specId),
      current_phase: tagged(HANDOFF_CONTEXT_TAGS.currentPhase) ?? current?.phase ?? null,
      completed_steps: [...steps, ...completed.filter((id) => !steps.includes(id))],
      next_step: tagged(HANDOFF_CONTEXT_TAGS.nextStep) ?? nextTask?.taskId ?? null,
      constraints: critical.filter((item) => item.kind === 'constraint').map(contextItemText),
      current_task: current === undefined ? null : toHandoffTask(current),
      open_tasks: open.map(toHandoffTask),
      completed_tasks: completed,
    },
    context_snapshot: snapshot,
    recovery_info: {
      last_checkpoint: checkpoint?.at ?? live.at(-1)?.at ?? null,
      recovery_tokens_reserved: input.reserveTokens ?? DEFAULT_CONFIG.session.context_budget.reserve_tokens,
      session_fork_available: input.forkingEnabled ?? DEFAULT_CONFIG.session.forking_enabled,
      checkpoint_id: checkpoint?.id ?? null,
      resume_from_version: checkpoint?.version ?? view.version,
      instructions: input.instructions ?? defaultInstructions(sessionId, checkpoint, view.version, current),
    },
    created_at: createdAt,
  };
}
