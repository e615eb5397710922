import { InvalidArgumentError } from '../errors.js';
import { lookUpFamily, parseModelId } from './modelIds.js';

/** What one model costs, in US dollars per million tokens of each kind. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Writing to the prompt cache (the 5-minute lifetime's price: usage does not say which lifetime). */
  cacheWrite: number;
  /** Reading from the prompt cache. */
  cacheRead: number;
}

/** When the built-in prices were taken, and from where. */
export const PRICES_TAKEN = { date: '2026-12-01', source: 'https://platform.claude.com/docs/en/about-claude/pricing' } as const;

const price = (input: number, output: number, cacheWrite: number, cacheRead: number): ModelPrice =>
  Object.freeze({ input, output, cacheWrite, cacheRead });

/**
 * Anthropic's list prices per model family (USD per million tokens), as
 * {@link PRICES_TAKEN} says. A dated id takes its family's price. Haiku 5.5 is
 * priced at its rate for prompts up to 100,000 tokens (longer prompts cost 5
 * times as much; a usage record does not say how long its prompt was).
 * Override or add any in the config: `models.prices`.
 */
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  'claude-fable-5-1': price(10, 50, 12.5, 0.25),
  'claude-mythos-5-1': price(10, 50, 12.5, 0.25),
  'claude-fable-5': price(10, 50, 12.5, 1),
  'claude-mythos-5': price(10, 50, 12.5, 1),
  'claude-opus-5-5': price(4, 20, 5, 0.2),
  'claude-opus-5': price(5, 25, 6.25, 0.5),
  'claude-opus-4-8': price(5, 25, 6.25, 0.5),
  'claude-opus-4-7': price(5, 25, 6.25, 0.5),
  'claude-opus-4-6': price(5, 25, 6.25, 0.5),
  'claude-opus-4-5': price(5, 25, 6.25, 0.5),
  'claude-opus-4-1': price(15, 75, 18.75, 1.5),
  'claude-opus-4': price(15, 75, 18.75, 1.5),
  'claude-3-opus': price(15, 75, 18.75, 1.5),
  // Sonnet 5.5's cache reads were cut from $0.20 to $0.10 on 2026-10-07.
  'claude-sonnet-5-5': price(2, 10, 2.5, 0.1),
  'claude-sonnet-5': price(2, 10, 2.5, 0.2),
  'claude-sonnet-4-6': price(3, 15, 3.75, 0.3),
  'claude-sonnet-4-5': price(3, 15, 3.75, 0.3),
  'claude-sonnet-4': price(3, 15, 3.75, 0.3),
  'claude-3-7-sonnet': price(3, 15, 3.75, 0.3),
  'claude-haiku-5-5': price(0.1, 0.5, 0.125, 0.01),
  'claude-haiku-4-5': price(1, 5, 1.25, 0.1),
  'claude-3-5-haiku': price(0.8, 4, 1, 0.08),
  'claude-3-haiku': price(0.25, 1.25, 0.3, 0.03),
});

const TABLE: ReadonlyMap<string, ModelPrice> = new Map(Object.entries(MODEL_PRICES));

/** The tokens of one or more calls of one model, by kind. */
export interface TokensByKind {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

/**
 * The price of `model`: an override (exact id, then family), else the
 * built-in table (exact id, then family); undefined for a model neither
 * knows (its cost is then unknown, never guessed).
 *
 * @throws {InvalidArgumentError} for an override with a price that is not a number 0 or more.
 */
export function priceOf(model: string, overrides?: Readonly<Record<string, ModelPrice>>): ModelPrice | undefined {
  const { base } = parseModelId(model);
  if (overrides !== undefined) {
    const parsed = new Map(Object.entries(overrides).map(([key, value]) => [parseModelId(key).base, checkPrice(key, value)]));
    const overridden = lookUpFamily(parsed, base);
    const builtIn = lookUpFamily(TABLE, base);
    if (overridden !== undefined && (builtIn === undefined || overridden.key.length >= builtIn.key.length)) return overridden.value;
  }
  return lookUpFamily(TABLE, base)?.value;
}

function checkPrice(key: string, value: ModelPrice): ModelPrice {
  for (const kind of ['input', 'output', 'cacheWrite', 'cacheRead'] as const) {
    const n = value[kind];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`The ${kind} price of ${JSON.stringify(key)} is ${String(n)}; it must be US dollars per million tokens, 0 or more.`);
    }
  }
  return value;
}

/** What tokens of one model cost, in US dollars; undefined when the model's price is unknown. */
export function costOf(model: string, tokens: TokensByKind, overrides?: Readonly<Record<string, ModelPrice>>): number | undefined {
  const p = priceOf(model, overrides);
  if (p === undefined) return undefined;
  return (
    (tokens.inputTokens * p.input +
      tokens.outputTokens * p.output +
      tokens.cacheCreationInputTokens * p.cacheWrite +
      tokens.cacheReadInputTokens * p.cacheRead) /
    1_000_000
  );
}

/** The cost of a spend split by model: the sum, and the models whose price is unknown (left out of the sum). */
export function costOfSpend(
  byModel: Readonly<Record<string, TokensByKind>>,
  overrides?: Readonly<Record<string, ModelPrice>>,
): { usd: number; unpriced: string[] } {
  let usd = 0;
  const unpriced: string[] = [];
  for (const [model, tokens] of Object.entries(byModel)) {
    const cost = costOf(model, tokens, overrides);
    if (cost === undefined) unpriced.push(model);
    else usd += cost;
  }
  return { usd, unpriced };
}
