// The three real transcripts, read two ways: by the scanner and summary
// under test, and by a second reader (transcriptPlainReader.ts), deliberately plain (every
// line JSON.parse'd, the rules of issue 10 applied to whole objects, no byte
// tricks), whose figures are the expected ones. A few figures are also
// written down as literals, worked out from the files with jq.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanTranscriptSync, summariseTranscripts, type TranscriptRecord } from '../../../src/integrations/claude-code/transcript/index.js';
import { TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';
import { plainCalls, plainLines, plainSummary, sum } from './transcriptPlainReader.js';

const FIXTURES = TRANSCRIPT_FIXTURES;
const MANUAL_COMPACT = join(FIXTURES, 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
const TOOL_HEAVY = join(FIXTURES, 'spotter-tool-heavy', 'tool_heavy.jsonl');
const INLINE_SIDECHAIN = join(FIXTURES, 'ccviewer-inline-sidechain', '5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl');
const ALL = [MANUAL_COMPACT, TOOL_HEAVY, INLINE_SIDECHAIN];

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
