import { describe, expect, it } from 'vitest';
import { DEFAULT_RESERVE_TOKENS, computeAllocation } from '../../src/index.js';

describe('computeAllocation', () => {
  it('splits a 200k window 7.5 / 40 / 25 / 27.5 % with the default 55,000-token reserve', () => {
    const report = computeAllocation({ contextWindow: 200_000, usedTokens: 100_000 });
    expect(report.shares).toEqual({
      system: { percent: 7.5, tokens: 15_000 },
      conversation: { percent: 40, tokens: 80_000 },
      reference: { percent: 25, tokens: 50_000 },
      reserve: { percent: 27.5, tokens: 55_000 },
    });
    expect(report.reserveBudgetTokens).toBe(55_000);
    expect(report.availableTokens).toBe(145_000);
    expect(report.remainingBeforeReserveTokens).toBe(45_000);
    expect(report.usedPercent).toBe(50);
    expect(report.reserveInUse).toBe(false);
    expect(report.reserveEatenTokens).toBe(0);
    expect(report.warnings).toEqual([]);
  });

  it('does not touch the reserve at exactly the available tokens', () => {
    const report = computeAllocation({ contextWindow: 200_000, usedTokens: 145_000 });
    expect(report.reserveInUse).toBe(false);
    expect(report.remainingBeforeReserveTokens).toBe(0);
    expect(report.warnings).toEqual([]);
  });

  it('reports and warns when usage eats into the reserve', () => {
    const report = computeAllocation({ contextWindow: 200_000, usedTokens: 160_000 });
    expect(report.reserveInUse).toBe(true);
    expect(report.reserveEatenTokens).toBe(15_000);
    expect(report.remainingBeforeReserveTokens).toBe(0);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/160,000 tokens, 80 %\) eats 15,000 of the 55,000-token reserve \(27\.3 %\)/);
  });

  it('uses reserve_tokens when it is larger than the reserve share, and says so', () => {
    const report = computeAllocation({ contextWindow: 200_000, usedTokens: 0, reserveTokens: 70_000 });
    expect(report.reserveBudgetTokens).toBe(70_000);
    expect(report.availableTokens).toBe(130_000);
    expect(report.warnings[0]).toMatch(/reserve_tokens \(70,000\) is more than the reserve share .*55,000 tokens/);
  });

  it('uses the reserve share when it is larger than reserve_tokens, as in a 1M window', () => {
    const report = computeAllocation({ contextWindow: 1_000_000, usedTokens: 300_000 });
    expect(report.reserveBudgetTokens).toBe(275_000);
    expect(report.availableTokens).toBe(725_000);
    expect(report.warnings).toEqual([]);
  });

  it('caps the reserve at the window', () => {
    const report = computeAllocation({ contextWindow: 40_000, usedTokens: 1_000 });
    expect(report.reserveBudgetTokens).toBe(40_000);
    expect(report.availableTokens).toBe(0);
    expect(report.reserveEatenTokens).toBe(1_000);
    expect(report.warnings.join(' ')).toMatch(/covers the whole 40,000-token window/);
  });

  it('reports usage beyond the window separately from the eaten reserve', () => {
    const report = computeAllocation({ contextWindow: 200_000, usedTokens: 210_000 });
    expect(report.reserveEatenTokens).toBe(55_000);
    expect(report.overWindowTokens).toBe(10_000);
    expect(report.warnings.join(' ')).toMatch(/10,000 tokens over the 200,000-token window/);
  });

  it('takes other shares, warns about an unallocated part and refuses more than 100 %', () => {
    const shares = { system: 10, conversation: 40, reference: 20, reserve: 20 };
    const report = computeAllocation({ contextWindow: 200_000, usedTokens: 0, shares, reserveTokens: 0 });
    expect(report.shares.reserve.tokens).toBe(40_000);
    expect(report.availableTokens).toBe(160_000);
    expect(report.warnings).toEqual(['The allocation shares add up to 90 %, leaving 10 % of the window unallocated.']);
    expect(() =>
      computeAllocation({ contextWindow: 200_000, usedTokens: 0, shares: { ...shares, reserve: 40 } }),
    ).toThrow(/add up to 110 %/);
  });

  it('refuses bad numbers, naming them', () => {
    expect(() => computeAllocation({ contextWindow: 0, usedTokens: 0 })).toThrow(/context window is 0/);
    expect(() => computeAllocation({ contextWindow: 200_000, usedTokens: -1 })).toThrow(/context in use is -1/);
    expect(() => computeAllocation({ contextWindow: 200_000, usedTokens: 0, reserveTokens: 1.5 })).toThrow(
      /reserve_tokens is 1\.5/,
    );
    expect(() =>
      computeAllocation({
        contextWindow: 200_000,
        usedTokens: 0,
        shares: { system: -1, conversation: 40, reference: 25, reserve: 27.5 },
      }),
    ).toThrow(/system share is -1/);
  });

  it('defaults reserve_tokens to 55,000', () => {
    expect(DEFAULT_RESERVE_TOKENS).toBe(55_000);
  });
});
