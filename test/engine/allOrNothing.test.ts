// Issue 9, defect 4: a command appends all it means or nothing, and absurd token counts are refused.
import { describe, expect, it } from 'vitest';
import { isInvalidUsageError } from '../../src/index.js';
import { engineFactory, streamOf } from '../engineHelpers.js';

const engineWith = engineFactory();
const HUGE = Number.MAX_SAFE_INTEGER;

describe('usage the engine cannot count', () => {
  it('is refused before anything is appended, and the budget stays readable', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 't', title: 'T' });
    await session.sendTask('t', 'START');
    const before = (await streamOf(engine, 's1')).length;
    const refusal = await session
      .recordUsage({ input_tokens: HUGE, output_tokens: HUGE, cache_read_input_tokens: HUGE })
      .catch((error: unknown) => error);
    expect(isInvalidUsageError(refusal)).toBe(true);
    expect((refusal as Error).message).toBe(
      'Invalid token usage at usage for session s1: input_tokens is 9007199254740991, but no API call reads or writes that many ' +
        '(at most 100,000,000 a count). Pass the API response\'s usage object unchanged; nothing was recorded.',
    );
    expect(await streamOf(engine, 's1')).toHaveLength(before);
    expect(session.task('t')?.state).toBe('in_progress');
    expect(session.budget()).toMatchObject({ contextTokens: 0, percent: 0, level: 'ok' });
    // Sane usage right after is recorded as usual.
    await session.recordUsage({ input_tokens: 1_000, output_tokens: 10 });
    expect(session.budget().contextTokens).toBe(1_000);
  });

  it('accepts the largest count it allows, and refuses one more', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.recordUsage({ input_tokens: 0, output_tokens: 100_000_000 });
    expect(session.state.tokens.spend.outputTokens).toBe(100_000_000);
    await expect(session.recordUsage({ input_tokens: 0, output_tokens: 100_000_001 })).rejects.toThrow('at most 100,000,000 a count');
  });
});
