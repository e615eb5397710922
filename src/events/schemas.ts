import { Type, type TSchema } from '@sinclair/typebox';
import { TASK_EVENT_TYPES, TASK_STATES } from '../../machines/taskLifecycleNames.js';
import { ID_PATTERN_SOURCE, MAX_ID_LENGTH } from '../validation/ids.js';

/*
 * One schema per event type: the `data` of the envelope. The schemas are JSON
 * Schema (TypeBox). `npm run build` compiles them ahead of time into the checks
 * of `generated/eventChecks.ts` (scripts/generateValidators.ts), so the code
 * that validates events never loads this module or TypeBox; what does not
 * need a schema (the type names, their versions) is in `eventTypes.ts`.
 */

export { CURRENT_SCHEMA_VERSIONS, EVENT_TYPES, isEventType, type EventType, type EventData, type SessionEventBody } from './eventTypes.js';

const Id = Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, pattern: ID_PATTERN_SOURCE });
const Text = Type.String({ maxLength: 10_000 });
const Count = Type.Integer({ minimum: 0 });
const TaskStateSchema = Type.Union(TASK_STATES.map((s) => Type.Literal(s)));
const TaskEventTypeSchema = Type.Union(TASK_EVENT_TYPES.map((s) => Type.Literal(s)));

/** A session began: its id, optional title, the agent working it and the model. */
export const SessionStartedData = Type.Object(
  {
    sessionId: Id,
    title: Type.Optional(Text),
    agent: Id,
    model: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

/** An agent picked an existing session up again. */
export const SessionResumedData = Type.Object(
  { agent: Id, reason: Type.Optional(Text) },
  { additionalProperties: false },
);

/** A new session branched from a parent at `parentVersion`; the first event of the fork. */
export const SessionForkedData = Type.Object(
  {
    sessionId: Id,
    parentSessionId: Id,
    parentVersion: Type.Integer({ minimum: 1 }),
    agent: Id,
    model: Type.String({ minLength: 1, maxLength: 200 }),
    title: Type.Optional(Text),
  },
  { additionalProperties: false },
);

/** The session ended; it takes no more commands. */
export const SessionEndedData = Type.Object({ reason: Type.Optional(Text) }, { additionalProperties: false });

/** The session moved from one model to another. */
export const ModelSwitchedData = Type.Object(
  { from: Type.String({ minLength: 1 }), to: Type.String({ minLength: 1 }), reason: Type.Optional(Text) },
  { additionalProperties: false },
);

/** A task was added to the session, pending. */
export const TaskAddedData = Type.Object(
  {
    taskId: Id,
    title: Type.String({ minLength: 1, maxLength: 1000 }),
    phase: Type.Optional(Type.String({ maxLength: 200 })),
    assignee: Type.Optional(Id),
  },
  { additionalProperties: false },
);

/** A task took a lifecycle event, moving from one state to another. */
export const TaskTransitionedData = Type.Object(
  {
    taskId: Id,
    event: TaskEventTypeSchema,
    from: TaskStateSchema,
    to: TaskStateSchema,
    reason: Type.Optional(Text),
  },
  { additionalProperties: false },
);

/** Version 2 of `TokenUsageRecorded`: the API's four usage counters, normalised. */
export const TokenUsageRecordedData = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 200 }),
    inputTokens: Count,
    outputTokens: Count,
    cacheCreationInputTokens: Count,
    cacheReadInputTokens: Count,
    /** False for a sidechain call (a subagent): it spends but does not fill the main context. */
    main: Type.Boolean(),
    requestId: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** Version 1 of `TokenUsageRecorded`, as early logs wrote it: one input and one output count. */
export const TokenUsageRecordedDataV1 = Type.Object(
  { model: Type.String({ minLength: 1 }), tokens: Type.Object({ input: Count, output: Count }) },
  { additionalProperties: false },
);

/** Context use reached a threshold (monitor, warning, emergency) it had not reached. */
export const BudgetThresholdCrossedData = Type.Object(
  {
    level: Type.Union([Type.Literal('monitor'), Type.Literal('warning'), Type.Literal('emergency')]),
    percent: Type.Number({ minimum: 0 }),
    contextTokens: Count,
    contextWindow: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

/** Usage fell back below a threshold that had been crossed: it is armed again. */
export const BudgetThresholdClearedData = Type.Object(
  {
    level: Type.Union([Type.Literal('monitor'), Type.Literal('warning'), Type.Literal('emergency')]),
    percent: Type.Number({ minimum: 0 }),
    contextTokens: Count,
    contextWindow: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

/** The context was compacted: tokens before and after. */
export const ContextCompactedData = Type.Object(
  { tokensBefore: Count, tokensAfter: Count, trigger: Type.Optional(Type.String()), summary: Type.Optional(Text) },
  { additionalProperties: false },
);

/** A checkpoint of the session's view: its position, version and checksum. */
export const CheckpointCreatedData = Type.Object(
  {
    checkpointId: Id,
    reason: Type.String({ minLength: 1, maxLength: 200 }),
    position: Count,
    version: Count,
    checksum: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

/** A checkpoint moved to the archive (retention). */
export const CheckpointArchivedData = Type.Object(
  { checkpointId: Id, reason: Type.Optional(Text) },
  { additionalProperties: false },
);

/** An agent asked to hand the session to another, with the handoff package. */
export const HandoffRequestedData = Type.Object(
  { handoffId: Id, fromAgent: Id, toAgent: Id, package: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: false },
);

/** The receiving agent took the pending handoff. */
export const HandoffAcceptedData = Type.Object({ handoffId: Id, agent: Id }, { additionalProperties: false });

/** The pending handoff was refused, with why. */
export const HandoffRejectedData = Type.Object(
  { handoffId: Id, agent: Type.Optional(Id), reason: Text },
  { additionalProperties: false },
);

/** A recovery of the session began, with its strategy. */
export const RecoveryStartedData = Type.Object(
  { recoveryId: Id, strategy: Type.String({ minLength: 1 }), checkpointId: Type.Optional(Id) },
  { additionalProperties: false },
);

/** One of the six recovery steps, done. */
export const RecoveryStepCompletedData = Type.Object(
  {
    recoveryId: Id,
    step: Type.Union(
      ['restore', 'validate', 'replay', 'assess', 'plan', 'notify'].map((step) => Type.Literal(step)),
    ),
    detail: Text,
  },
  { additionalProperties: false },
);

/** A recovery finished: its summary and the tasks still open. */
export const RecoveryCompletedData = Type.Object(
  { recoveryId: Id, summary: Text, openTasks: Type.Array(Id) },
  { additionalProperties: false },
);

/** The current schema of every event type, by type name. */
export const EVENT_DATA_SCHEMAS = {
  SessionStarted: SessionStartedData,
  SessionResumed: SessionResumedData,
  SessionForked: SessionForkedData,
  SessionEnded: SessionEndedData,
  ModelSwitched: ModelSwitchedData,
  TaskAdded: TaskAddedData,
  TaskTransitioned: TaskTransitionedData,
  TokenUsageRecorded: TokenUsageRecordedData,
  BudgetThresholdCrossed: BudgetThresholdCrossedData,
  BudgetThresholdCleared: BudgetThresholdClearedData,
  ContextCompacted: ContextCompactedData,
  CheckpointCreated: CheckpointCreatedData,
  CheckpointArchived: CheckpointArchivedData,
  HandoffRequested: HandoffRequestedData,
  HandoffAccepted: HandoffAcceptedData,
  HandoffRejected: HandoffRejectedData,
  RecoveryStarted: RecoveryStartedData,
  RecoveryStepCompleted: RecoveryStepCompletedData,
  RecoveryCompleted: RecoveryCompletedData,
} as const satisfies Record<string, TSchema>;
