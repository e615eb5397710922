import { describe, expect, it } from 'vitest';
import {
  CONTEXT_WINDOWS,
  DEFAULT_CONTEXT_WINDOW,
  EXTENDED_CONTEXT_WINDOW,
  contextWindowFor,
} from '../../src/index.js';
import { isInvalidArgumentError } from '../../src/errors.js';

describe('contextWindowFor', () => {
  it.each([
    ['claude-sonnet-4-5', 200_000],
    ['claude-sonnet-4-5-20250929', 200_000],
    ['claude-haiku-4-5-20251001', 200_000],
    ['claude-opus-4-20250514', 200_000],
    ['claude-opus-4-1-20250805', 200_000],
    ['claude-opus-4-5-20251101', 200_000],
    ['claude-sonnet-4-20250514', 200_000],
    ['claude-sonnet-4-6', 1_000_000],
    ['claude-opus-4-6', 1_000_000],
  ])('gives %s a window of %i tokens', (model, window) => {
    expect(contextWindowFor(model)).toBe(window);
  });

  it('matches a dated id of a 1M model by its family', () => {
    expect(contextWindowFor('claude-opus-4-6-20260205')).toBe(1_000_000);
    expect(contextWindowFor('claude-sonnet-4-6-20260217')).toBe(1_000_000);
  });

  it('prefers the longest family, so Opus 4.6 is not taken for Opus 4', () => {
    expect(contextWindowFor('claude-opus-4-6-20260205')).not.toBe(CONTEXT_WINDOWS['claude-opus-4']);
  });

  it('gives 1M to Sonnet 4 and 4.5 when the id carries the [1m] suffix Claude Code writes', () => {
    expect(contextWindowFor('claude-sonnet-4-5-20250929[1m]')).toBe(1_000_000);
    expect(contextWindowFor('claude-sonnet-4-5[1m]')).toBe(1_000_000);
    expect(contextWindowFor('claude-sonnet-4-20250514[1m]')).toBe(1_000_000);
    expect(contextWindowFor('sonnet[1m]')).toBe(1_000_000);
    expect(contextWindowFor('CLAUDE-SONNET-4-5[1M]')).toBe(1_000_000);
  });

  it('lets overrides win over the table, by exact id or by family', () => {
    expect(contextWindowFor('claude-opus-4-6', { 'claude-opus-4-6': 200_000 })).toBe(200_000);
    expect(contextWindowFor('claude-opus-4-6-20260205', { 'claude-opus-4-6': 200_000 })).toBe(200_000);
    expect(contextWindowFor('claude-sonnet-4-5-20250929', { 'claude-sonnet-4-5-20250929': 500_000 })).toBe(500_000);
    expect(contextWindowFor('my-local-model', { 'my-local-model': 32_768 })).toBe(32_768);
  });

  it('keeps an override of an older family off newer models that have entries of their own', () => {
    const overrides = { 'claude-sonnet-4': 1_000_000 };
    expect(contextWindowFor('claude-sonnet-4', overrides)).toBe(1_000_000);
    expect(contextWindowFor('claude-sonnet-4-20250514', overrides)).toBe(1_000_000);
    expect(contextWindowFor('claude-sonnet-4-5', overrides)).toBe(200_000);
    expect(contextWindowFor('claude-sonnet-4-5-20250929', overrides)).toBe(200_000);
    expect(contextWindowFor('claude-sonnet-4-6', overrides)).toBe(1_000_000); // its own entry, not the override
  });

  it('prefers an exact override to a family override', () => {
    const overrides = { 'claude-sonnet-4-5': 300_000, 'claude-sonnet-4-5-20250929': 400_000 };
    expect(contextWindowFor('claude-sonnet-4-5-20250929', overrides)).toBe(400_000);
    expect(contextWindowFor('claude-sonnet-4-5-20991231', overrides)).toBe(300_000);
  });

  it('keeps [1m] overrides and plain overrides apart', () => {
    const overrides = { 'claude-sonnet-4-5': 150_000 };
    expect(contextWindowFor('claude-sonnet-4-5-20250929', overrides)).toBe(150_000);
    expect(contextWindowFor('claude-sonnet-4-5-20250929[1m]', overrides)).toBe(1_000_000);
    expect(contextWindowFor('claude-sonnet-4-5[1m]', { 'claude-sonnet-4-5[1m]': 800_000 })).toBe(800_000);
  });

  it('gives an unknown Claude model the 200k default', () => {
    expect(contextWindowFor('claude-nova-9')).toBe(DEFAULT_CONTEXT_WINDOW);
    expect(contextWindowFor('claude-3-5-haiku-20241022')).toBe(200_000);
    expect(contextWindowFor('sonnet')).toBe(200_000);
  });

  it('reads Bedrock, Vertex and gateway spellings of the same model', () => {
    expect(contextWindowFor('us.anthropic.claude-opus-4-6-v1:0')).toBe(1_000_000);
    expect(contextWindowFor('anthropic.claude-opus-4-6-v1')).toBe(1_000_000);
    expect(contextWindowFor('claude-opus-4-6@20260205')).toBe(1_000_000);
    expect(contextWindowFor('anthropic/claude-opus-4.6')).toBe(1_000_000);
  });

  it('refuses a model that is not Claude and has no override, naming it', () => {
    expect(() => contextWindowFor('gpt-5')).toThrow(/"gpt-5".*not a Claude model.*override/);
    try {
      contextWindowFor('gpt-5');
    } catch (error) {
      expect(isInvalidArgumentError(error)).toBe(true);
    }
    expect(() => contextWindowFor('  ')).toThrow(/empty/);
  });

  it('refuses an override that is not a positive whole number', () => {
    expect(() => contextWindowFor('claude-opus-4-6', { 'claude-opus-4-6': 0 })).toThrow(/"claude-opus-4-6" is 0/);
    expect(() => contextWindowFor('claude-opus-4-6', { 'claude-opus-4-6': 1.5 })).toThrow(/is 1\.5; it must be a whole number of tokens/);
  });

  it('exports the table read-only, with the 1M constant for the extended models', () => {
    expect(Object.isFrozen(CONTEXT_WINDOWS)).toBe(true);
    expect(CONTEXT_WINDOWS['claude-sonnet-4-6']).toBe(EXTENDED_CONTEXT_WINDOW);
    expect(() => {
      (CONTEXT_WINDOWS as Record<string, number>)['claude-sonnet-4-5'] = 1;
    }).toThrow(TypeError);
  });
});
