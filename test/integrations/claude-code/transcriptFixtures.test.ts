// The three real transcripts, read two ways: by the scanner and summary
// under test, and by a second reader written here, deliberately plain (every
// line JSON.parse'd, the rules of issue 10 applied to whole objects, no byte
// tricks), whose figures are the expected ones. A few figures are also
// written down as literals, worked out from the files with jq.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanTranscriptSync, summariseTranscripts, type TranscriptRecord } from '../../../src/integrations/claude-code/transcript/index.js';
import { TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';

const FIXTURES = TRANSCRIPT_FIXTURES;
const MANUAL_COMPACT = join(FIXTURES, 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
const TOOL_HEAVY = join(FIXTURES, 'spotter-tool-heavy', 'tool_heavy.jsonl');
const INLINE_SIDECHAIN = join(FIXTURES, 'ccviewer-inline-sidechain', '5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl');
const ALL = [MANUAL_COMPACT, TOOL_HEAVY, INLINE_SIDECHAIN];

// ---- the second reader ------------------------------------------------------

type Json = Record<string, any>;
interface Tokens {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
}
interface PlainCall {
  line: number;
  endOffset: number;
  key: string;
  messageId: string;
  requestId: string | undefined;
  model: string;
  usage: Tokens;
  isSidechain: boolean;
  agentId: string | undefined;
  timestamp: string;
  uuid: string;
}

/** Every line of the file, parsed, with its number and the byte offset after it. */
function plainLines(path: string): { line: number; endOffset: number; record: Json }[] {
  const text = readFileSync(path, 'utf8');
  const out: { line: number; endOffset: number; record: Json }[] = [];
  let offset = 0;
  text.split('\n').forEach((raw, index, all) => {
    if (index === all.length - 1 && raw === '') return;
    offset += Buffer.byteLength(raw) + 1;
    out.push({ line: index + 1, endOffset: offset, record: JSON.parse(raw) as Json });
  });
  return out;
}

const tokensOf = (usage: Json): Tokens => ({
  input: usage.input_tokens ?? 0,
  output: usage.output_tokens ?? 0,
  cacheCreation: usage.cache_creation_input_tokens ?? 0,
  cacheRead: usage.cache_read_input_tokens ?? 0,
});
const sum = (t: Tokens): number => t.input + t.output + t.cacheCreation + t.cacheRead;

/** The first record of a sidechain thread, found by climbing parentUuid links over the whole file. */
function threadRoots(lines: { record: Json }[]): (uuid: string) => string {
  const parent = new Map<string, string | null>();
  for (const { record } of lines) if (typeof record.uuid === 'string') parent.set(record.uuid, record.parentUuid ?? null);
  return (uuid) => {
    let at = uuid;
    for (;;) {
      const up = parent.get(at);
      if (up === null || up === undefined || !parent.has(up)) return at;
      at = up;
    }
  };
}

/** The API call lines of a main transcript, as the rules read them. */
function plainCalls(path: string): PlainCall[] {
  const lines = plainLines(path);
  const root = threadRoots(lines);
  const calls: PlainCall[] = [];
  for (const { line, endOffset, record } of lines) {
    if (record.type !== 'assistant' || record.message?.usage === undefined) continue;
    const isSidechain = record.isSidechain === true;
    calls.push({
      line,
      endOffset,
      key: `${record.message.id}|${record.requestId}`,
      messageId: record.message.id,
      requestId: record.requestId,
      model: record.message.model,
      usage: tokensOf(record.message.usage),
      isSidechain,
      agentId: record.agentId ?? (isSidechain ? root(record.uuid) : undefined),
      timestamp: record.timestamp,
      uuid: record.uuid,
    });
  }
  return calls;
}

/** The figures of one session's main transcript, worked out the plain way. */
function plainSummary(path: string) {
  const lines = plainLines(path);
  const kept = new Map<string, PlainCall>();
  for (const call of plainCalls(path)) {
    const before = kept.get(call.key);
    if (before === undefined || sum(call.usage) > sum(before.usage) || (sum(call.usage) === sum(before.usage) && before.isSidechain && !call.isSidechain)) {
      kept.set(call.key, call);
    }
  }
  const tokens: Tokens = { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 };
  const perAgent = new Map<string, { apiCalls: number; tokens: Tokens }>();
  let peak = 0;
  let final = 0;
  // Map order is first-appearance order: the last main-chain entry is the latest call.
  for (const call of kept.values()) {
    for (const k of ['input', 'output', 'cacheCreation', 'cacheRead'] as const) tokens[k] += call.usage[k];
    if (!call.isSidechain) {
      const context = call.usage.input + call.usage.cacheCreation + call.usage.cacheRead;
      peak = Math.max(peak, context);
      final = context;
    } else {
      const agent = perAgent.get(call.agentId!) ?? { apiCalls: 0, tokens: { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 } };
      agent.apiCalls++;
      for (const k of ['input', 'output', 'cacheCreation', 'cacheRead'] as const) agent.tokens[k] += call.usage[k];
      perAgent.set(call.agentId!, agent);
    }
  }
  const models = [...new Set([...kept.values()].map((call) => call.model))];

  const compactions = lines
    .filter(({ record }) => record.type === 'system' && record.subtype === 'compact_boundary' && record.isSidechain !== true)
    .map(({ record }) => ({ trigger: record.compactMetadata?.trigger ?? 'unknown', preTokens: record.compactMetadata?.preTokens ?? null, at: record.timestamp ?? null }));

  // Task tools: the use, then its result (or, with no result, the use as made).
  const uses = new Map<string, { name: string; input: Json }>();
  const applied: { name: string; input: Json; result: Json | undefined }[] = [];
  const agentLinks = new Map<string, string>();
  const taskPrompts = new Map<string, string>();
  for (const { record } of lines) {
    const content = record.message?.content;
    if (!Array.isArray(content)) continue;
    for (const block of content) {
      if (record.type === 'assistant' && block.type === 'tool_use') {
        if (['TodoWrite', 'TaskCreate', 'TaskUpdate'].includes(block.name) && record.isSidechain !== true) uses.set(block.id, { name: block.name, input: block.input });
        if (['Task', 'Agent'].includes(block.name) && typeof block.input?.prompt === 'string') taskPrompts.set(block.input.prompt, block.id);
      }
      if (record.type === 'user' && block.type === 'tool_result') {
        const use = uses.get(block.tool_use_id);
        if (use !== undefined) {
          uses.delete(block.tool_use_id);
          if (block.is_error !== true) applied.push({ ...use, result: record.toolUseResult });
        }
        if (typeof record.toolUseResult?.agentId === 'string') agentLinks.set(record.toolUseResult.agentId, block.tool_use_id);
      }
    }
  }
  for (const use of uses.values()) applied.push({ ...use, result: undefined });
  const tasks = new Map<string, { id: string; title: string; state: string }>();
  for (const { name, input, result } of applied) {
    if (name === 'TodoWrite') {
      for (const todo of result?.newTodos ?? input.todos ?? []) tasks.set(todo.content, { id: todo.content, title: todo.content, state: todo.status });
    } else if (name === 'TaskCreate' && result?.task?.id !== undefined) {
      tasks.set(String(result.task.id), { id: String(result.task.id), title: result.task.subject ?? input.subject ?? '', state: 'pending' });
    } else if (name === 'TaskUpdate') {
      const id = String(result?.taskId ?? input.taskId);
      const task = tasks.get(id) ?? { id, title: input.subject ?? '', state: 'pending' };
      task.state = result?.statusChange?.to ?? input.status ?? task.state;
      tasks.set(id, task);
    }
  }
  // agent_progress links, and 1.0.x inline threads whose first record is a Task prompt.
  for (const { record } of lines) {
    if (record.type === 'progress' && record.data?.type === 'agent_progress' && !agentLinks.has(record.data.agentId)) agentLinks.set(record.data.agentId, record.parentToolUseID);
    if (record.isSidechain === true && record.parentUuid === null && typeof record.message?.content === 'string') {
      const toolUseId = taskPrompts.get(record.message.content);
      if (toolUseId !== undefined) agentLinks.set(record.uuid, toolUseId);
    }
  }
  const subagents = new Map<string, { agentId: string; apiCalls: number; tokens: Tokens; toolUseId?: string }>();
  for (const [agentId, spend] of perAgent) subagents.set(agentId, { agentId, ...spend });
  for (const [agentId, toolUseId] of agentLinks) {
    const entry = subagents.get(agentId) ?? { agentId, apiCalls: 0, tokens: { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 } };
    subagents.set(agentId, { ...entry, toolUseId });
  }

  const timestamps = lines.map(({ record }) => record.timestamp).filter((t): t is string => typeof t === 'string').sort();
  const first = lines.find(({ record }) => typeof record.sessionId === 'string')!.record;
  return {
    sessionId: first.sessionId as string,
    cwd: first.cwd as string,
    version: first.version as string,
    gitBranch: first.gitBranch as string,
    firstTimestamp: timestamps[0],
    lastTimestamp: timestamps.at(-1),
    apiCalls: kept.size,
    tokens,
    models,
    compactions,
    peakContextTokens: peak,
    finalContextTokens: final,
    subagents: [...subagents.values()].sort((a, b) => a.agentId.localeCompare(b.agentId)),
    tasks: [...tasks.values()].sort((a, b) => a.id.localeCompare(b.id)),
    compactSummaries: lines.filter(({ record }) => record.isCompactSummary === true).map(({ line, record }) => ({ line, text: record.message.content as string })),
  };
}

// ---- the tests --------------------------------------------------------------

const records = (path: string): TranscriptRecord[] => [...scanTranscriptSync(path)];

describe.each(ALL.map((path) => [path.split('/').at(-2)!, path]))('the %s fixture', (_name, path) => {
  it('yields every API call line as the plain reader reads it: line, offset after it, ids, model, counts, chain and agent', () => {
    const scanned = records(path)
      .filter((record) => record.kind === 'api-call')
      .map((call) => ({
        line: call.line,
        endOffset: call.endOffset,
        messageId: call.messageId,
        requestId: call.requestId,
        model: call.model,
        usage: call.usage,
        isSidechain: call.isSidechain,
        agentId: call.agentId,
        timestamp: call.timestamp,
        uuid: call.uuid,
      }));
    const plain = plainCalls(path).map(({ key: _key, ...call }) => call);
    expect(scanned).toEqual(plain);
  });

  it('sums up to the plain reader\'s figures', async () => {
    const { compactSummaries: _texts, ...expected } = plainSummary(path);
    const summary = await summariseTranscripts([path], { threads: 1 });
    expect({
      sessionId: summary.sessionId,
      cwd: summary.cwd,
      version: summary.version,
      gitBranch: summary.gitBranch,
      firstTimestamp: summary.firstTimestamp,
      lastTimestamp: summary.lastTimestamp,
      apiCalls: summary.apiCalls,
      tokens: summary.tokens,
      models: summary.models,
      compactions: summary.compactions.map(({ trigger, preTokens, at }) => ({ trigger, preTokens, at })),
      peakContextTokens: summary.peakContextTokens,
      finalContextTokens: summary.finalContextTokens,
      subagents: summary.subagents
        .map(({ agentId, apiCalls, tokens, toolUseId }) => (toolUseId === undefined ? { agentId, apiCalls, tokens } : { agentId, apiCalls, tokens, toolUseId }))
        .sort((a, b) => a.agentId.localeCompare(b.agentId)),
      tasks: summary.tasks.map(({ id, title, state }) => ({ id, title, state })).sort((a, b) => a.id.localeCompare(b.id)),
    }).toEqual(expected);
    expect(summary.skippedLines).toEqual([]);
    // The per-model sums add up to the whole.
    const byModel = summary.byModel.reduce((acc, m) => acc + m.tokens.input + m.tokens.output + m.tokens.cacheCreation + m.tokens.cacheRead, 0);
    expect(byModel).toBe(sum(summary.tokens));
  });

  it('gives the compaction summary text of the isCompactSummary record', () => {
    const texts = records(path)
      .filter((record) => record.kind === 'compact-summary')
      .map((record) => ({ line: record.line, text: record.text }));
    expect(texts).toEqual(plainSummary(path).compactSummaries);
  });

  it('ends with an end record at the end of the file', () => {
    const end = records(path).at(-1)!;
    const size = readFileSync(path).length;
    expect(end).toMatchObject({ kind: 'end', endOffset: size, line: plainLines(path).length, bytesRead: size });
    expect(end.kind === 'end' && end.checkpoint).toMatchObject({ offset: size, line: plainLines(path).length, pending: [] });
  });
});

describe('figures checked by hand', () => {
  it('spotter-manual-compact: 217 calls, the tokens ccusage counts, one manual compaction', async () => {
    // jq -s '[.[]|select(.type=="assistant" and .message.usage)|{k:(.message.id+":"+.requestId),u:.message.usage}]
    //   | group_by(.k) | map(max_by(.u.input_tokens+.u.output_tokens+.u.cache_creation_input_tokens+.u.cache_read_input_tokens))
    //   | {calls:length, input:(map(.u.input_tokens)|add), output:..., cc:..., cr:...}'  (408 lines, 217 keys);
    // ccusage@20.0.24 session --json --offline gives the same four totals.
    const summary = await summariseTranscripts([MANUAL_COMPACT], { threads: 1 });
    expect(summary.apiCalls).toBe(217);
    expect(summary.tokens).toEqual({ input: 242, output: 49467, cacheCreation: 237121, cacheRead: 16553628 });
    // jq -c 'select(.subtype=="compact_boundary")' : line 1481, {"trigger":"manual","preTokens":142431}
    expect(summary.compactions).toEqual([
      { trigger: 'manual', preTokens: 142431, at: '2026-02-12T14:48:36.922Z', file: MANUAL_COMPACT, line: 1481 },
    ]);
    // The largest input+cache_creation+cache_read of a main-chain call, a little below preTokens (output excluded).
    expect(summary.peakContextTokens).toBe(141787);
    expect(summary.models).toEqual(['claude-opus-4-6', 'claude-haiku-4-5-20251001']);
    // The Task call's result: {"agentId":"aac57f5","totalTokens":19831,...}; its file is not in the fixture.
    expect(summary.subagents).toEqual([
      expect.objectContaining({ agentId: 'aac57f5', apiCalls: 0, transcriptRead: false, toolUseId: 'toolu_01Hf8v1Za7y4af8VUwSR4CXU', description: 'Check OTEL hex package versions' }),
    ]);
  });

  it('ccviewer-inline-sidechain (1.0.108): 20 calls, two inline subagents, four todos completed', async () => {
    // Same jq as above: 28 assistant lines, 20 keys; ccusage gives the same totals.
    const summary = await summariseTranscripts([INLINE_SIDECHAIN], { threads: 1 });
    expect(summary.apiCalls).toBe(20);
    expect(summary.tokens).toEqual({ input: 129, output: 3629, cacheCreation: 47747, cacheRead: 324259 });
    // jq 'select(.isSidechain and .parentUuid==null) | .uuid' : the two threads' first records;
    // 3 and 7 distinct message ids among the assistant lines that follow each.
    expect(summary.subagents.map(({ agentId, apiCalls }) => ({ agentId, apiCalls }))).toEqual([
      { agentId: '6340ddef-f656-4b72-a065-82390f637678', apiCalls: 3 },
      { agentId: '83e2917c-8940-4df6-a5a5-f2514f0d08c5', apiCalls: 7 },
    ]);
    // The last TodoWrite (line 51) has all four items "completed".
    expect(summary.tasks.map((task) => task.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(summary.tasks[0]).toMatchObject({ id: 'Discover available commands in the project', source: 'TodoWrite' });
  });

  it('spotter-tool-heavy (2.1.38): 4 calls over 9 lines', async () => {
    const summary = await summariseTranscripts([TOOL_HEAVY], { threads: 1 });
    expect(summary.apiCalls).toBe(4);
    expect(summary.tokens).toEqual({ input: 54, output: 212, cacheCreation: 17696, cacheRead: 88231 });
    expect(summary.sessionId).toBe('d6e0bada-1959-4eec-a9d2-0bfade768d8f');
  });

  it('keeps the line of a split reply with the largest count, not its first (a placeholder)', () => {
    // ccviewer lines 3 and 4 share msg_01QdKEzwwjhMrbE13LjZjnMA: output_tokens 3, then 263.
    const lines = records(INLINE_SIDECHAIN).filter((record) => record.kind === 'api-call' && record.messageId === 'msg_01QdKEzwwjhMrbE13LjZjnMA');
    expect(lines.map((record) => record.kind === 'api-call' && [record.line, record.usage.output])).toEqual([
      [3, 3],
      [4, 263],
    ]);
  });
});
