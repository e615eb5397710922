// What an Agent SDK message stream means for a session, as commands: each
// assistant message's usage once by message id (the fullest of the messages
// that repeat an id), subagent messages (parent_tool_use_id) as subagent
// usage, compact boundaries, and each result's modelUsage reconciled against
// the per-message sums. Pure: no engine, no I/O; the adapter (agentSdk.ts)
// runs the commands. The shapes are structural, so this module needs the SDK
// neither at run time nor for its types; any field may be missing.

import type { SessionCommand } from '../../engine/commands.js';

/** The four token counts of a call. */
export interface SdkTokens {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
}

/** The part of an Agent SDK message (`SDKMessage`) the adapter reads; every other field passes by untouched. */
export interface AgentSdkMessageLike {
  type: string;
  subtype?: string;
  session_id?: string;
  uuid?: string;
  [key: string]: unknown;
}

/** One model's figures in a result's `modelUsage` (the SDK's `ModelUsage`). */
export interface SdkModelUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheCreationInputTokens?: number;
  costUSD?: number;
  contextWindow?: number;
}

/** How one model's per-message sums compare with what the result reports for it. */
export interface ModelReconciliation {
  model: string;
  /** The sums of the messages of this stream, each id once. */
  perMessage: SdkTokens;
  /** What the result's `modelUsage` says this stream spent on the model (its running total less the part that came before this stream, when known). */
  reported: SdkTokens;
  /** The shortfall recorded as a correction (reported − per-message, where positive: per-message output counts are placeholders). */
  correction: SdkTokens;
  /** The SDK's own estimate of the model's cost (`costUSD`). */
  costUsd?: number;
}

/** One `result` message, reconciled. */
export interface ResultReconciliation {
  subtype: string;
  isError: boolean;
  numTurns?: number;
  /** The SDK's estimate for the whole query() call so far (`total_cost_usd`, subagents included). */
  totalCostUsd?: number;
  models: ModelReconciliation[];
  /**
   * False when the stream resumed or forked a session: the result's running
   * totals then start with the turns before this stream, which the stream
   * does not show, so the first result sets the baseline and only later ones
   * are reconciled.
   */
  reconciled: boolean;
}

const zero = (): SdkTokens => ({ input: 0, output: 0, cacheCreation: 0, cacheRead: 0 });
const KINDS = ['input', 'output', 'cacheCreation', 'cacheRead'] as const;

const asObject = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
const asString = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0);

/** The four counts of an Anthropic `usage` object (missing ones 0), or undefined when there is none. */
export function sdkUsage(value: unknown): SdkTokens | undefined {
  const usage = asObject(value);
  if (usage === undefined) return undefined;
  return {
    input: count(usage.input_tokens),
    output: count(usage.output_tokens),
    cacheCreation: count(usage.cache_creation_input_tokens),
    cacheRead: count(usage.cache_read_input_tokens),
  };
}

const USAGE_FIELDS = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;
const isCount = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
 * Why a `usage` object cannot be read as an API call's counts (a count that
 * is not a non-negative number, or neither input nor output counted), or
 * undefined when it can.
 */
export function sdkUsageProblem(value: unknown): string | undefined {
  const usage = asObject(value);
  if (usage === undefined) return 'usage is not an object';
  for (const field of USAGE_FIELDS) {
    if (usage[field] !== undefined && usage[field] !== null && !isCount(usage[field])) return `usage.${field} is ${JSON.stringify(usage[field])?.slice(0, 40)}, not a count of tokens`;
  }
  if (!isCount(usage.input_tokens) && !isCount(usage.output_tokens)) return 'usage has neither input_tokens nor output_tokens';
  return undefined;
}

const total = (t: SdkTokens): number => t.input + t.output + t.cacheCreation + t.cacheRead;
const add = (into: SdkTokens, t: SdkTokens): void => KINDS.forEach((k) => (into[k] += t[k]));
const cut = (text: string, max = 200): string => (text.length <= max ? text : text.slice(0, max));

/** Claude Code's model for messages it writes itself (errors, interruptions): no API call. */
const SYNTHETIC_MODEL = '<synthetic>';

/** An assistant message id seen on a chain, whose call is recorded when the chain moves on. */
interface OpenCall {
  messageId: string;
  chain: string;
  model: string | undefined;
  usage: SdkTokens;
  main: boolean;
  agentId: string | undefined;
  requestId: string | undefined;
  at: string | undefined;
}

/** Options of {@link AgentSdkIntake}. */
export interface AgentSdkIntakeOptions {
  /** The session's model now. */
  model: string;
  /** Whether the stream resumed or forked a session (see {@link ResultReconciliation.reconciled}). */
  continued: boolean;
  /** Message ids recorded already (by an earlier stream of the session): not recorded again. */
  recorded?: Iterable<string>;
}

/**
 * Turns the messages of one Agent SDK stream into session commands. Feed it
 * every message in order with {@link take}; {@link finish} records what is
 * still open when the stream ends.
 */
export class AgentSdkIntake {
  /** API calls recorded (each message id once). */
  apiCalls = 0;
  /** Their sums, main chain and subagents. */
  readonly tokens: SdkTokens = zero();
  /** Per subagent (its `agent_id`, else the `parent_tool_use_id` of the Task call that ran it). */
  readonly subagents = new Map<string, { apiCalls: number; tokens: SdkTokens }>();
  readonly results: ResultReconciliation[] = [];
  compactions = 0;

  private model: string;
  private readonly open = new Map<string, OpenCall>();
  private readonly recorded: Set<string>;
  /** Per model: what this stream's messages spent, and the corrections recorded. */
  private readonly byModel = new Map<string, SdkTokens>();
  private readonly corrected = new Map<string, SdkTokens>();
  /** Per model: the running total the first result of a continued stream reported (the part before this stream, and this stream's calls up to it). */
  private baseline: Map<string, SdkTokens> | undefined;
  private readonly continued: boolean;

  constructor(options: AgentSdkIntakeOptions) {
    this.model = options.model;
    this.continued = options.continued;
    this.recorded = new Set(options.recorded ?? []);
  }

  /** The commands one message asks for (often none). */
  take(message: AgentSdkMessageLike): SessionCommand[] {
    const commands: SessionCommand[] = [];
    switch (message.type) {
      case 'assistant':
        // A call is complete when its chain's next call starts (a reply's messages can come between its tool results), at a boundary, a result, or the end.
        this.assistant(message, commands);
        break;
      case 'system':
        if (message.subtype === 'compact_boundary') this.compactBoundary(message, commands);
        break;
      case 'result':
        this.completeAll(commands);
        this.result(message, commands);
        break;
      case 'conversation_reset':
        // /clear: the running totals of later results start again from zero.
        this.completeAll(commands);
        this.byModel.clear();
        this.corrected.clear();
        this.baseline = undefined;
        break;
      default:
        break;
    }
    return commands;
  }

  /** The commands that record what is still open when the stream ends. */
  finish(): SessionCommand[] {
    const commands: SessionCommand[] = [];
    this.completeAll(commands);
    return commands;
  }

  private assistant(message: AgentSdkMessageLike, commands: SessionCommand[]): void {
    const body = asObject(message.message);
    const usage = sdkUsage(body?.usage);
    const messageId = asString(body?.id);
    if (body === undefined || usage === undefined || messageId === undefined) return;
    const model = asString(body.model);
    if (model === SYNTHETIC_MODEL || this.recorded.has(messageId)) return;
    // A usage that cannot be read is no call of 0 tokens: left out, and said (the caller's onError).
    const problem = sdkUsageProblem(body.usage);
    if (problem !== undefined) throw new Error(`Assistant message ${cut(messageId, 100)} not recorded: ${problem}.`);
    const chain = chainOf(message);
    const open = this.open.get(messageId);
    if (open !== undefined) {
      // The same reply again (one message per content block): keep the fullest counts.
      if (total(usage) > total(open.usage)) open.usage = usage;
      return;
    }
    // A new reply on this chain: the one before it is complete.
    this.complete(chain, commands);
    const parent = asString(message.parent_tool_use_id);
    this.open.set(messageId, {
      messageId,
      chain,
      model,
      usage,
      main: parent === undefined,
      agentId: parent === undefined ? undefined : (asString(message.agent_id) ?? parent),
      requestId: asString(message.request_id),
      at: asString(message.timestamp),
    });
  }

  private complete(chain: string, commands: SessionCommand[]): void {
    for (const call of [...this.open.values()]) if (call.chain === chain) this.record(call, commands);
  }

  private completeAll(commands: SessionCommand[]): void {
    for (const call of [...this.open.values()]) this.record(call, commands);
  }

  private record(call: OpenCall, commands: SessionCommand[]): void {
    this.open.delete(call.messageId);
    this.recorded.add(call.messageId);
    const model = call.model ?? this.model;
    if (call.main && call.model !== undefined && call.model !== this.model) {
      commands.push({ type: 'SwitchModel', model: call.model, reason: 'the Agent SDK stream shows calls on it' });
      this.model = call.model;
    }
    const command: SessionCommand = {
      type: 'RecordTokenUsage',
      model,
      inputTokens: call.usage.input,
      outputTokens: call.usage.output,
      cacheCreationInputTokens: call.usage.cacheCreation,
      cacheReadInputTokens: call.usage.cacheRead,
      main: call.main,
      messageId: cut(call.messageId),
    };
    if (call.requestId !== undefined) command.requestId = cut(call.requestId);
    if (call.agentId !== undefined) command.agentId = cut(call.agentId);
    if (call.at !== undefined && call.at.length <= 64) command.at = call.at;
    commands.push(command);
    this.apiCalls++;
    add(this.tokens, call.usage);
    const sums = this.byModel.get(model) ?? zero();
    add(sums, call.usage);
    this.byModel.set(model, sums);
    if (call.agentId !== undefined) {
      const agent = this.subagents.get(call.agentId) ?? { apiCalls: 0, tokens: zero() };
      agent.apiCalls++;
      add(agent.tokens, call.usage);
      this.subagents.set(call.agentId, agent);
    }
  }

  private compactBoundary(message: AgentSdkMessageLike, commands: SessionCommand[]): void {
    // The main chain's context is replaced: its call before the boundary is complete.
    this.complete('main', commands);
    const meta = asObject(message.compact_metadata);
    const pre = count(meta?.pre_tokens);
    const postValue = meta?.post_tokens;
    const known = typeof postValue === 'number' && Number.isFinite(postValue) && postValue >= 0;
    const command: SessionCommand = {
      type: 'RecordCompaction',
      trigger: asString(meta?.trigger) ?? 'unknown',
      tokensBefore: pre,
      tokensAfter: known ? Math.min(pre, Math.floor(postValue)) : 0,
      tokensAfterKnown: known,
    };
    const uuid = asString(message.uuid);
    if (uuid !== undefined) command.compactionId = cut(uuid);
    commands.push(command);
    this.compactions++;
  }

  private result(message: AgentSdkMessageLike, commands: SessionCommand[]): void {
    const models = asObject(message.modelUsage) ?? {};
    const reported = new Map<string, { tokens: SdkTokens; costUsd?: number }>();
    for (const [model, raw] of Object.entries(models)) {
      const usage = asObject(raw) as SdkModelUsage | undefined;
      const tokens = {
        input: count(usage?.inputTokens),
        output: count(usage?.outputTokens),
        cacheCreation: count(usage?.cacheCreationInputTokens),
        cacheRead: count(usage?.cacheReadInputTokens),
      };
      const costUsd = typeof usage?.costUSD === 'number' && Number.isFinite(usage.costUSD) ? usage.costUSD : undefined;
      reported.set(model, costUsd === undefined ? { tokens } : { tokens, costUsd });
    }
    const reconciliation: ResultReconciliation = {
      subtype: asString(message.subtype) ?? 'unknown',
      isError: message.is_error === true,
      models: [],
      reconciled: !this.continued || this.baseline !== undefined,
    };
    if (typeof message.num_turns === 'number') reconciliation.numTurns = message.num_turns;
    if (typeof message.total_cost_usd === 'number' && Number.isFinite(message.total_cost_usd)) reconciliation.totalCostUsd = message.total_cost_usd;
    const firstOfContinued = this.continued && this.baseline === undefined;
    if (firstOfContinued) {
      // What the running totals held before this stream is unknown: this result is the baseline.
      this.baseline = new Map();
    }
    for (const model of new Set([...reported.keys(), ...this.byModel.keys()])) {
      const perMessage = { ...(this.byModel.get(model) ?? zero()) };
      const running = reported.get(model)?.tokens ?? zero();
      const corrected = this.corrected.get(model) ?? zero();
      let spent: SdkTokens;
      if (firstOfContinued) {
        // The part before this stream: the running total less this stream's calls so far.
        const before = zero();
        for (const k of KINDS) before[k] = Math.max(0, running[k] - perMessage[k]);
        this.baseline!.set(model, before);
        spent = perMessage;
      } else {
        const before = this.baseline?.get(model) ?? zero();
        spent = zero();
        for (const k of KINDS) spent[k] = Math.max(0, running[k] - before[k]);
      }
      const correction = zero();
      for (const k of KINDS) correction[k] = Math.max(0, spent[k] - perMessage[k] - corrected[k]);
      const entry: ModelReconciliation = { model, perMessage, reported: spent, correction };
      const costUsd = reported.get(model)?.costUsd;
      if (costUsd !== undefined) entry.costUsd = costUsd;
      reconciliation.models.push(entry);
      if (total(correction) === 0) continue;
      add(corrected, correction);
      this.corrected.set(model, corrected);
      // The shortfall, recorded as spend (it fills no context: the calls it belongs to are recorded already).
      const command: SessionCommand = {
        type: 'RecordTokenUsage',
        model,
        inputTokens: correction.input,
        outputTokens: correction.output,
        cacheCreationInputTokens: correction.cacheCreation,
        cacheReadInputTokens: correction.cacheRead,
        main: false,
        agentId: RECONCILIATION_AGENT,
      };
      const uuid = asString(message.uuid);
      if (uuid !== undefined) command.messageId = cut(`${RECONCILIATION_PREFIX}${uuid}:${model}`);
      commands.push(command);
    }
    this.results.push(reconciliation);
  }
}

/** The agent id of the usage that reconciles a result's modelUsage with the per-message sums. */
export const RECONCILIATION_AGENT = 'agent-sdk-result';
/** The message id prefix of those records (`result:<uuid>:<model>`). */
export const RECONCILIATION_PREFIX = 'result:';

/** The chain a message is on: `main`, or the subagent's (its parent tool call). */
function chainOf(message: AgentSdkMessageLike): string {
  const parent = asString(message.parent_tool_use_id);
  return parent === undefined ? 'main' : `tool:${parent}`;
}
