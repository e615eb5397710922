// The public API of moai-session (the engine): every export is named here, on
// purpose. The command line is `moai-session/cli`, the machines alone
// `moai-session/machines`, the store contract suite `moai-session/testing`, the
// TypeBox schemas of events, config and handoff packages `moai-session/schemas`
// (importing the engine loads neither the CLI nor TypeBox).

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
  CheckpointNotSavedError,
  isCheckpointNotSavedError,
  LogRewrittenError,
  isLogRewrittenError,
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
  EVENT_TYPES,
  CURRENT_SCHEMA_VERSIONS,
  isEventType,
  type EventType,
  type EventData,
  type SessionEventBody,
} from './events/eventTypes.js';
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
  isFileEventStore,
  type FileEventStore,
  type FileEventStoreOptions,
  type Durability,
  type StoreWarning,
} from './store/fileEventStore.js';
export { repairLog, type RepairLogOptions, type RepairReport, type QuarantinedLine, type StreamLoss } from './store/repairLog.js';
export { openSalvagedLog, type SalvagedLog, type SkippedPart } from './store/repairSalvage.js';
export {
  openEventStore,
  registerStoreDriver,
  storeKindOfUrl,
  type StoreTarget,
  type StoreDriver,
} from './store/openEventStore.js';

// Projections
export {
  AppendOnlyList,
  fold,
  sessionSummaryProjection,
  tasksProjection,
  tokenHistoryProjection,
  tokenBudgetProjection,
  checkpointsProjection,
  sessionViewProjection,
  sessionViewToJson,
  sessionViewFromJson,
  tasksInOrder,
  type Projection,
  type SessionSummary,
  type HandoffRecord,
  type ThresholdsReached,
  type TaskView,
  type TasksState,
  type TokenUsageEntry,
  type TokenSpend,
  type BudgetMark,
  type TokenHistory,
  type TokenBudget,
  type CheckpointRef,
  type CheckpointsState,
  type SessionView,
} from './projections/index.js';

// Engine
export {
  createEngine,
  type Engine,
  type EngineOptions,
  type BudgetEvent,
  type StartSessionOptions,
  type ResumeSessionOptions,
  type ForkSessionOptions,
  type SessionStateOptions,
  type RetentionResult,
} from './engine/createEngine.js';
export type {
  SessionHandle,
  AddTaskInput,
  RecordUsageOptions,
  TaskCommandOptions,
  BudgetReport,
  RecordContextInput,
  UpdateContextChanges,
} from './engine/sessionHandle.js';
export type { Summariser, CompactionRequest, CompactionResult, EngineWarning } from './engine/commandRunner.js';
export type { LoadWarning } from './engine/loadSessionView.js';
export type { EngineSettings } from './engine/settings.js';
export type { BudgetSettings } from './engine/decideBudget.js';
export type { RequestHandoffInput } from './engine/handoffs.js';
export type { RecoverOptions, RecoveryReport } from './engine/recovery.js';
export { replay, type ReplayOptions, type ReplayReport, type Divergence } from './engine/replay.js';
export { isCheckpointIntact, type CheckpointDocument } from './checkpoints/checkpointDocument.js';
export {
  createFileCheckpointStore,
  createMemoryCheckpointStore,
  type CheckpointStore,
  type LoadedCheckpoint,
} from './checkpoints/checkpointStore.js';

// The state folder: the engine with what the CLI does around it (retention, memory files)
export { openStateFolder, type StateFolder, type OpenStateFolderOptions, type SettleResult } from './runtime/openStateFolder.js';
export { openStateFolderLog, type StateFolderLocation, type OpenStateFolderLogOptions } from './runtime/openStateFolderLog.js';

// Token budget
export {
  CONTEXT_WINDOWS,
  DEFAULT_CONTEXT_WINDOW,
  EXTENDED_CONTEXT_WINDOW,
  contextWindowFor,
  InvalidUsageError,
  isInvalidUsageError,
  normaliseUsage,
  contextTokensOf,
  totalTokensOf,
  sumUsage,
  ZERO_USAGE,
  percentOfWindow,
  type TokenUsage,
  THRESHOLD_LEVELS,
  DEFAULT_THRESHOLDS,
  ALL_ARMED,
  crossThresholds,
  levelOf,
  validateThresholds,
  type ThresholdLevel,
  type BudgetLevel,
  type BudgetThresholds,
  type ThresholdArming,
  type ThresholdCrossingResult,
  ALLOCATION_SHARE_NAMES,
  DEFAULT_ALLOCATION_SHARES,
  DEFAULT_RESERVE_TOKENS,
  computeAllocation,
  type AllocationShareName,
  type AllocationShares,
  type AllocationOptions,
  type AllocationShare,
  type AllocationReport,
} from './budget/index.js';

// Configuration
export { ConfigError, isConfigError, type ConfigIssue } from './config/configError.js';
export { CONFIG_FILE, CONFIG_SCHEMA_FILE, configFilePath, configSchemaFilePath } from './config/configPath.js';
export { DEFAULT_CONFIG } from './config/defaultConfig.js';
export {
  RECOVERY_STRATEGIES,
  STORE_KINDS,
  STORE_DURABILITIES,
  type RecoveryStrategy,
  type StoreKind,
  type StoreDurability,
} from './config/configValues.js';
export type { MoaiConfig, MoaiConfigFile } from './config/schema.js';
export { parseConfig } from './config/parseConfig.js';
export { loadConfig, STORE_URL_ENV, type LoadConfigOptions, type LoadedConfig } from './config/loadConfig.js';
export { writeDefaultConfig, defaultConfigText, type WriteDefaultConfigResult } from './config/writeDefaultConfig.js';

// Ids
export { checkId, isValidId, idRule, ID_PATTERN, MAX_ID_LENGTH, MAX_SESSION_ID_LENGTH, type IdKind } from './validation/ids.js';

// Visualisation
export { toMermaid, machineTransitions, type MachineTransition } from './viz/mermaid.js';
export { machineChart, type MachineChart, type ChartState, type ChartTransition } from './viz/machineGraph.js';
export { toDot, type DotOptions } from './viz/dot.js';
export { toSvg } from './viz/svg.js';
export { createSessionStepper, DEFAULT_MAX_STEPS, type SessionStep, type SessionStepper, type SessionStepperOptions, type StepSettings } from './viz/sessionSteps.js';
export { packSessionPage, type SessionPageData, type SessionPageMeta, type ForkTree, type ForkLink, type Aggregation } from './viz/sessionPageData.js';
export { readSessionPage, readForkTree, type ReadSessionPageOptions, type ReadSessionPage } from './viz/readSessionPage.js';
export { renderSessionPage, sessionPagePolicy, type SessionPageOptions } from './viz/sessionPage.js';
export { startInspectServer, type InspectServer, type InspectServerOptions } from './viz/inspectServer.js';

// Handoffs
export {
  HANDOFF_REQUIRED_FIELDS,
  type HandoffTask,
  type HandoffPackage,
  type WrittenHandoffPackage,
} from './handoff/handoffPackage.js';
export { carriedContextItems, CARRIED_CRITICAL_CONTEXT_TAG, type CarriedContextItem } from './handoff/carriedContext.js';
export {
  acceptHandoffPackage,
  type AcceptHandoffPackageOptions,
  type AcceptedHandoffPackage,
} from './engine/acceptHandoffPackage.js';
// Context items: facts of the log, in tiers (see moai-session context)
export {
  contextItemsProjection,
  contextItemsInOrder,
  findContextItem,
  contextItemText,
  CONTEXT_TIER_ORDER,
  type ContextItem,
  type ContextKind,
  type ContextState,
  type ContextTier,
  type LastHandoff,
} from './projections/contextItems.js';
export {
  buildSessionContext,
  formatSessionContext,
  sessionContextText,
  DEFAULT_CONTEXT_MAX_CHARS,
  MIN_CONTEXT_MAX_CHARS,
  type SessionContext,
  type SessionContextItem,
  type SessionContextTask,
  type SessionContextOptions,
  type FormatSessionContextOptions,
} from './context/sessionContext.js';
export { packText, unpackText, isCompressedText, COMPRESS_ABOVE_CHARS, type PackedText, type CompressedText } from './context/packText.js';
export { COMPACTION_SUMMARY_TAG, CONTEXT_TIER_NAMES, CONTEXT_KIND_NAMES, MAX_CONTEXT_TEXT } from './context/decideContext.js';
/** The pattern of a handoff id: the one id rule's. */
export { ID_PATTERN_SOURCE as HANDOFF_ID_PATTERN } from './validation/ids.js';
export { buildHandoffPackage, HANDOFF_CONTEXT_TAGS, type BuildHandoffPackageInput } from './handoff/buildHandoffPackage.js';
export {
  HANDOFF_PROBLEM_CODES,
  handoffRulesFromConfig,
  validateHandoffPackage,
  assertValidHandoff,
  type HandoffProblemCode,
  type HandoffProblem,
  type HandoffRules,
  type HandoffValidation,
} from './handoff/validateHandoffPackage.js';
export { HandoffValidationError, isHandoffValidationError } from './handoff/handoffValidationError.js';
export { packageSenderRefusal, type PackageParties } from './handoff/packageSender.js';
export { parseHandoffPackageText, HANDOFF_PACKAGE_JSON_LIMITS } from './handoff/parseHandoffPackageText.js';

// Memory files
export {
  SESSION_STATE_FILE,
  CONTEXT_CACHE_FILE,
  TOKEN_USAGE_LOG_FILE,
  ACTIVE_TASKS_FILE,
  CHECKPOINTS_FOLDER,
  MEMORY_FILES,
  MEMORY_FILES_LOCK,
  checkpointFilePath,
  buildMemoryDocuments,
  buildMemoryFiles,
  writeMemoryFiles,
  createMemorySync,
  checkMemorySync,
  type MemoryFilesOptions,
  type MemoryBudget,
  type SessionStateEntry,
  type SessionStateDocument,
  type ContextCacheTask,
  type ContextCacheEntry,
  type ContextCacheDocument,
  type MemoryDocuments,
  type WriteMemoryFilesResult,
  type WriteMemoryFilesOptions,
  type MemorySyncOptions,
  type MemorySync,
  type MemoryDifference,
  type MemorySyncReport,
} from './memory/index.js';
