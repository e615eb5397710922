import { Type, type Static } from '@sinclair/typebox';
import { TASK_STATES } from '../../machines/taskLifecycleNames.js';
import { ID_PATTERN_SOURCE, MAX_ID_LENGTH } from '../validation/ids.js';

/*
 * The handoff package: the JSON one agent gives another when it hands a session
 * over. Keys are snake_case because the package is exchanged between agents as
 * JSON, exactly as the product describes it. This schema is the one definition:
 * `validateHandoffPackage` checks against it and `HandoffPackage` is derived
 * from it, and `npm run build` compiles it ahead of time into
 * `generated/handoffCheck.ts`, so checking a package loads no TypeBox.
 */

/**
 * The pattern of ids in a handoff package (handoff, agents, session, tasks,
 * checkpoints): the one id pattern (`ID_PATTERN_SOURCE`), which the event
 * schemas use too, so every id in a package can be written to the log unchanged.
 */
export const HANDOFF_ID_PATTERN = ID_PATTERN_SOURCE;

/** `created_at`: an ISO 8601 date-time with seconds and a zone, as `Date.prototype.toISOString` writes it. */
const DATE_TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$';

const Id = Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, pattern: HANDOFF_ID_PATTERN });
const Count = Type.Integer({ minimum: 0 });
const TaskStateSchema = Type.Union(TASK_STATES.map((state) => Type.Literal(state)));

/** One task as a handoff package names it. */
export const HandoffTaskSchema = Type.Object(
  {
    id: Id,
    title: Type.String({ minLength: 1, maxLength: 1000 }),
    state: TaskStateSchema,
    phase: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** Where the session is: its model, its token budget and its position in the log. */
export const HandoffSessionContextSchema = Type.Object(
  {
    session_id: Id,
    model: Type.String({ minLength: 1, maxLength: 200 }),
    /** The model's context window, in tokens. */
    context_window: Type.Integer({ minimum: 1 }),
    /** The context in use when the package was made. */
    tokens_used: Count,
    /** The context still free: `context_window - tokens_used`, never below 0. */
    tokens_available: Count,
    /** The store position of the session's last event. */
    log_position: Count,
    /** The stream version of the session's last event. */
    session_version: Count,
  },
  { additionalProperties: false },
);

/** What the session is working on. */
export const HandoffTaskContextSchema = Type.Object(
  {
    /** The task being worked on, or null when none is. */
    current_task: Type.Union([HandoffTaskSchema, Type.Null()]),
    /** Every task not completed, in the order they were added (the current task among them). */
    open_tasks: Type.Array(HandoffTaskSchema, { maxItems: 10_000 }),
    /** The ids of the completed tasks, in the order they were added. */
    completed_tasks: Type.Array(Id, { maxItems: 10_000 }),
  },
  { additionalProperties: false },
);

/** What the receiving agent should know: a summary, the decisions taken, the files involved. */
export const HandoffContextSnapshotSchema = Type.Object(
  {
    summary: Type.String({ maxLength: 50_000 }),
    key_decisions: Type.Array(Type.String({ minLength: 1, maxLength: 10_000 }), { maxItems: 1000 }),
    files: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { maxItems: 10_000 })),
    /** The checkpoint the snapshot matches, or null. */
    checkpoint_id: Type.Union([Id, Type.Null()]),
  },
  { additionalProperties: false },
);

/** How to get back to where the handoff was made if something goes wrong. */
export const HandoffRecoveryInfoSchema = Type.Object(
  {
    /** The checkpoint to restore, or null when none was taken (a validation problem). */
    checkpoint_id: Type.Union([Id, Type.Null()]),
    /** The stream version to resume from: restore the checkpoint, then replay what came after this version. */
    resume_from_version: Count,
    /** What the receiver should do, in words. */
    instructions: Type.String({ maxLength: 10_000 }),
  },
  { additionalProperties: false },
);

/**
 * The schema of a handoff package: `handoff_id`, `from_agent`, `to_agent`,
 * `created_at`, `session_context`, `task_context`, `context_snapshot` and
 * `recovery_info`. Unknown keys are refused, so a misspelt key is reported
 * rather than silently ignored.
 */
export const HandoffPackageSchema = Type.Object(
  {
    handoff_id: Id,
    from_agent: Id,
    to_agent: Id,
    created_at: Type.String({
      pattern: DATE_TIME_PATTERN,
      description: 'an ISO 8601 date-time with a time zone, e.g. "2026-01-01T12:00:00.000Z"',
    }),
    session_context: HandoffSessionContextSchema,
    task_context: HandoffTaskContextSchema,
    context_snapshot: HandoffContextSnapshotSchema,
    recovery_info: HandoffRecoveryInfoSchema,
  },
  { additionalProperties: false },
);

/** One task in a handoff package: id, title, lifecycle state and, when known, phase. */
export type HandoffTask = Static<typeof HandoffTaskSchema>;

/** A handoff package, as exchanged between agents (see {@link HandoffPackageSchema}). */
export type HandoffPackage = Static<typeof HandoffPackageSchema>;
