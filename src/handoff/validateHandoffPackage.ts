import { describeValue } from '../util/describeValue.js';
import { describeFields, explainSchemaErrors, type ExplainOptions, type SchemaNode } from '../validation/explainSchemaErrors.js';
import type { MoaiConfig } from '../config/schema.js';
import { checkHandoffPackage, handoffPackageSchema } from './generated/handoffCheck.js';
import type { HandoffPackage } from './handoffPackage.js';
import { HandoffValidationError } from './handoffValidationError.js';

/** The kinds of problem a handoff package can have. */
export const HANDOFF_PROBLEM_CODES = [
  'MISSING_FIELD',
  'INVALID_FIELD',
  'NOT_ENOUGH_TOKENS',
  'INCOMPATIBLE_AGENTS',
  'NO_CHECKPOINT',
  'SAME_AGENT',
] as const;

/** One of {@link HANDOFF_PROBLEM_CODES}. */
export type HandoffProblemCode = (typeof HANDOFF_PROBLEM_CODES)[number];

/** One thing wrong with a handoff package. */
export interface HandoffProblem {
  code: HandoffProblemCode;
  /** The field, as a readable path: `session_context.tokens_available`, `task_context.open_tasks[0].id`; `''` for the whole package. */
  path: string;
  /** What is wrong, where, and what to do, in one sentence or two. */
  message: string;
  /** The value found, for a field that is present but wrong. */
  value?: unknown;
}

/**
 * The rules a handoff must follow, from `session.handoff` in the config (see
 * {@link handoffRulesFromConfig}).
 */
export interface HandoffRules {
  /** The fewest tokens the context must have free; below this a compaction is needed first. */
  minAvailableTokens: number;
  /**
   * Which agents may hand to which: agent -> the agents it may hand to. An
   * agent that is not a key may hand to any agent; an agent whose list is
   * empty may hand to none.
   */
  compatibleAgents: Readonly<Record<string, readonly string[]>>;
}

/** What {@link validateHandoffPackage} found. */
export interface HandoffValidation {
  /** True when there are no problems: the handoff may proceed. */
  ok: boolean;
  /** Every problem, schema problems first (in the package's field order), then the handoff rules. */
  problems: HandoffProblem[];
  /** True when too few tokens are available: compact the context, then make the package again. */
  needsCompaction: boolean;
  /**
   * True when a receiver may accept the package as it stands: it has no
   * problem but, at most, too little free context (`NOT_ENOUGH_TOKENS`),
   * which calls for a compaction, not a refusal (as the product document's
   * `validate_handoff` triggers a compression and goes on).
   * `acceptHandoffPackage` and `moai-session handoff validate` give this verdict.
   */
  acceptable: boolean;
  /**
   * What the package does not say that accepting it needs, and where the
   * engine takes it from instead (the session's log), one sentence each:
   * `session_context.available_tokens is not given: the free context is taken from the session's log`.
   */
  derived: string[];
}

/** The handoff rules of a loaded configuration: `session.handoff.min_available_tokens` and `compatible_agents`. */
export function handoffRulesFromConfig(config: MoaiConfig): HandoffRules {
  return {
    minAvailableTokens: config.session.handoff.min_available_tokens,
    compatibleAgents: config.session.handoff.compatible_agents,
  };
}

/** How the shared explainer words a package's problems. */
function explainOptions(schema: SchemaNode): ExplainOptions {
  // created_at's description says what it must be; the other fields are described from their schema.
  const createdAt = (schema.properties?.['created_at'] as { description?: string } | undefined)?.description;
  return {
    documentName: 'The handoff package',
    noun: 'field',
    ...(createdAt === undefined ? {} : { allowed: { created_at: createdAt } }),
  };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function schemaProblems(value: unknown): HandoffProblem[] {
  // The generated check: a valid package loads no TypeBox.
  if (checkHandoffPackage(value)) return [];
  const schema = handoffPackageSchema() as SchemaNode;
  if (!isPlainObject(value)) {
    return [
      {
        code: 'INVALID_FIELD',
        path: '',
        value,
        message: `The handoff package is ${describeValue(value)}, but it must be a JSON object with the fields ${describeFields(schema)}.`,
      },
    ];
  }
  return explainSchemaErrors(schema, value, explainOptions(schema)).map((problem) => ({
    code: problem.kind === 'missing' ? 'MISSING_FIELD' : 'INVALID_FIELD',
    path: problem.path,
    message: problem.message,
    ...(problem.kind === 'missing' ? {} : { value: problem.value }),
  }));
}

function field(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isPlainObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

function ruleProblems(
  value: unknown,
  rules: HandoffRules,
  flawed: ReadonlySet<string>,
): { problems: HandoffProblem[]; needsCompaction: boolean } {
  const problems: HandoffProblem[] = [];
  const usable = (path: string, candidate: unknown, check: (v: unknown) => boolean) =>
    !flawed.has(path) && check(candidate);

  let needsCompaction = false;
  const window = field(value, 'session_context', 'context_window');
  const used = field(value, 'session_context', 'tokens_used');
  // The product's name first; the engine's older one when only it is given.
  const productTokens = field(value, 'session_context', 'available_tokens');
  const engineTokens = field(value, 'session_context', 'tokens_available');
  if (
    usable('session_context.available_tokens', productTokens, isCount) &&
    usable('session_context.tokens_available', engineTokens, isCount) &&
    productTokens !== engineTokens
  ) {
    problems.push({
      code: 'INVALID_FIELD',
      path: 'session_context.tokens_available',
      value: engineTokens,
      message:
        `session_context.tokens_available is ${String(engineTokens)}, but session_context.available_tokens is ${String(productTokens)}; ` +
        'they are the same number under two names: give one, or the same in both.',
    });
  }
  const tokensPath = usable('session_context.available_tokens', productTokens, isCount)
    ? 'session_context.available_tokens'
    : 'session_context.tokens_available';
  const declared = tokensPath === 'session_context.available_tokens' ? productTokens : engineTokens;
  if (usable(tokensPath, declared, isCount)) {
    let available = declared as number;
    if (
      usable('session_context.context_window', window, isCount) &&
      usable('session_context.tokens_used', used, isCount)
    ) {
      const most = Math.max(0, (window as number) - (used as number));
      if (available > most) {
        problems.push({
          code: 'INVALID_FIELD',
          path: tokensPath,
          value: available,
          message:
            `${tokensPath} is ${available}, but a context window of ${String(window)} tokens ` +
            `with ${String(used)} in use leaves at most ${most}; make the package again from the session's current usage.`,
        });
        available = most;
      }
    }
    if (available < rules.minAvailableTokens) {
      needsCompaction = true;
      problems.push({
        code: 'NOT_ENOUGH_TOKENS',
        path: tokensPath,
        value: available,
        message:
          `${tokensPath}: only ${available} tokens of context are free, below the ` +
          `${rules.minAvailableTokens} a handoff needs ` +
          `(session.handoff.min_available_tokens): compact the context (\`moai-session compact\` records one), then make the package again.`,
      });
    }
  }

  const from = field(value, 'from_agent');
  const to = field(value, 'to_agent');
  if (usable('from_agent', from, isText) && usable('to_agent', to, isText)) {
    const fromAgent = from as string;
    const toAgent = to as string;
    if (fromAgent === toAgent) {
      problems.push({
        code: 'SAME_AGENT',
        path: 'to_agent',
        value: toAgent,
        message:
          `from_agent and to_agent are both ${JSON.stringify(fromAgent)}: an agent cannot hand a session to itself. ` +
          `Name the receiving agent in to_agent.`,
      });
    } else if (Object.hasOwn(rules.compatibleAgents, fromAgent)) {
      const allowedAgents = rules.compatibleAgents[fromAgent] ?? [];
      if (!allowedAgents.includes(toAgent)) {
        problems.push({
          code: 'INCOMPATIBLE_AGENTS',
          path: 'to_agent',
          value: toAgent,
          message:
            `${fromAgent} may not hand off to ${toAgent}: session.handoff.compatible_agents.${fromAgent} ` +
            (allowedAgents.length > 0
              ? `allows only ${allowedAgents.join(', ')}. Hand off to one of those, or add ${toAgent} to that list.`
              : `is empty, so ${fromAgent} may hand off to no agent. Add ${toAgent} to that list to allow it.`),
        });
      }
    }
  }

  const checkpoint = field(value, 'recovery_info', 'checkpoint_id');
  // A package that names no checkpoint (one from outside the engine) is not refused for it: only an engine's null is.
  if (!flawed.has('recovery_info.checkpoint_id') && isPlainObject(field(value, 'recovery_info'))) {
    if (checkpoint === null) {
      problems.push({
        code: 'NO_CHECKPOINT',
        path: 'recovery_info.checkpoint_id',
        value: null,
        message:
          'recovery_info.checkpoint_id is null: no checkpoint was taken for this handoff, so the receiver could not recover. ' +
          'Take a checkpoint, then make the package again.',
      });
    } else if (typeof checkpoint === 'string') {
      const snapshotCheckpoint = field(value, 'context_snapshot', 'checkpoint_id');
      if (
        !flawed.has('context_snapshot.checkpoint_id') &&
        typeof snapshotCheckpoint === 'string' &&
        snapshotCheckpoint !== checkpoint
      ) {
        problems.push({
          code: 'INVALID_FIELD',
          path: 'context_snapshot.checkpoint_id',
          value: snapshotCheckpoint,
          message:
            `context_snapshot.checkpoint_id is ${JSON.stringify(snapshotCheckpoint)}, but recovery_info.checkpoint_id is ` +
            `${JSON.stringify(checkpoint)}; both must name the same checkpoint (or the snapshot's may be null).`,
        });
      }
    }
  }

  const resume = field(value, 'recovery_info', 'resume_from_version');
  const version = field(value, 'session_context', 'session_version');
  if (
    usable('recovery_info.resume_from_version', resume, isCount) &&
    usable('session_context.session_version', version, isCount) &&
    (resume as number) > (version as number)
  ) {
    problems.push({
      code: 'INVALID_FIELD',
      path: 'recovery_info.resume_from_version',
      value: resume,
      message:
        `recovery_info.resume_from_version is ${String(resume)}, after the session's version ${String(version)} ` +
        `(session_context.session_version); it must be at most ${String(version)}.`,
    });
  }

  return { problems, needsCompaction };
}

/**
 * Check a handoff package: its schema (every missing field and every wrong
 * value is named, with its path), then the handoff rules. The required
 * fields are those the product document's `validate_handoff` names
 * (`HANDOFF_REQUIRED_FIELDS`); every other field is optional, and what
 * accepting the package would take from the log instead is listed in
 * `derived`. The rules, each on the fields that are given:
 *
 * - `session_context.available_tokens` (or the engine's older
 *   `tokens_available`; both given, they agree) at least
 *   `rules.minAvailableTokens` (and no more than the window minus the tokens
 *   used); below it, `NOT_ENOUGH_TOKENS` and `needsCompaction: true`, but
 *   the package stays `acceptable` (a receiver compacts; a sender compacts
 *   before making it).
 * - `from_agent` and `to_agent` differ (`SAME_AGENT`).
 * - When `rules.compatibleAgents` has `from_agent` as a key, its list names
 *   `to_agent` (`INCOMPATIBLE_AGENTS`). An agent that is not a key may hand
 *   to any agent.
 * - `recovery_info.checkpoint_id` names a checkpoint (`NO_CHECKPOINT` when null),
 *   the same one as `context_snapshot.checkpoint_id` when that is not null.
 * - `recovery_info.resume_from_version` is not after `session_context.session_version`.
 *
 * Pure, and never throws for a bad package; see {@link assertValidHandoff} for
 * the throwing form.
 *
 * @example
 * const result = validateHandoffPackage(JSON.parse(text), handoffRulesFromConfig(config));
 * if (result.needsCompaction) await compact();
 * for (const problem of result.problems) console.error(problem.message);
 */
export function validateHandoffPackage(value: unknown, rules: HandoffRules): HandoffValidation {
  const problems = schemaProblems(value);
  const flawed = new Set(problems.map((problem) => problem.path));
  const rulesResult = ruleProblems(value, rules, flawed);
  problems.push(...rulesResult.problems);
  return {
    ok: problems.length === 0,
    problems,
    needsCompaction: rulesResult.needsCompaction,
    acceptable: problems.every((problem) => problem.code === 'NOT_ENOUGH_TOKENS'),
    derived: derivedFields(value),
  };
}

/**
 * What an accepted package lacks that the engine takes from the session's
 * log instead: the session, the model, the free context, the checkpoint and
 * the log position. Nothing for a package that is not an object.
 */
function derivedFields(value: unknown): string[] {
  if (!isPlainObject(value) || !isPlainObject(value['session_context'])) return [];
  const derived: string[] = [];
  const has = (...keys: string[]) => field(value, ...keys) !== undefined;
  if (!has('session_context', 'session_id')) {
    derived.push('session_context.session_id is not given: the package is accepted into the session named on accepting it (or the current one)');
  }
  if (!has('session_context', 'model')) {
    derived.push("session_context.model is not given: the session's model is taken from its log (a new session needs one named)");
  }
  if (!has('session_context', 'available_tokens') && !has('session_context', 'tokens_available')) {
    derived.push("session_context.available_tokens is not given: the free context is taken from the session's log, and is not checked here");
  }
  if (!has('session_context', 'session_version')) {
    derived.push("session_context.session_version is not given: the package is taken to describe the session as its log has it now");
  }
  if (!has('recovery_info', 'checkpoint_id')) {
    derived.push("recovery_info.checkpoint_id is not given: a recovery restores the session's newest checkpoint in its log");
  }
  return derived;
}

/**
 * Check a handoff package as {@link validateHandoffPackage} does and return it,
 * typed, when it has no problems.
 *
 * @throws HandoffValidationError listing every problem (`needsCompaction` set
 *   when too few tokens are available).
 */
export function assertValidHandoff(value: unknown, rules: HandoffRules): HandoffPackage {
  const result = validateHandoffPackage(value, rules);
  if (!result.ok) {
    const handoffId = field(value, 'handoff_id');
    throw new HandoffValidationError(result.problems, {
      needsCompaction: result.needsCompaction,
      ...(typeof handoffId === 'string' ? { handoffId } : {}),
    });
  }
  return value as HandoffPackage;
}
