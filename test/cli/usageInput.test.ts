// Issue 11, section 5: --usage-json - reads standard input, and takes a whole response or a transcript line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRANSCRIPT_FIXTURES } from '../claudeCodeFixtures.js';
import { tempDir } from '../helpers.js';
import { runInProcess } from './runInProcess.js';

async function sessionFolder(): Promise<string> {
  const cwd = await tempDir('moai-usage-');
  expect((await runInProcess(['start', '--agent', 'a', '--model', 'claude-sonnet-4-5', '--session', 's'], cwd)).code).toBe(0);
  return cwd;
}

const recorded = async (cwd: string) => {
  const events = (await runInProcess(['events', '--session', 's', '--json'], cwd)).stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
  return events.filter((e) => e.type === 'TokenUsageRecorded').map((e) => e.data);
};

describe('usage --usage-json', () => {
  it('reads the usage object from standard input with -', async () => {
    const cwd = await sessionFolder();
    const result = await runInProcess(['usage', '--usage-json', '-'], cwd, { stdin: '{"input_tokens": 1200, "output_tokens": 34}\n' });
    expect(result.code).toBe(0);
    expect(await recorded(cwd)).toMatchObject([{ inputTokens: 1_200, outputTokens: 34, main: true, model: 'claude-sonnet-4-5' }]);
  });

  it('takes a whole Messages API response, with its model and id', async () => {
    const cwd = await sessionFolder();
    const response = {
      id: 'msg_01Xyz',
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5-20251001',
      content: [{ type: 'text', text: 'Hello' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 100, cache_read_input_tokens: 2_000 },
    };
    expect((await runInProcess(['usage', '--usage-json', JSON.stringify(response)], cwd)).code).toBe(0);
    expect(await recorded(cwd)).toMatchObject([
      { model: 'claude-haiku-4-5-20251001', requestId: 'msg_01Xyz', inputTokens: 10, outputTokens: 5, cacheCreationInputTokens: 100, cacheReadInputTokens: 2_000 },
    ]);
  });

  it('takes a real Claude Code transcript line, with its model, request id and sidechain flag', async () => {
    const cwd = await sessionFolder();
    const file = join(TRANSCRIPT_FIXTURES, 'spotter-tool-heavy', 'tool_heavy.jsonl');
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.includes('"type":"assistant"') && l.includes('"usage"'))!;
    const parsed = JSON.parse(line) as { requestId: string; isSidechain: boolean; message: { model: string; usage: { input_tokens: number; output_tokens: number } } };
    expect((await runInProcess(['usage', '--usage-json', '-'], cwd, { stdin: line })).code).toBe(0);
    expect(await recorded(cwd)).toMatchObject([
      {
        model: parsed.message.model,
        requestId: parsed.requestId,
        main: !parsed.isSidechain,
        inputTokens: parsed.message.usage.input_tokens,
        outputTokens: parsed.message.usage.output_tokens,
      },
    ]);
  });

  it('says where standard input is broken, and records nothing', async () => {
    const cwd = await sessionFolder();
    const result = await runInProcess(['usage', '--usage-json', '-'], cwd, { stdin: '{"input_tokens": 1,' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^moai-session: --usage-json \(standard input\) is not valid JSON/);
    expect(await recorded(cwd)).toEqual([]);
  });
});
