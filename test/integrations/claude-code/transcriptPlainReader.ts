// A second reader of Claude Code transcripts, deliberately plain: every line
// JSON.parse'd, the rules of issue 10 applied to whole objects, no byte
// tricks and nothing shared with the code under test. Its figures are the
// expected ones of the scanner, summary and import tests.

import { readFileSync } from 'node:fs';
export type Json = Record<string, any>;
export interface Tokens {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
}
export interface PlainCall {
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
export function plainLines(path: string): { line: number; endOffset: number; record: Json }[] {
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

export const tokensOf = (usage: Json): Tokens => ({
  input: usage.input_tokens ?? 0,
  output: usage.output_tokens ?? 0,
  cacheCreation: usage.cache_creation_input_tokens ?? 0,
  cacheRead: usage.cache_read_input_tokens ?? 0,
});
export const sum = (t: Tokens): number => t.input + t.output + t.cacheCreation + t.cacheRead;

/** The first record of a sidechain thread, found by climbing parentUuid links over the whole file. */
export function threadRoots(lines: { record: Json }[]): (uuid: string) => string {
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
export function plainCalls(path: string): PlainCall[] {
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
export function plainSummary(path: string) {
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

