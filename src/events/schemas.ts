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
/** A key from outside (a tool use id, an API message id, a subagent id): any text of one line, bounded. */
const ExternalKey = Type.String({ minLength: 1, maxLength: 200 });

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
  {
    agent: Id,
    reason: Type.Optional(Text),
    /** What makes this resume one resume (Claude Code: the transcript offset it happened at): the same key again is no new resume. */
    key: Type.Optional(ExternalKey),
  },
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
    /** The tool call that made the task (Claude Code's `tool_use_id`), when one did. */
    toolUseId: Type.Optional(ExternalKey),
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
    /** The tool call that moved the task (Claude Code's `tool_use_id`), when one did. */
    toolUseId: Type.Optional(ExternalKey),
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
    /** The API message id (`msg_...`): with `requestId`, what identifies the call, so it is recorded once. */
    messageId: Type.Optional(ExternalKey),
    /** The subagent that made the call (Claude Code's `agentId`), for a sidechain call. */
    agentId: Type.Optional(ExternalKey),
    /** When the call was made (a transcript's timestamp), when that is not when it was recorded. */
    at: Type.Optional(Type.String({ maxLength: 64 })),
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
  {
    tokensBefore: Count,
    /** The context left, when known; absent when nobody reported it (the next call's usage then shows it). */
    tokensAfter: Type.Optional(Count),
    trigger: Type.Optional(Type.String()),
    summary: Type.Optional(Text),
    /** What identifies the compaction outside (a transcript's `compact_boundary` uuid), so it is recorded once. */
    compactionId: Type.Optional(ExternalKey),
    /** False when the context left was not reported (`tokensAfter` absent; 0 in events of earlier builds). */
    tokensAfterKnown: Type.Optional(Type.Boolean()),
    /** When the compaction happened (the boundary's timestamp), when that is not when it was recorded. */
    at: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

/**
 * The git state of the working folder when a checkpoint was taken: the HEAD
 * commit (null in a repository with no commit yet), the branch (null on a
 * detached HEAD) and how many files differ from HEAD (changed, staged or untracked).
 */
export const GitStateData = Type.Object(
  {
    commit: Type.Union([Type.String({ pattern: '^[0-9a-f]{7,64}$' }), Type.Null()]),
    branch: Type.Union([Type.String({ minLength: 1, maxLength: 1000 }), Type.Null()]),
    changedFiles: Count,
  },
  { additionalProperties: false },
);

/**
 * Version 2 of `CheckpointCreated`: a checkpoint of the session's view (its
 * position, version and checksum) and, when the working folder is a git
 * repository, its git state.
 */
export const CheckpointCreatedData = Type.Object(
  {
    checkpointId: Id,
    reason: Type.String({ minLength: 1, maxLength: 200 }),
    position: Count,
    version: Count,
    checksum: Type.String({ minLength: 1 }),
    git: Type.Optional(GitStateData),
  },
  { additionalProperties: false },
);

/** Version 1 of `CheckpointCreated`, before the git state: position, version and checksum. */
export const CheckpointCreatedDataV1 = Type.Object(
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

/** The tiers of context items: critical (always kept), supporting (kept if space allows), temporary (dropped when not needed). */
export const CONTEXT_TIERS = ['critical', 'supporting', 'temporary'] as const;
/** What a context item is: an objective, a constraint, a preference of the user, a summary (of a compaction), or a note. */
export const CONTEXT_KINDS = ['objective', 'constraint', 'preference', 'summary', 'note'] as const;

const ContextTierSchema = Type.Union(CONTEXT_TIERS.map((tier) => Type.Literal(tier)));
const ContextKindSchema = Type.Union(CONTEXT_KINDS.map((kind) => Type.Literal(kind)));
/** A context item's text: up to 100,000 characters. */
const ContextText = Type.String({ maxLength: 100_000 });

/**
 * A context item was recorded: its id, tier, optional kind and tag (a name
 * unique among the session's current items, e.g. `user_language`), its text
 * or JSON value, its size in tokens when known, and where it came from
 * (`compaction`, `handoff:<id>`, ...).
 */
export const ContextItemRecordedData = Type.Object(
  {
    itemId: Id,
    tier: ContextTierSchema,
    kind: Type.Optional(ContextKindSchema),
    tag: Type.Optional(Id),
    text: Type.Optional(ContextText),
    value: Type.Optional(Type.Unknown()),
    tokens: Type.Optional(Count),
    source: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** A context item changed: its tier, its kind, its content (text or value, replacing the other), or its size. */
export const ContextItemUpdatedData = Type.Object(
  {
    itemId: Id,
    tier: Type.Optional(ContextTierSchema),
    kind: Type.Optional(ContextKindSchema),
    text: Type.Optional(ContextText),
    value: Type.Optional(Type.Unknown()),
    tokens: Type.Optional(Count),
    reason: Type.Optional(Text),
  },
  { additionalProperties: false },
);

/** A context item was dropped, with why (`compaction`, `handoff:<id>`, `requested`). */
export const ContextItemDroppedData = Type.Object(
  { itemId: Id, reason: Type.Optional(Text) },
  { additionalProperties: false },
);

/**
 * Where a session last read a transcript (Claude Code's JSONL): the next read
 * goes on from `offset`, so every line is read once. `file` names which of the
 * session's transcripts (`main`, or `agent:<id>` for a subagent's); the tail
 * checksum tells a file that was rewritten from one that grew; `open` holds
 * the API calls whose last line may still come, `recentKeys` the calls last
 * recorded; `checkpoint` is the scanner's own state (pending tool calls).
 */
export const TranscriptReadData = Type.Object(
  {
    file: ExternalKey,
    path: Type.String({ minLength: 1, maxLength: 4096 }),
    offset: Count,
    line: Count,
    /** SHA-256 (hex) of the up to 4,096 bytes before `offset`. */
    tailSha256: Type.Optional(Type.String({ maxLength: 64 })),
    checkpoint: Type.Record(Type.String(), Type.Unknown()),
    open: Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 1000 }),
    recentKeys: Type.Array(Type.String({ maxLength: 500 }), { maxItems: 256 }),
  },
  { additionalProperties: false },
);

/** The session is also known by another id (a Claude Code session id that is not, or not only, its own). */
export const SessionAliasAddedData = Type.Object(
  { alias: Type.String({ minLength: 1, maxLength: 500 }), source: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);

/** A tool call failed (Claude Code's `PostToolUseFailure`), against the task in progress when there was one; the task does not fail. */
export const ToolCallFailedData = Type.Object(
  {
    tool: Type.String({ minLength: 1, maxLength: 200 }),
    toolUseId: Type.Optional(ExternalKey),
    taskId: Type.Optional(Id),
    error: Text,
    interrupted: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/**
 * A task was deleted (Claude Code's `TaskUpdate` status `deleted`): it will
 * not be done and leaves the session's tasks. Not a lifecycle move (the
 * machine has no edge for it) and not a failure: no failure policy, nothing
 * for a recovery to bring back. `state` is the state it was in.
 */
export const TaskDeletedData = Type.Object(
  {
    taskId: Id,
    state: TaskStateSchema,
    reason: Type.Optional(Text),
    /** The tool call that deleted the task (Claude Code's `tool_use_id`), when one did. */
    toolUseId: Type.Optional(ExternalKey),
  },
  { additionalProperties: false },
);

/**
 * An event the file log lost to damage, where `moai-session repair` set its
 * line aside: written by the repair at the lost event's position (and, when
 * the damaged line still showed them or the stream's hole requires them, in
 * its stream at its version), so no sound event moves. Projections skip it;
 * the quarantine file holds what was left of the line.
 */
export const EventLostData = Type.Object(
  {
    /** The segment file and line (from 1) the lost event was in. */
    file: Type.String({ minLength: 1, maxLength: 300 }),
    line: Type.Integer({ minimum: 1 }),
    reason: Text,
    /** The quarantine file holding what was left of the line, and the repair's report beside it. */
    quarantine: Type.String({ minLength: 1, maxLength: 4_096 }),
    /** True when the lost event's stream and version are the damaged line's own; false when worked out from the stream's hole, or unknown (the repair stream). */
    shown: Type.Boolean(),
  },
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
  ContextItemRecorded: ContextItemRecordedData,
  ContextItemUpdated: ContextItemUpdatedData,
  ContextItemDropped: ContextItemDroppedData,
  TranscriptRead: TranscriptReadData,
  SessionAliasAdded: SessionAliasAddedData,
  ToolCallFailed: ToolCallFailedData,
  EventLost: EventLostData,
  TaskDeleted: TaskDeletedData,
} as const satisfies Record<string, TSchema>;
