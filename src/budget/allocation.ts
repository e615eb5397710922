import { InvalidArgumentError } from '../errors.js';
import { groupDigits } from '../util/groupDigits.js';

/** The parts of the context window the allocation divides it into. */
export const ALLOCATION_SHARE_NAMES = ['system', 'conversation', 'reference', 'reserve'] as const;

/** One part of the context window: `system`, `conversation`, `reference` or `reserve`. */
export type AllocationShareName = (typeof ALLOCATION_SHARE_NAMES)[number];

/** The percent of the window given to each share. */
export type AllocationShares = Readonly<Record<AllocationShareName, number>>;

/** The product's shares: system 7.5 %, conversation 40 %, reference 25 %, reserve 27.5 %. */
export const DEFAULT_ALLOCATION_SHARES: AllocationShares = Object.freeze({
  system: 7.5,
  conversation: 40,
  reference: 25,
  reserve: 27.5,
});

/** The default `session.context_budget.reserve_tokens`: 55,000. */
export const DEFAULT_RESERVE_TOKENS = 55_000;

/** What {@link computeAllocation} needs. */
export interface AllocationOptions {
  /** The model's context window in tokens. */
  readonly contextWindow: number;
  /** The context in use now, in tokens (input + cache creation + cache read of the latest main call). */
  readonly usedTokens: number;
  /** Percent of the window per share; default {@link DEFAULT_ALLOCATION_SHARES}. */
  readonly shares?: AllocationShares;
  /** The least the reserve may be, in tokens (`reserve_tokens`); default {@link DEFAULT_RESERVE_TOKENS}. */
  readonly reserveTokens?: number;
}

/** One share's part of the window. */
export interface AllocationShare {
  /** Percent of the window. */
  readonly percent: number;
  /** Tokens: `percent` of the window, rounded down. */
  readonly tokens: number;
}

/** The allocation of a context window against the usage now. */
export interface AllocationReport {
  /** The model's context window in tokens. */
  readonly contextWindow: number;
  /** The context in use, in tokens. */
  readonly usedTokens: number;
  /** The context in use as a percent of the window. */
  readonly usedPercent: number;
  /** Each share's percent and token budget. */
  readonly shares: Readonly<Record<AllocationShareName, AllocationShare>>;
  /** The reserve actually held back: the larger of the reserve share and `reserveTokens`, at most the window. */
  readonly reserveBudgetTokens: number;
  /** Tokens usable before the reserve is touched: the window minus the reserve budget. */
  readonly availableTokens: number;
  /** Of those, the tokens still free now: `availableTokens - usedTokens`, at least 0. */
  readonly remainingBeforeReserveTokens: number;
  /** True when usage is above `availableTokens` and so occupies part of the reserve. */
  readonly reserveInUse: boolean;
  /** How many reserve tokens usage occupies, from 0 up to the whole reserve budget. */
  readonly reserveEatenTokens: number;
  /** Tokens of usage beyond the window itself, usually 0. */
  readonly overWindowTokens: number;
  /** Readable warnings, one sentence each; empty when all is well. */
  readonly warnings: readonly string[];
}

const fmt = (n: number): string => groupDigits(n);
const pct = (n: number): string => `${Number(n.toFixed(1))} %`;

function wholeTokens(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} is ${String(value)}; it must be a whole number of tokens, ${min} or more.`);
  }
}

/**
 * The allocation report: each share's token budget for the window, the reserve
 * (the larger of the reserve share and `reserveTokens`, capped at the window), the
 * tokens available before the reserve, and whether and by how much usage eats into it,
 * with readable warnings.
 *
 * @throws InvalidArgumentError for a window below 1, negative or fractional token
 *   counts, or shares that are negative or add up to more than 100 %.
 * @example
 * const report = computeAllocation({ contextWindow: 200_000, usedTokens: 150_000 });
 * report.availableTokens;    // 145000 (200,000 - the 55,000 reserve)
 * report.reserveEatenTokens; // 5000
 */
export function computeAllocation(options: AllocationOptions): AllocationReport {
  const { contextWindow, usedTokens } = options;
  const sharePercents = options.shares ?? DEFAULT_ALLOCATION_SHARES;
  const reserveSetting = options.reserveTokens ?? DEFAULT_RESERVE_TOKENS;
  wholeTokens('The context window', contextWindow, 1);
  wholeTokens('The context in use', usedTokens, 0);
  wholeTokens('reserve_tokens', reserveSetting, 0);

  let shareTotal = 0;
  for (const name of ALLOCATION_SHARE_NAMES) {
    const percent = sharePercents[name];
    if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
      throw new InvalidArgumentError(`The ${name} share is ${String(percent)} %; it must be a percent from 0 to 100.`);
    }
    shareTotal += percent;
  }
  // A little slack for shares like 7.5 + 40 + 25 + 27.5 that do not add up exactly in floating point.
  if (shareTotal > 100 + 1e-9) {
    throw new InvalidArgumentError(
      `The allocation shares add up to ${pct(shareTotal)} of the window; they must add up to at most 100 %.`,
    );
  }

  const shareOf = (name: AllocationShareName): AllocationShare => {
    const percent = sharePercents[name];
    return { percent, tokens: Math.floor((contextWindow * percent) / 100) };
  };
  const shares = {
    system: shareOf('system'),
    conversation: shareOf('conversation'),
    reference: shareOf('reference'),
    reserve: shareOf('reserve'),
  };

  const reserveBudgetTokens = Math.min(contextWindow, Math.max(shares.reserve.tokens, reserveSetting));
  const availableTokens = contextWindow - reserveBudgetTokens;
  const reserveEatenTokens = Math.min(reserveBudgetTokens, Math.max(0, usedTokens - availableTokens));
  const overWindowTokens = Math.max(0, usedTokens - contextWindow);
  const usedPercent = (usedTokens / contextWindow) * 100;

  const warnings: string[] = [];
  if (shareTotal < 100 - 1e-9) {
    warnings.push(
      `The allocation shares add up to ${pct(shareTotal)}, leaving ${pct(100 - shareTotal)} of the window unallocated.`,
    );
  }
  if (reserveSetting > shares.reserve.tokens) {
    warnings.push(
      reserveSetting >= contextWindow
        ? `reserve_tokens (${fmt(reserveSetting)}) covers the whole ${fmt(contextWindow)}-token window, ` +
            `so no tokens are available before the reserve; lower reserve_tokens or use a larger window.`
        : `reserve_tokens (${fmt(reserveSetting)}) is more than the reserve share ` +
            `(${pct(shares.reserve.percent)} of ${fmt(contextWindow)} = ${fmt(shares.reserve.tokens)} tokens), ` +
            `so the reserve holds back ${fmt(reserveBudgetTokens)} tokens and leaves ${fmt(availableTokens)} before it.`,
    );
  }
  if (overWindowTokens > 0) {
    warnings.push(
      `The context in use (${fmt(usedTokens)} tokens) is ${fmt(overWindowTokens)} tokens over the ` +
        `${fmt(contextWindow)}-token window and has used the whole reserve; compact the context now.`,
    );
  } else if (reserveEatenTokens > 0) {
    warnings.push(
      `The context in use (${fmt(usedTokens)} tokens, ${pct(usedPercent)}) eats ${fmt(reserveEatenTokens)} of the ` +
        `${fmt(reserveBudgetTokens)}-token reserve (${pct((reserveEatenTokens / reserveBudgetTokens) * 100)}); ` +
        `compact the context or hand off before it runs out.`,
    );
  }

  return {
    contextWindow,
    usedTokens,
    usedPercent,
    shares,
    reserveBudgetTokens,
    availableTokens,
    remainingBeforeReserveTokens: Math.max(0, availableTokens - usedTokens),
    reserveInUse: reserveEatenTokens > 0,
    reserveEatenTokens,
    overWindowTokens,
    warnings,
  };
}
