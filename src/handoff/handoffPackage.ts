import { Type, type Static } from '@sinclair/typebox';
import { TASK_STATES } from '../../machines/taskLifecycleNames.js';
import { ID_PATTERN_SOURCE, MAX_ID_LENGTH } from '../validation/ids.js';

/*
 * The handoff package: the JSON one agent gives another when it hands a session
 * over, in the product document's shape (its "inter-agent handoff package",
 * every field under its name) with the engine's own fields beside them. Keys
 * are snake_case because the package is exchanged between agents as JSON,
 * exactly as the product describes it. A field the document names may be
 * null where the session does not know it (no user language recorded). This schema is the one definition:
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

/** `timestamp`, `created_at`, `last_checkpoint`: an ISO 8601 date-time with seconds and a zone (`Date.prototype.toISOString`, or without the fraction). */
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

/** A free text of the package: not blank, at most `max` characters. */
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

/** A date-time of the package (`timestamp`, `last_checkpoint`). */
const DateTime = (description: string) => Type.String({ pattern: DATE_TIME_PATTERN, description });

/**
 * Where the session is. The product document's fields first (`session_id`,
 * `model`, `context_position`, `available_tokens`, `user_language`,
 * `expertise_level`, `current_project`), then the engine's (the window, the
 * tokens used, the log position and version). Every field is optional: a
 * package from an agent that never saw this engine has only some of them,
 * and what the engine needs is derived from the log when it is accepted.
 */
export const HandoffSessionContextSchema = Type.Object(
  {
    session_id: Type.Optional(Id),
    model: Type.Optional(Text(200)),
    /** The context in use as a percent of the window (the product's `context_position`: 42.5). */
    context_position: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    /** The context still free, in tokens (the product's `available_tokens`). */
    available_tokens: Type.Optional(Count),
    /** The user's language (`ko`, `en`): recorded as a critical preference when the package is accepted. */
    user_language: Type.Optional(Type.Union([Text(100), Type.Null()])),
    /** The user's expertise (`intermediate`): recorded as a critical preference when the package is accepted. */
    expertise_level: Type.Optional(Type.Union([Text(100), Type.Null()])),
    /** The project worked on: recorded as a critical objective when the package is accepted. */
    current_project: Type.Optional(Type.Union([Text(1000), Type.Null()])),
    /** The model's context window, in tokens. */
    context_window: Type.Optional(Type.Integer({ minimum: 1 })),
    /** The context in use when the package was made. */
    tokens_used: Type.Optional(Count),
    /** The engine's first name for `available_tokens` (kept for packages written before it); both, when given, agree. */
    tokens_available: Type.Optional(Count),
    /** The store position of the session's last event. */
    log_position: Type.Optional(Count),
    /** The stream version of the session's last event. */
    session_version: Type.Optional(Count),
  },
  { additionalProperties: false },
);

/**
 * What the session is working on: the product document's `spec_id`,
 * `current_phase`, `completed_steps`, `next_step` and `constraints`, then
 * the engine's tasks. Every field is optional.
 */
export const HandoffTaskContextSchema = Type.Object(
  {
    /** The specification worked to (`SPEC-001`). */
    spec_id: Type.Optional(Type.Union([Text(200), Type.Null()])),
    /** The workflow phase (`implementation`). */
    current_phase: Type.Optional(Type.Union([Text(200), Type.Null()])),
    /** What is done, in order (`spec_complete`). */
    completed_steps: Type.Optional(Type.Array(Text(1000), { maxItems: 10_000 })),
    /** What to do next (`write_tests`). */
    next_step: Type.Optional(Type.Union([Text(10_000), Type.Null()])),
    /** The constraints the receiver must keep (`must_use_pytest`): critical context items of the session. */
    constraints: Type.Optional(Type.Array(Text(10_000), { maxItems: 1000 })),
    /** The task being worked on, or null when none is. */
    current_task: Type.Optional(Type.Union([HandoffTaskSchema, Type.Null()])),
    /** Every task not completed, in the order they were added (the current task among them). */
    open_tasks: Type.Optional(Type.Array(HandoffTaskSchema, { maxItems: 10_000 })),
    /** The ids of the completed tasks, in the order they were added. */
    completed_tasks: Type.Optional(Type.Array(Id, { maxItems: 10_000 })),
  },
  { additionalProperties: false },
);

/** Text as it is, or gzip-compressed and base64-encoded when it is long (see `packText`). */
export const PackedTextSchema = Type.Union([
  Type.String({ maxLength: 1_000_000 }),
  Type.Object(
    {
      encoding: Type.Literal('gzip+base64'),
      chars: Count,
      data: Type.String({ maxLength: 16 * 1024 * 1024, pattern: '^[A-Za-z0-9+/]*={0,2}$' }),
    },
    { additionalProperties: false },
  ),
]);

/** An entry of a list the package carries as it is (a checkpoint, a todo): a text or an object. */
const CarriedEntry = Type.Union([Type.String({ maxLength: 100_000 }), Type.Record(Type.String(), Type.Unknown())]);

/**
 * What the receiving agent should know: the product document's
 * `critical_context`, `session_checkpoints`, `active_todos` and
 * `token_budget_strategy`, then the engine's summary, decisions, files and
 * checkpoint. Every field is optional.
 */
export const HandoffContextSnapshotSchema = Type.Object(
  {
    /** The session's critical context, one item a line; compressed when long. */
    critical_context: Type.Optional(Type.Union([PackedTextSchema, Type.Null()])),
    /** The session's checkpoints, newest last (the engine writes `{ checkpoint_id, timestamp, version, reason }`). */
    session_checkpoints: Type.Optional(Type.Array(CarriedEntry, { maxItems: 10_000 })),
    /** The open tasks as a todo list (the engine writes `{ id, content, status }`). */
    active_todos: Type.Optional(Type.Array(CarriedEntry, { maxItems: 10_000 })),
    /** How the context is kept within budget (`progressive_summarization`). */
    token_budget_strategy: Type.Optional(Type.Union([Text(200), Type.Null()])),
    summary: Type.Optional(Type.String({ maxLength: 50_000 })),
    key_decisions: Type.Optional(Type.Array(Text(10_000), { maxItems: 1000 })),
    files: Type.Optional(Type.Array(Text(4096), { maxItems: 10_000 })),
    /** The checkpoint the snapshot matches, or null. */
    checkpoint_id: Type.Optional(Type.Union([Id, Type.Null()])),
  },
  { additionalProperties: false },
);

/**
 * How to get back to where the handoff was made if something goes wrong:
 * the product document's `last_checkpoint`, `recovery_tokens_reserved` and
 * `session_fork_available`, then the engine's checkpoint, version and
 * instructions. Every field is optional.
 */
export const HandoffRecoveryInfoSchema = Type.Object(
  {
    /** When the newest checkpoint was taken, or null when there is none. */
    last_checkpoint: Type.Optional(Type.Union([DateTime('an ISO 8601 date-time with a time zone, e.g. "2026-01-01T12:00:00Z"'), Type.Null()])),
    /** The tokens kept in reserve for recovery (`session.context_budget.reserve_tokens`). */
    recovery_tokens_reserved: Type.Optional(Count),
    /** Whether the session may be forked (`session.forking_enabled`). */
    session_fork_available: Type.Optional(Type.Boolean()),
    /** The checkpoint to restore; null when none was taken (a validation problem). */
    checkpoint_id: Type.Optional(Type.Union([Id, Type.Null()])),
    /** The stream version to resume from: restore the checkpoint, then replay what came after this version. */
    resume_from_version: Type.Optional(Count),
    /** What the receiver should do, in words. */
    instructions: Type.Optional(Type.String({ maxLength: 10_000 })),
  },
  { additionalProperties: false },
);

/**
 * The fields a handoff package must have: the ones the product document's
 * `validate_handoff` names. Everything else is optional.
 */
export const HANDOFF_REQUIRED_FIELDS = ['handoff_id', 'from_agent', 'to_agent', 'session_context', 'task_context', 'context_snapshot'] as const;

/**
 * The schema of a handoff package, the product document's "inter-agent
 * handoff package": `handoff_id`, `timestamp`, `from_agent`, `to_agent`,
 * `session_context`, `task_context`, `context_snapshot`, `recovery_info`
 * (and the engine's `created_at`, the same as `timestamp`). The fields
 * {@link HANDOFF_REQUIRED_FIELDS} names are required, the rest optional.
 * Unknown keys are refused, so a misspelt key is reported rather than
 * silently ignored.
 */
export const HandoffPackageSchema = Type.Object(
  {
    handoff_id: Id,
    timestamp: Type.Optional(DateTime('an ISO 8601 date-time with a time zone, e.g. "2026-01-01T12:00:00Z"')),
    from_agent: Id,
    to_agent: Id,
    session_context: HandoffSessionContextSchema,
    task_context: HandoffTaskContextSchema,
    context_snapshot: HandoffContextSnapshotSchema,
    recovery_info: Type.Optional(HandoffRecoveryInfoSchema),
    created_at: Type.Optional(
      Type.String({
        pattern: DATE_TIME_PATTERN,
        description: 'an ISO 8601 date-time with a time zone, e.g. "2026-01-01T12:00:00.000Z"',
      }),
    ),
  },
  { additionalProperties: false },
);

/** One task in a handoff package: id, title, lifecycle state and, when known, phase. */
export type HandoffTask = Static<typeof HandoffTaskSchema>;

/** A handoff package, as exchanged between agents (see {@link HandoffPackageSchema}). */
export type HandoffPackage = Static<typeof HandoffPackageSchema>;

type SnapshotOf<T> = NonNullable<T>;

/**
 * A handoff package as this engine writes it: every field of the product
 * document's package (null where the session does not know it) and every
 * field of the engine's; `context_snapshot.files` only when files were named.
 */
export type WrittenHandoffPackage = Required<Omit<HandoffPackage, 'session_context' | 'task_context' | 'context_snapshot' | 'recovery_info'>> & {
  session_context: Required<HandoffPackage['session_context']>;
  task_context: Required<HandoffPackage['task_context']>;
  context_snapshot: Required<Omit<HandoffPackage['context_snapshot'], 'files'>> & Pick<HandoffPackage['context_snapshot'], 'files'>;
  recovery_info: Required<SnapshotOf<HandoffPackage['recovery_info']>>;
};
