import { describeValue } from '../util/describeValue.js';
import { InvalidArgumentError, MoaiError } from '../errors.js';
import { groupDigits } from '../util/groupDigits.js';

/** The four token counters of one API call, normalised: every count a non-negative whole number. */
export interface TokenUsage {
  /** Uncached input after the last cache breakpoint (`input_tokens`). */
  readonly inputTokens: number;
  /** Output tokens (`output_tokens`). */
  readonly outputTokens: number;
  /** Input written to the prompt cache in this call (`cache_creation_input_tokens`). */
  readonly cacheCreationInputTokens: number;
  /** Input read from the prompt cache (`cache_read_input_tokens`). */
  readonly cacheReadInputTokens: number;
}

/** A `usage` object that is not the API's shape: a count that is missing, negative, fractional or not a number. */
export class InvalidUsageError extends MoaiError {
  constructor(
    /** Where the usage came from, e.g. a file and line or a request id. */
    readonly where: string,
    /** The offending field, e.g. `input_tokens`, or `usage` when the whole value is wrong. */
    readonly field: string,
    /** The value found, as given. */
    readonly value: unknown,
    reason: string,
  ) {
    super(
      'INVALID_USAGE',
      `Invalid token usage at ${where}: ${field} is ${describeValue(value)}, but ${reason}. ` +
        `Pass the API response's usage object unchanged; nothing was recorded.`,
    );
  }
}

/** True when `error` is an {@link InvalidUsageError}. */
export const isInvalidUsageError = (error: unknown): error is InvalidUsageError => error instanceof InvalidUsageError;


/**
 * The most tokens one count of one API call may hold. No model reads or
 * writes anywhere near it (the largest context window is 1,000,000), so a
 * count past it is a mistake, and refusing it keeps every sum the engine
 * makes (the context in use, the spend) a safe integer.
 */
export const MAX_TOKENS_PER_COUNT = 100_000_000;

const COUNT_REASON = 'it must be a whole number of tokens, 0 or more';
const BOUND_REASON = `no API call reads or writes that many (at most ${groupDigits(MAX_TOKENS_PER_COUNT)} a count)`;

function count(usage: Record<string, unknown>, field: string, where: string, optional: boolean): number {
  const value = usage[field];
  if (optional && (value === undefined || value === null)) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidUsageError(where, field, value, COUNT_REASON);
  }
  if (value > MAX_TOKENS_PER_COUNT) throw new InvalidUsageError(where, field, value, BOUND_REASON);
  return value + 0; // turns -0 into 0
}

/**
 * Normalise the API's `usage` object (`input_tokens`, `output_tokens`,
 * `cache_creation_input_tokens`, `cache_read_input_tokens`). The cache counts may be
 * missing or null (older models and CLIs omit them) and count as 0; other keys
 * (`cache_creation`, `service_tier`, ...) are ignored.
 *
 * @param where Names the source in error messages, e.g. `transcript.jsonl:42`.
 * @throws InvalidUsageError naming the field, the value and `where` when `usage` is not an
 *   object or a count is missing, negative, fractional or not a number.
 * @example
 * normaliseUsage({ input_tokens: 3, output_tokens: 9, cache_read_input_tokens: 11442 }, 'req_1');
 * // { inputTokens: 3, outputTokens: 9, cacheCreationInputTokens: 0, cacheReadInputTokens: 11442 }
 */
export function normaliseUsage(usage: unknown, where: string): TokenUsage {
  if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) {
    throw new InvalidUsageError(where, 'usage', usage, 'it must be an object with input_tokens and output_tokens');
  }
  const record = usage as Record<string, unknown>;
  return {
    inputTokens: count(record, 'input_tokens', where, false),
    outputTokens: count(record, 'output_tokens', where, false),
    cacheCreationInputTokens: count(record, 'cache_creation_input_tokens', where, true),
    cacheReadInputTokens: count(record, 'cache_read_input_tokens', where, true),
  };
}

/**
 * The context a call occupied: input + cache creation + cache read. Output is not
 * counted, as in Claude Code's statusline and ccusage.
 */
export const contextTokensOf = (usage: TokenUsage): number =>
  usage.inputTokens + usage.cacheCreationInputTokens + usage.cacheReadInputTokens;

/** Every token of a call: its context plus its output. */
export const totalTokensOf = (usage: TokenUsage): number => contextTokensOf(usage) + usage.outputTokens;

/** A usage of nothing: all four counts 0. */
export const ZERO_USAGE: TokenUsage = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationInputTokens: 0,
  cacheReadInputTokens: 0,
});

/**
 * The spend of several calls: each counter summed. Dedupe the calls first (the same
 * API response can appear on several transcript lines).
 */
export function sumUsage(usages: Iterable<TokenUsage>): TokenUsage {
  let inputTokens = 0;
  let outputTokens = 0;
  let cacheCreationInputTokens = 0;
  let cacheReadInputTokens = 0;
  for (const usage of usages) {
    inputTokens += usage.inputTokens;
    outputTokens += usage.outputTokens;
    cacheCreationInputTokens += usage.cacheCreationInputTokens;
    cacheReadInputTokens += usage.cacheReadInputTokens;
  }
  return { inputTokens, outputTokens, cacheCreationInputTokens, cacheReadInputTokens };
}

/**
 * `tokens` as a percentage of `contextWindow` (0 to 100, more when over the window).
 *
 * @throws InvalidArgumentError when the window is not a positive whole number or
 *   `tokens` is negative or not finite.
 * @example
 * percentOfWindow(150_000, 200_000); // 75
 */
export function percentOfWindow(tokens: number, contextWindow: number): number {
  if (!Number.isSafeInteger(contextWindow) || contextWindow < 1) {
    throw new InvalidArgumentError(`The context window is ${String(contextWindow)}; it must be a whole number of tokens of at least 1.`);
  }
  if (!Number.isFinite(tokens) || tokens < 0) {
    throw new InvalidArgumentError(`The token count is ${String(tokens)}; it must be a finite number, 0 or more.`);
  }
  return (tokens / contextWindow) * 100;
}
