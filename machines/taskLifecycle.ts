import { setup } from 'xstate';
import type { TaskEvent } from './taskLifecycleNames.js';

export { TASK_STATES, TASK_EVENT_TYPES, type TaskState, type TaskEventType, type TaskEvent } from './taskLifecycleNames.js';

/**
 * The task lifecycle. Choices written down here, and drawn from here:
 *
 * - `START` is the only way out of `pending`.
 * - A `blocked` task can `FAIL` (the blocker may turn out fatal) but cannot
 *   `COMPLETE`: it must be unblocked first, so the log shows who unblocked it.
 * - A task in `token_warning` can `COMPLETE` or `FAIL`: finishing work is the
 *   best use of a tight budget. It can also be moved to `context_switch` when
 *   the model changes under it.
 * - `context_switch` returns to `in_progress` with `SWITCH_DONE`, or `FAIL`s.
 * - `failed` is left only by `RECOVER`, and `recovered` only by `RESUME`
 *   (back to `in_progress`) or `FAIL` (the recovery did not work).
 * - `completed` is final.
 */
export const taskLifecycleMachine = setup({
  types: {
    events: {} as TaskEvent,
  },
}).createMachine({
  id: 'taskLifecycle',
  initial: 'pending',
  states: {
    pending: {
      on: { START: 'in_progress' },
    },
    in_progress: {
      on: {
        BLOCK: 'blocked',
        TOKEN_WARNING: 'token_warning',
        SWITCH_CONTEXT: 'context_switch',
        COMPLETE: 'completed',
        FAIL: 'failed',
      },
    },
    blocked: {
      on: { UNBLOCK: 'in_progress', FAIL: 'failed' },
    },
    token_warning: {
      on: {
        BUDGET_OK: 'in_progress',
        SWITCH_CONTEXT: 'context_switch',
        COMPLETE: 'completed',
        FAIL: 'failed',
      },
    },
    context_switch: {
      on: { SWITCH_DONE: 'in_progress', FAIL: 'failed' },
    },
    completed: { type: 'final' },
    failed: {
      on: { RECOVER: 'recovered' },
    },
    recovered: {
      on: { RESUME: 'in_progress', FAIL: 'failed' },
    },
  },
});

/** The type of the task lifecycle machine, or of a machine that replaces it. */
export type TaskLifecycleMachine = typeof taskLifecycleMachine;
