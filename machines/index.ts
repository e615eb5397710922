export {
  taskLifecycleMachine,
  TASK_STATES,
  TASK_EVENT_TYPES,
  type TaskState,
  type TaskEventType,
  type TaskEvent,
  type TaskLifecycleMachine,
} from './taskLifecycle.js';
export {
  sessionMachine,
  SESSION_STATES,
  SESSION_EVENT_TYPES,
  type SessionStatus,
  type SessionEventType,
  type SessionMachineEvent,
  type SessionMachine,
} from './session.js';
