import type { NewEvent } from '../src/index.js';

let n = 0;
/** A realistic event to append: a task transition with a reason, ~300 bytes as a line. */
export function transitionEvent(taskId = 'task-1'): NewEvent {
  n++;
  return {
    id: `bench-${process.pid}-${n}`,
    type: 'TaskTransitioned',
    data: { taskId, event: 'BLOCK', from: 'in_progress', to: 'blocked', reason: 'waiting for review' },
    meta: { at: new Date(1_767_225_600_000 + n).toISOString(), agent: 'implementer' },
  };
}
