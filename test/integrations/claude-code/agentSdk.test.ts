// The Agent SDK adapter on message streams built from the real transcript
// fixtures (each transcript line as the SDK streams it: the init message, the
// assistant and user messages, compact boundaries, a result whose modelUsage
// is the plain reader's per-model sums), typed with the SDK's own types. No
// network: the streams are async generators here.

import type { SDKAssistantMessage, SDKCompactBoundaryMessage, SDKMessage, SDKResultSuccess, SDKSystemMessage, SDKUserMessage } from '@anthropic-ai/claude-agent-sdk';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/createEngine.js';
import { createMemoryEventStore } from '../../../src/store/memoryEventStore.js';
import { sessionStream, type StoredEvent } from '../../../src/events/envelope.js';
import { recordAgentSdk, RECONCILIATION_AGENT } from '../../../src/integrations/claude-code/agentSdk.js';
import { TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';
import { plainCalls, plainLines, plainSummary, sum, threadRoots, type PlainCall, type Tokens } from './transcriptPlainReader.js';

const MANUAL_COMPACT = join(TRANSCRIPT_FIXTURES, 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
const INLINE_SIDECHAIN = join(TRANSCRIPT_FIXTURES, 'ccviewer-inline-sidechain', '5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl');

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});
async function newEngine(): Promise<Engine> {
  const engine = await createEngine({ store: createMemoryEventStore() });
  engines.push(engine);
  return engine;
}

/** The plain reader's calls, each once (the fullest line), summed by model. */
function plainByModel(path: string): Map<string, Tokens> {
  const kept = new Map<string, PlainCall>();
  for (const call of plainCalls(path)) {
    const before = kept.get(call.key);
    if (before === undefined || sum(call.usage) > sum(before.usage)) kept.set(call.key, call);
  }
  const byModel = new Map<string, Tokens>();
  for (const { model, usage } of kept.values()) {
    const entry = byModel.get(model) ?? { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 };
    for (const k of ['input', 'output', 'cacheCreation', 'cacheRead'] as const) entry[k] += usage[k];
    byModel.set(model, entry);
  }
  return byModel;
}

interface StreamOptions {
  sessionId?: string;
  /** Output tokens the result reports beyond the per-message sums, by model (the per-message counts are placeholders). */
  extraOutput?: Record<string, number>;
  withResult?: boolean;
}

/** The transcript as the Agent SDK streams it: init, then each line's message, then the result. */
function sdkMessages(path: string, options: StreamOptions = {}): SDKMessage[] {
  const lines = plainLines(path);
  const root = threadRoots(lines);
  const first = lines.find(({ record }) => typeof record.sessionId === 'string')!.record;
  const sessionId = options.sessionId ?? (first.sessionId as string);
  const model = plainCalls(path).find((call) => !call.isSidechain)!.model;
  const init = {
    type: 'system',
    subtype: 'init',
    session_id: sessionId,
    uuid: '00000000-0000-4000-8000-000000000000',
    model,
    cwd: first.cwd,
    tools: ['Bash', 'Read', 'Task', 'TodoWrite'],
    mcp_servers: [],
    permissionMode: 'default',
    apiKeySource: 'ANTHROPIC_API_KEY',
    claude_code_version: first.version,
    slash_commands: [],
    output_style: 'default',
    skills: [],
    plugins: [],
  } as unknown as SDKSystemMessage;
  const messages: SDKMessage[] = [init];
  for (const { record } of lines) {
    // A sidechain (subagent) message names the Task call that ran it; here, its thread.
    const parent = record.isSidechain === true ? `toolu_thread_${root(record.uuid)}` : null;
    if (record.type === 'assistant' && record.message !== undefined) {
      messages.push({ type: 'assistant', message: record.message, parent_tool_use_id: parent, uuid: record.uuid, session_id: sessionId } as SDKAssistantMessage);
    } else if (record.type === 'user' && record.message !== undefined) {
      messages.push({ type: 'user', message: record.message, parent_tool_use_id: parent, uuid: record.uuid, session_id: sessionId } as SDKUserMessage);
    } else if (record.type === 'system' && record.subtype === 'compact_boundary') {
      const meta = record.compactMetadata ?? {};
      messages.push({
        type: 'system',
        subtype: 'compact_boundary',
        compact_metadata: { trigger: meta.trigger, pre_tokens: meta.preTokens },
        uuid: record.uuid,
        session_id: sessionId,
      } as SDKCompactBoundaryMessage);
    }
  }
  if (options.withResult !== false) {
    const modelUsage: SDKResultSuccess['modelUsage'] = {};
    for (const [name, tokens] of plainByModel(path)) {
      modelUsage[name] = {
        inputTokens: tokens.input,
        outputTokens: tokens.output + (options.extraOutput?.[name] ?? 0),
        cacheReadInputTokens: tokens.cacheRead,
        cacheCreationInputTokens: tokens.cacheCreation,
        webSearchRequests: 0,
        costUSD: 1.25,
        contextWindow: 200_000,
        maxOutputTokens: 64_000,
      };
    }
    messages.push({
      type: 'result',
      subtype: 'success',
      duration_ms: 1000,
      duration_api_ms: 900,
      is_error: false,
      num_turns: 7,
      result: 'done',
      session_id: sessionId,
      uuid: '11111111-0000-4000-8000-000000000000',
      total_cost_usd: 2.5,
      usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      modelUsage,
      permission_denials: [],
    } as unknown as SDKResultSuccess);
  }
  return messages;
}

async function* streamOf(messages: readonly SDKMessage[]): AsyncGenerator<SDKMessage, void> {
  for (const message of messages) yield message;
}

async function readAll<M>(stream: AsyncIterable<M>): Promise<M[]> {
  const out: M[] = [];
  for await (const message of stream) out.push(message);
  return out;
}

async function eventsOf(engine: Engine, sessionId: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of engine.store.readStream(sessionStream(sessionId))) events.push(event);
  return events;
}

const usageEvents = (events: StoredEvent[]) => events.filter((e): e is StoredEvent & { type: 'TokenUsageRecorded' } => e.type === 'TokenUsageRecorded');

describe('the Agent SDK adapter', () => {
  it('passes every message through unchanged and records each API call once, as the plain reader counts them', async () => {
    const engine = await newEngine();
    const messages = sdkMessages(MANUAL_COMPACT);
    const copy = structuredClone(messages);
    const stream = recordAgentSdk(streamOf(messages), { engine });
    const seen = await readAll(stream);
    expect(seen).toHaveLength(messages.length);
    seen.forEach((message, i) => expect(message).toBe(messages[i]));
    expect(messages).toEqual(copy);

    const plain = plainSummary(MANUAL_COMPACT);
    const recording = stream.moai;
    expect(recording.errors).toEqual([]);
    expect(recording).toMatchObject({ sessionId: plain.sessionId, opened: 'started', model: 'claude-opus-4-6', apiCalls: plain.apiCalls, compactions: 1 });
    expect(recording.tokens).toEqual(plain.tokens);
    const events = await eventsOf(engine, plain.sessionId);
    expect(events[0]).toMatchObject({ type: 'SessionStarted', data: { sessionId: plain.sessionId, model: 'claude-opus-4-6' } });
    const usage = usageEvents(events);
    expect(usage).toHaveLength(217);
    expect(new Set(usage.map((e) => e.data.messageId)).size).toBe(217);
    expect(events.filter((e) => e.type === 'ContextCompacted').map((e) => e.data)).toEqual([
      expect.objectContaining({ trigger: 'manual', tokensBefore: 142431, tokensAfterKnown: false }),
    ]);
    // The result's modelUsage equals the per-message sums here: nothing to correct.
    expect(recording.results).toHaveLength(1);
    expect(recording.results[0]!.reconciled).toBe(true);
    expect(recording.results[0]!.totalCostUsd).toBe(2.5);
    expect(recording.results[0]!.models.every((m) => sum(m.correction) === 0)).toBe(true);
    expect(recording.costUsd).toBeGreaterThan(0);
  });

  it("records subagent messages (parent_tool_use_id) as each subagent's usage, apart from the main chain's context", async () => {
    const engine = await newEngine();
    const stream = recordAgentSdk(streamOf(sdkMessages(INLINE_SIDECHAIN)), { engine });
    await readAll(stream);
    const plain = plainSummary(INLINE_SIDECHAIN);
    expect(stream.moai.apiCalls).toBe(plain.apiCalls);
    expect([...stream.moai.subagents].map(([agentId, { apiCalls, tokens }]) => ({ agentId, apiCalls, tokens })).sort((a, b) => a.agentId.localeCompare(b.agentId))).toEqual(
      plain.subagents
        .filter((agent) => agent.apiCalls > 0)
        .map(({ agentId, apiCalls, tokens }) => ({ agentId: `toolu_thread_${agentId}`, apiCalls, tokens })),
    );
    const view = await engine.sessionState(plain.sessionId);
    // The context in use is the main chain's last call.
    expect(view.tokens.contextTokens).toBe(plain.finalContextTokens);
    const usage = usageEvents(await eventsOf(engine, plain.sessionId));
    expect(usage.filter((e) => !e.data.main)).toHaveLength(10);
  });

  it("reconciles the result's modelUsage with the per-message sums: the shortfall (placeholder output counts) is recorded once", async () => {
    const engine = await newEngine();
    const messages = sdkMessages(MANUAL_COMPACT, { extraOutput: { 'claude-opus-4-6': 1234 } });
    const stream = recordAgentSdk(streamOf(messages), { engine });
    await readAll(stream);
    const result = stream.moai.results[0]!;
    const opus = result.models.find((m) => m.model === 'claude-opus-4-6')!;
    expect(opus.correction).toEqual({ input: 0, output: 1234, cacheCreation: 0, cacheRead: 0 });
    expect(opus.reported.output - opus.perMessage.output).toBe(1234);
    expect(result.models.find((m) => m.model === 'claude-haiku-4-5-20251001')!.correction).toEqual({ input: 0, output: 0, cacheCreation: 0, cacheRead: 0 });
    const usage = usageEvents(await eventsOf(engine, stream.moai.sessionId!));
    const corrections = usage.filter((e) => e.data.agentId === RECONCILIATION_AGENT);
    expect(corrections.map((e) => ({ model: e.data.model, output: e.data.outputTokens, main: e.data.main }))).toEqual([{ model: 'claude-opus-4-6', output: 1234, main: false }]);
    // The session's spend is then what modelUsage says.
    const view = await engine.sessionState(stream.moai.sessionId!);
    const plain = plainSummary(MANUAL_COMPACT);
    expect(view.tokens.spend.outputTokens).toBe(plain.tokens.output + 1234);
  });

  it('maps resume to the engine resume (nothing recorded twice) and resume + forkSession to a fork under the new id', async () => {
    const engine = await newEngine();
    const first = recordAgentSdk(streamOf(sdkMessages(INLINE_SIDECHAIN, { withResult: false })), { engine });
    await readAll(first);
    const sessionId = first.moai.sessionId!;
    const calls = usageEvents(await eventsOf(engine, sessionId)).length;
    expect(calls).toBe(20);

    // resume: the same id; the replayed messages are known by their ids.
    const resumed = recordAgentSdk(streamOf(sdkMessages(INLINE_SIDECHAIN, { withResult: false })), { engine, queryOptions: { resume: sessionId } });
    await readAll(resumed);
    expect(resumed.moai.opened).toBe('resumed');
    const afterResume = await eventsOf(engine, sessionId);
    expect(afterResume.filter((e) => e.type === 'SessionResumed')).toHaveLength(1);
    expect(usageEvents(afterResume)).toHaveLength(calls);

    // forkSession: the init message names the new id; the engine forks the session under it.
    const forkId = '99999999-0000-4000-8000-000000000000';
    const forked = recordAgentSdk(streamOf(sdkMessages(INLINE_SIDECHAIN, { sessionId: forkId, withResult: false })), {
      engine,
      queryOptions: { resume: sessionId, forkSession: true },
    });
    await readAll(forked);
    expect(forked.moai).toMatchObject({ opened: 'forked', parentSessionId: sessionId, sessionId: forkId, apiCalls: 0 });
    const forkEvents = await eventsOf(engine, forkId);
    expect(forkEvents[0]).toMatchObject({ type: 'SessionForked', data: { parentSessionId: sessionId } });
    const fork = await engine.sessionState(forkId);
    const parent = await engine.sessionState(sessionId);
    expect(fork.tokens.spend).toEqual(parent.tokens.spend);
  });

  it('a continued stream takes its first result as the baseline of the running totals, and reconciles the next', async () => {
    const engine = await newEngine();
    const messages = sdkMessages(INLINE_SIDECHAIN);
    const result = messages.at(-1) as SDKResultSuccess;
    const model = 'claude-sonnet-4-20250514';
    // The SDK's totals of a resumed session start with the turns before it: 5,000 output tokens this stream never saw.
    const carried = structuredClone(result);
    carried.modelUsage[model]!.outputTokens += 5000;
    const later = structuredClone(carried);
    later.uuid = '22222222-0000-4000-8000-000000000000' as SDKResultSuccess['uuid'];
    later.modelUsage[model]!.outputTokens += 40;
    const stream = recordAgentSdk(streamOf([...messages.slice(0, -1), carried, later]), { engine, queryOptions: { resume: '5c0375b4-57a5-4f26-b12d-d022ee4e51b7' } });
    await readAll(stream);
    expect(stream.moai.results.map((r) => r.reconciled)).toEqual([false, true]);
    expect(stream.moai.results[0]!.models[0]!.correction.output).toBe(0);
    expect(stream.moai.results[1]!.models[0]!.correction.output).toBe(40);
  });

  it('never breaks the stream: a failure to record is reported and every message still passes', async () => {
    const engine = await newEngine();
    const messages = sdkMessages(INLINE_SIDECHAIN, { sessionId: 'not a valid id!' });
    const failures: string[] = [];
    const stream = recordAgentSdk(streamOf(messages), { engine, onError: (error) => failures.push(error.message) });
    expect(await readAll(stream)).toHaveLength(messages.length);
    // The init message's session could not be started: one failure, then the rest passes unrecorded.
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('not a valid id!');
    expect(stream.moai.errors.length).toBe(failures.length);
    expect(stream.moai.apiCalls).toBe(0);
  });

  it("keeps the wrapped object's own members (a Query's interrupt()), run on the original", async () => {
    const engine = await newEngine();
    class FakeQuery implements AsyncIterable<SDKMessage> {
      #interrupted = false;
      constructor(private readonly messages: SDKMessage[]) {}
      async interrupt(): Promise<void> {
        this.#interrupted = true;
      }
      get interrupted(): boolean {
        return this.#interrupted;
      }
      async *[Symbol.asyncIterator](): AsyncGenerator<SDKMessage, void> {
        for (const message of this.messages) {
          if (this.#interrupted) return;
          yield message;
        }
      }
    }
    const query = new FakeQuery(sdkMessages(INLINE_SIDECHAIN));
    const stream = recordAgentSdk(query, { engine });
    const seen: SDKMessage[] = [];
    for await (const message of stream) {
      seen.push(message);
      if (seen.length === 5) await stream.interrupt();
    }
    expect(seen).toHaveLength(5);
    expect(query.interrupted).toBe(true);
    expect(stream.moai.sessionId).toBe('5c0375b4-57a5-4f26-b12d-d022ee4e51b7');
  });
});

describe('moai-session/claude-code', () => {
  it('exports the adapter', async () => {
    const entry = await import('../../../src/claude-code.js');
    expect(entry.recordAgentSdk).toBe(recordAgentSdk);
  });
});
