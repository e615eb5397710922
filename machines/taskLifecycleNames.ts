// The names of the task lifecycle's states and events, without the machine: code
// that only names them (schemas, files, the CLI's help) loads no XState.

/**
 * The states a task can be in. `completed` is final; `failed` is not, because a
 * failed task can be recovered.
 */
export const TASK_STATES = [
  'pending',
  'in_progress',
  'blocked',
  'token_warning',
  'context_switch',
  'completed',
  'failed',
  'recovered',
] as const;

/** One of the eight task lifecycle states. */
export type TaskState = (typeof TASK_STATES)[number];

/** The events the task lifecycle machine accepts. */
export const TASK_EVENT_TYPES = [
  'START',
  'BLOCK',
  'UNBLOCK',
  'TOKEN_WARNING',
  'BUDGET_OK',
  'SWITCH_CONTEXT',
  'SWITCH_DONE',
  'COMPLETE',
  'FAIL',
  'RECOVER',
  'RESUME',
] as const;

/** The name of a task lifecycle event. */
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

/**
 * An event sent to a task. `reason` is free text kept in the log (why a task
 * blocked, what failed); it never changes which transition is taken.
 */
export interface TaskEvent {
  type: TaskEventType;
  reason?: string;
}
