// The public API of moai-session: every export is named here.

// Errors
export {
  MoaiError,
  isMoaiError,
  ExpectedVersionConflictError,
  isExpectedVersionConflictError,
  InvalidTransitionError,
  isInvalidTransitionError,
  CorruptLogError,
  isCorruptLogError,
  InvalidEventError,
  isInvalidEventError,
  UnknownSessionError,
  isUnknownSessionError,
  CommandRejectedError,
  isCommandRejectedError,
  LogLockedError,
  isLogLockedError,
  StorageError,
  isStorageError,
  InvalidArgumentError,
  isInvalidArgumentError,
  StoreClosedError,
} from './errors.js';

// Machines
export {
  taskLifecycleMachine,
  TASK_STATES,
  TASK_EVENT_TYPES,
  type TaskState,
  type TaskEventType,
  type TaskEvent,
  type TaskLifecycleMachine,
} from '../machines/taskLifecycle.js';
export {
  sessionMachine,
  SESSION_STATES,
  SESSION_EVENT_TYPES,
  type SessionStatus,
  type SessionEventType,
  type SessionMachineEvent,
  type SessionMachine,
} from '../machines/session.js';

// Events
export {
  EVENT_DATA_SCHEMAS,
  EVENT_TYPES,
  CURRENT_SCHEMA_VERSIONS,
  isEventType,
  type EventType,
  type EventData,
  type SessionEventBody,
} from './events/schemas.js';
export {
  newEvent,
  sessionStream,
  sessionIdOfStream,
  STREAM_NAME_PATTERN,
  type EventMeta,
  type StoredEvent,
  type StoredEventOf,
  type NewEvent,
} from './events/envelope.js';
export { UpcasterRegistry, BUILT_IN_UPCASTERS, type Upcaster } from './events/upcasters.js';
export { parseStoredEvent, validateNewEvents } from './events/validate.js';

// Stores
export type {
  EventStore,
  ExpectedVersion,
  AppendOptions,
  AppendResult,
  ReadStreamOptions,
  ReadAllOptions,
  SubscribeOptions,
  StreamInfo,
} from './store/eventStore.js';
export { createMemoryEventStore } from './store/memoryEventStore.js';
export {
  openFileEventStore,
  type FileEventStore,
  type FileEventStoreOptions,
  type Durability,
  type StoreWarning,
} from './store/fileEventStore.js';
