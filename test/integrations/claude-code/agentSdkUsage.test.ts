// The Agent SDK adapter on an assistant message whose usage cannot be read
// (review finding R25): it is no API call of 0 tokens; it is left out, the
// caller's onError is told, and the message still passes through.

import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/createEngine.js';
import { createMemoryEventStore } from '../../../src/store/memoryEventStore.js';
import { recordAgentSdk } from '../../../src/integrations/claude-code/agentSdk.js';

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

const SID = 'aaaaaaaa-1111-2222-3333-444444444444';
const usage = (input: number, output: number) => ({ input_tokens: input, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 100 });
const assistant = (id: string, u: unknown) => ({ type: 'assistant', session_id: SID, parent_tool_use_id: null, message: { id, model: 'claude-sonnet-4-5', usage: u, content: [] } });

async function* stream(): AsyncGenerator<Record<string, unknown>> {
  yield { type: 'system', subtype: 'init', session_id: SID, model: 'claude-sonnet-4-5', tools: [], cwd: '/tmp' };
  yield assistant('msg_1', usage(10, 1));
  yield assistant('msg_1', usage(10, 50));
  yield assistant('msg_2', usage(20, 5));
  yield assistant('msg_3', { input_tokens: 'x' });
  yield assistant('msg_4', { input_tokens: -3, output_tokens: 2 });
  yield assistant('msg_5', {});
  yield { type: 'result', subtype: 'success', session_id: SID, total_cost_usd: 0.01, usage: usage(30, 55) };
}

describe('recordAgentSdk and an unusable usage', () => {
  it('leaves the message out of the calls and tells onError which message and why', async () => {
    const engine = await createEngine({ store: createMemoryEventStore() });
    engines.push(engine);
    const errors: string[] = [];
    const passed: string[] = [];
    for await (const message of recordAgentSdk(stream() as unknown as Parameters<typeof recordAgentSdk>[0], { engine, onError: (error) => errors.push(error.message) })) passed.push((message as { type: string }).type);
    expect(passed).toEqual(['system', 'assistant', 'assistant', 'assistant', 'assistant', 'assistant', 'assistant', 'result']);
    const session = await engine.openSession(SID);
    // msg_1 once (its fuller message: 10 + 50 + 100) and msg_2 (20 + 5 + 100); nothing for msg_3, msg_4, msg_5.
    expect(session.state.tokens.calls).toBe(2);
    expect(errors).toEqual([
      'Assistant message msg_3 not recorded: usage.input_tokens is "x", not a count of tokens.',
      'Assistant message msg_4 not recorded: usage.input_tokens is -3, not a count of tokens.',
      'Assistant message msg_5 not recorded: usage has neither input_tokens nor output_tokens.',
    ]);
  });
});
