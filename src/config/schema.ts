import { Type, type Static } from '@sinclair/typebox';
import { ID_PATTERN_SOURCE } from '../validation/ids.js';
import { RECOVERY_STRATEGIES, STORE_DURABILITIES, STORE_KINDS } from './configValues.js';

/*
 * The one definition of `.moai/config/config.json`. Validation (`parseConfig`),
 * the defaults (`DEFAULT_CONFIG`) and the JSON Schema for editors
 * (`configJsonSchema`) are all derived from it, so they cannot drift apart.
 * Keys are snake_case, exactly as they appear in the file.
 *
 * `npm run build` compiles the schema ahead of time into the check and the
 * defaults of `generated/configCheck.ts`, so loading a config loads no
 * TypeBox; only the JSON Schema export and the generator import this module.
 */

export {
  RECOVERY_STRATEGIES,
  STORE_KINDS,
  STORE_DURABILITIES,
  type RecoveryStrategy,
  type StoreKind,
  type StoreDurability,
} from './configValues.js';
export { DEFAULT_CONFIG } from './defaultConfig.js';

/** Agent names as the events spell them (the `agent` of `SessionStarted`): ids, length bound in the pattern. */
const AGENT_NAME_PATTERN = ID_PATTERN_SOURCE;
/** Model ids: up to 200 characters without whitespace. */
const MODEL_ID_PATTERN = '^\\S{1,200}$';
/** `store.url`: the full check (a host, a parsable URL) is in the loader. */
const POSTGRES_URL_PATTERN = '^postgres(ql)?://';

const usdPerMillion = (description: string) =>
  Type.Number({ minimum: 0, maximum: 10_000, description: `${description} US dollars per million tokens.` });

const thresholdPercent = (description: string, defaultValue: number) =>
  Type.Integer({ minimum: 1, maximum: 100, default: defaultValue, description });

const share = (description: string, defaultValue: number) =>
  Type.Number({ minimum: 0, maximum: 100, default: defaultValue, description });

const AgentName = Type.String({
  pattern: AGENT_NAME_PATTERN,
  description: 'An agent name, as sessions and handoffs name it.',
});

const AllocationSchema = Type.Object(
  {
    system: share('Percent of the context window for the system prompt and tool definitions.', 7.5),
    conversation: share('Percent of the context window for the conversation.', 40),
    reference: share('Percent of the context window for reference material (files, documents).', 25),
    reserve: share('Percent of the context window kept free for the answer and for compaction.', 27.5),
  },
  {
    additionalProperties: false,
    description:
      'How the context window is shared out, in percent; the allocation report compares use against it. The four shares must add up to 100.',
  },
);

const ContextBudgetSchema = Type.Object(
  {
    monitor_threshold_percent: thresholdPercent(
      'Context use (percent of the window) at which BudgetThresholdCrossed "monitor" fires. Must be below the warning threshold.',
      60,
    ),
    warning_threshold_percent: thresholdPercent(
      'Context use (percent of the window) at which in-progress tasks move to token_warning and a checkpoint is taken. Must be below the emergency threshold.',
      75,
    ),
    emergency_threshold_percent: thresholdPercent(
      'Context use (percent of the window) at which a compaction is requested from the summariser.',
      85,
    ),
    reserve_tokens: Type.Integer({
      minimum: 0,
      default: 55_000,
      description: 'Tokens to keep free in the context window; the allocation report warns when use eats into them.',
    }),
    allocation: AllocationSchema,
  },
  { additionalProperties: false, description: 'Token budget: thresholds, reserve and allocation of the context window.' },
);

const HandoffSchema = Type.Object(
  {
    min_available_tokens: Type.Integer({
      minimum: 0,
      default: 30_000,
      description: 'Tokens the receiving context must have free for a handoff; below this a compaction is requested first.',
    }),
    compatible_agents: Type.Record(
      Type.String({ pattern: AGENT_NAME_PATTERN }),
      Type.Array(AgentName, { uniqueItems: true, description: 'The agents this agent may hand off to.' }),
      {
        additionalProperties: false,
        default: {},
        description:
          'Which agents may hand off to which: agent name -> the agents it may hand to. An agent that is not a key may hand to any agent; empty (the default) means any agent may hand to any.',
      },
    ),
  },
  { additionalProperties: false, description: 'Handoffs between agents.' },
);

const SessionSchema = Type.Object(
  {
    persistence_enabled: Type.Boolean({
      default: true,
      description: 'Keep the memory files under .moai/sessions/ in sync with the event log.',
    }),
    auto_checkpoint: Type.Boolean({
      default: true,
      description:
        'Take checkpoints automatically: at phase boundaries, handoffs, budget thresholds, failures, the interval and session end.',
    }),
    checkpoint_interval_minutes: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'Minutes between interval checkpoints of an active session (when auto_checkpoint is on).',
    }),
    recovery_strategy: Type.Union(
      RECOVERY_STRATEGIES.map((strategy) => Type.Literal(strategy)),
      {
        default: 'progressive_summarization',
        description:
          'How a session is recovered: progressive_summarization (checkpoint, replay and summarise what came after), checkpoint_only (restore the last valid checkpoint), full_replay (replay the whole log).',
      },
    ),
    context_budget: ContextBudgetSchema,
    forking_enabled: Type.Boolean({ default: true, description: 'Allow sessions to be forked.' }),
    max_parallel_sessions: Type.Integer({
      minimum: 1,
      default: 3,
      description:
        'The most sessions that may be active at once; starting or forking one more is refused. A session idle for session.idle_session_minutes no longer counts. Enforced by each engine (one process writes a log at a time).',
    }),
    idle_session_minutes: Type.Integer({
      minimum: 1,
      maximum: 525_600,
      default: 120,
      description:
        'A session with no event for this many minutes stops counting toward max_parallel_sessions (an app that never ended its session does not lock the next run out). It stays active: resume it to go on, or end it.',
    }),
    handoff: HandoffSchema,
    checkpoint_retention_days: Type.Integer({
      minimum: 1,
      default: 7,
      description:
        'Days to keep a checkpoint before it moves to .moai/sessions/archive/ (the newest valid checkpoint of an active session is always kept). ' +
        'Applied by every CLI command that appends, and by engine.applyRetention().',
    }),
  },
  { additionalProperties: false, description: 'Sessions: persistence, checkpoints, recovery, budget, forks and handoffs.' },
);

const ModelsSchema = Type.Object(
  {
    context_windows: Type.Record(
      Type.String({ pattern: MODEL_ID_PATTERN }),
      Type.Integer({ minimum: 1000, description: 'The context window of this model, in tokens.' }),
      {
        additionalProperties: false,
        default: {},
        description:
          "Context windows by model id, in tokens. These override the engine's built-in table and add models it does not know.",
      },
    ),
    prices: Type.Record(
      Type.String({ pattern: MODEL_ID_PATTERN }),
      Type.Object(
        {
          input: usdPerMillion('Uncached input.'),
          output: usdPerMillion('Output.'),
          cache_write: usdPerMillion('Writing to the prompt cache.'),
          cache_read: usdPerMillion('Reading from the prompt cache.'),
        },
        { additionalProperties: false },
      ),
      {
        additionalProperties: false,
        default: {},
        description:
          "Prices by model id (or family, e.g. claude-sonnet-5-5), in US dollars per million tokens. These override the engine's built-in list prices and price models it does not know.",
      },
    ),
  },
  { additionalProperties: false, description: 'Models.' },
);

const StoreSchema = Type.Object(
  {
    kind: Type.Union(
      STORE_KINDS.map((kind) => Type.Literal(kind)),
      {
        default: 'file',
        description:
          'Where the event log lives: file (under .moai/events/) or postgres (needs url). MOAI_STORE_URL overrides both kind and url.',
      },
    ),
    url: Type.Optional(
      Type.String({
        pattern: POSTGRES_URL_PATTERN,
        description:
          'The PostgreSQL connection URL (postgres://user:password@host:5432/db) when kind is postgres. Prefer MOAI_STORE_URL to keep passwords out of the repository.',
      }),
    ),
    durability: Type.Union(
      STORE_DURABILITIES.map((durability) => Type.Literal(durability)),
      {
        default: 'batch',
        description:
          'When appends reach the disk: always (fsync every append), batch (fsync a group of appends together), none (leave it to the operating system).',
      },
    ),
    lock_wait_ms: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 5_000,
      description:
        'How long a write command waits for another writer of the file log to finish, in milliseconds, before it gives up with exit 5 (busy); 0 fails at once. The --wait option overrides it.',
    }),
  },
  { additionalProperties: false, description: 'The event store.' },
);

/** The TypeBox schema of the effective configuration: every key present, snake_case as in the file. */
export const MoaiConfigSchema = Type.Object(
  { session: SessionSchema, models: ModelsSchema, store: StoreSchema },
  {
    additionalProperties: false,
    title: 'moai-session configuration',
    description: 'Settings of moai-session (.moai/config/config.json). Every key is optional; missing keys take their defaults.',
  },
);

/**
 * The TypeBox schema of the file itself: the configuration plus an optional
 * `$schema` key that points editors at the generated JSON Schema.
 */
export const MoaiConfigFileSchema = Type.Object(
  {
    $schema: Type.Optional(
      Type.String({ description: 'The JSON Schema this file follows, for editors (./config.schema.json).' }),
    ),
    ...MoaiConfigSchema.properties,
  },
  {
    additionalProperties: false,
    title: 'moai-session configuration',
    description: 'Settings of moai-session (.moai/config/config.json). Every key is optional; missing keys take their defaults.',
  },
);

/** The effective configuration, every key present (see `.moai/config/config.json`). */
export type MoaiConfig = Static<typeof MoaiConfigSchema>;

/** The contents of `.moai/config/config.json` once merged over the defaults. */
export type MoaiConfigFile = Static<typeof MoaiConfigFileSchema>;
