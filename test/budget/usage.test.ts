import { describe, expect, it } from 'vitest';
import {
  InvalidUsageError,
  ZERO_USAGE,
  contextTokensOf,
  isInvalidUsageError,
  normaliseUsage,
  percentOfWindow,
  sumUsage,
  totalTokensOf,
} from '../../src/index.js';
import { isMoaiError } from '../../src/errors.js';

// The usage object of a real Claude Code 2.1 transcript line (TRANSCRIPT_FORMAT.md).
const apiUsage = {
  input_tokens: 3,
  cache_creation_input_tokens: 15005,
  cache_read_input_tokens: 11442,
  output_tokens: 9,
  cache_creation: { ephemeral_5m_input_tokens: 15005, ephemeral_1h_input_tokens: 0 },
  service_tier: 'standard',
  inference_geo: 'global',
  server_tool_use: { web_search_requests: 0, web_fetch_requests: 0 },
  iterations: [],
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('normaliseUsage', () => {
  it('reads the four counters of an API usage object and ignores the other keys', () => {
    expect(normaliseUsage(apiUsage, 'req_1')).toEqual({
      inputTokens: 3,
      outputTokens: 9,
      cacheCreationInputTokens: 15005,
      cacheReadInputTokens: 11442,
    });
  });

  it('counts missing or null cache fields as 0', () => {
    const expected = { inputTokens: 10, outputTokens: 5, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
    expect(normaliseUsage({ input_tokens: 10, output_tokens: 5 }, 'a')).toEqual(expected);
    expect(
      normaliseUsage({ input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: null, cache_read_input_tokens: null }, 'a'),
    ).toEqual(expected);
  });

  it('refuses negative tokens, naming the field, the value and where', () => {
    const error = thrown(() => normaliseUsage({ ...apiUsage, cache_read_input_tokens: -5 }, 'transcript.jsonl:42'));
    expect(isInvalidUsageError(error)).toBe(true);
    expect(isMoaiError(error)).toBe(true);
    const usageError = error as InvalidUsageError;
    expect(usageError.code).toBe('INVALID_USAGE');
    expect(usageError.field).toBe('cache_read_input_tokens');
    expect(usageError.value).toBe(-5);
    expect(usageError.where).toBe('transcript.jsonl:42');
    expect(usageError.message).toMatch(/transcript\.jsonl:42.*cache_read_input_tokens is -5.*0 or more/);
  });

  it.each([
    ['input_tokens', 1.5, /input_tokens is 1\.5/],
    ['output_tokens', '12', /output_tokens is "12"/],
    ['input_tokens', Number.NaN, /input_tokens is NaN/],
    ['output_tokens', Number.POSITIVE_INFINITY, /output_tokens is Infinity/],
    ['cache_creation_input_tokens', -1, /cache_creation_input_tokens is -1/],
    ['input_tokens', null, /input_tokens is null/],
  ])('refuses %s = %s', (field, value, message) => {
    expect(() => normaliseUsage({ ...apiUsage, [field]: value }, 'here')).toThrow(message);
  });

  it('refuses a usage without input or output tokens', () => {
    expect(() => normaliseUsage({ output_tokens: 1 }, 'line 3')).toThrow(/line 3: input_tokens is missing/);
    expect(() => normaliseUsage({ input_tokens: 1 }, 'line 3')).toThrow(/output_tokens is missing/);
  });

  it('refuses a value that is not an object', () => {
    for (const bad of [null, undefined, 42, 'usage', [1, 2]]) {
      const error = thrown(() => normaliseUsage(bad, 'stdin'));
      expect(isInvalidUsageError(error)).toBe(true);
      expect((error as Error).message).toMatch(/at stdin: usage is/);
    }
  });

  it('does not treat other errors as usage errors', () => {
    expect(isInvalidUsageError(new Error('x'))).toBe(false);
  });
});

describe('token sums', () => {
  const usage = normaliseUsage(apiUsage, 'x');

  it('counts the context as input + cache creation + cache read, without output', () => {
    expect(contextTokensOf(usage)).toBe(3 + 15005 + 11442);
  });

  it('counts the total as the context plus output', () => {
    expect(totalTokensOf(usage)).toBe(3 + 15005 + 11442 + 9);
  });

  it('sums the spend of several calls counter by counter', () => {
    expect(sumUsage([usage, usage])).toEqual({
      inputTokens: 6,
      outputTokens: 18,
      cacheCreationInputTokens: 30010,
      cacheReadInputTokens: 22884,
    });
    expect(sumUsage([])).toEqual(ZERO_USAGE);
  });

  it('gives the percent of the window and refuses a window of 0', () => {
    expect(percentOfWindow(150_000, 200_000)).toBe(75);
    expect(percentOfWindow(0, 1_000_000)).toBe(0);
    expect(() => percentOfWindow(10, 0)).toThrow(/context window is 0/);
    expect(() => percentOfWindow(-1, 200_000)).toThrow(/token count is -1/);
  });
});
