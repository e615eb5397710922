import { describe, expect, it } from 'vitest';
import { costOf, costOfSpend, MODEL_PRICES, priceOf, PRICES_TAKEN } from '../../src/budget/pricing.js';
import { createEngine, createMemoryEventStore, DEFAULT_CONFIG, type MoaiConfig } from '../../src/index.js';

const tokens = (inputTokens: number, outputTokens: number, cacheCreationInputTokens = 0, cacheReadInputTokens = 0) => ({
  inputTokens,
  outputTokens,
  cacheCreationInputTokens,
  cacheReadInputTokens,
});

describe('the price table', () => {
  it('prices a call by kind of token, per million, at the family of a dated or platform id', () => {
    // 1M in, 1M out, 1M cache write, 1M cache read on Sonnet 4.5: 3 + 15 + 3.75 + 0.30 dollars.
    expect(costOf('claude-sonnet-4-5-20250929', tokens(1e6, 1e6, 1e6, 1e6))).toBeCloseTo(22.05, 10);
    expect(costOf('us.anthropic.claude-opus-4-1-20250805-v1:0', tokens(1_000, 100))).toBeCloseTo((1_000 * 15 + 100 * 75) / 1e6, 12);
    // A dated id of Sonnet 5.5 takes Sonnet 5.5's price, never its neighbour Sonnet 5's.
    expect(priceOf('claude-sonnet-5-5-20261001')).toBe(MODEL_PRICES['claude-sonnet-5-5']);
    expect(priceOf('claude-sonnet-5-20260101')).toBe(MODEL_PRICES['claude-sonnet-5']);
    expect(priceOf('gpt-5')).toBeUndefined();
    expect(PRICES_TAKEN.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('takes the config over the list, and prices a model the list does not know', () => {
    const overrides = { 'claude-sonnet-4-5': { input: 1, output: 2, cacheWrite: 0, cacheRead: 0 }, 'my-model': { input: 10, output: 10, cacheWrite: 10, cacheRead: 10 } };
    expect(costOf('claude-sonnet-4-5', tokens(1e6, 1e6), overrides)).toBe(3);
    expect(costOf('my-model', tokens(500_000, 0), overrides)).toBe(5);
    expect(costOfSpend({ 'my-model': tokens(1e6, 0), 'unknown-x': tokens(1, 1) }, overrides)).toEqual({ usd: 10, unpriced: ['unknown-x'] });
    expect(() => priceOf('x', { x: { input: -1, output: 0, cacheWrite: 0, cacheRead: 0 } })).toThrow('The input price of "x" is -1');
  });
});

describe('cost in the budget', () => {
  it('adds up each call at its own model, also across a model switch, and takes the config prices', async () => {
    const config = structuredClone(DEFAULT_CONFIG) as MoaiConfig;
    config.models.prices = { 'claude-haiku-4-5': { input: 2, output: 2, cache_write: 2, cache_read: 2 } };
    const engine = await createEngine({ store: createMemoryEventStore(), config });
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.recordUsage({ input_tokens: 100_000, output_tokens: 10_000, cache_read_input_tokens: 50_000 });
    await session.switchModel('claude-haiku-4-5');
    await session.recordUsage({ input_tokens: 1_000_000, output_tokens: 0 });
    const budget = session.budget();
    // Sonnet at list prices: 0.1M x $3 + 0.01M x $15 + 0.05M x $0.30; Haiku at the config's $2 a million.
    expect(budget.costUsd).toBeCloseTo(0.3 + 0.15 + 0.015 + 2, 10);
    expect(budget.unpricedModels).toEqual([]);
    expect(Object.keys(session.state.tokens.byModel)).toEqual(['claude-sonnet-4-5', 'claude-haiku-4-5']);
    await engine.close();
  });
});
