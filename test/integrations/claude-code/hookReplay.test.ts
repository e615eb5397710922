// A whole recorded session replayed as the hook payloads Claude Code would
// have sent while it wrote the transcript (the file growing a few lines at a
// time, a PostToolUse for each task tool and subagent launch, PreCompact and
// SessionStart{compact} around the compaction, a Stop at the end) ends with
// the same figures as importing the finished transcript, and as the plain
// second reader of the test suite.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';
import { createEngine } from '../../../src/engine/createEngine.js';
import { importClaudeCodeTranscript, sessionFigures } from '../../../src/integrations/claude-code/importTranscripts.js';
import { readHookLog } from '../../../src/integrations/claude-code/hookLog.js';
import { base, fire, readSession, tempProject } from './hookHelpers.js';
import { plainSummary } from './transcriptPlainReader.js';

const FIXTURES = [
  join(TRANSCRIPT_FIXTURES, 'spotter-tool-heavy', 'tool_heavy.jsonl'),
  join(TRANSCRIPT_FIXTURES, 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl'),
  join(TRANSCRIPT_FIXTURES, 'ccviewer-inline-sidechain', '5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl'),
];
const HOOKED_TOOLS = new Set(['TodoWrite', 'TaskCreate', 'TaskUpdate', 'Task', 'Agent']);
const LINES_PER_STEP = 40;

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

/** The PostToolUse payloads a chunk of transcript lines makes Claude Code send: a tool's result line names its use. */
function toolPayloads(lines: string[], uses: Map<string, { name: string; input: unknown }>, sessionId: string, transcript: string): Record<string, unknown>[] {
  const payloads: Record<string, unknown>[] = [];
  for (const line of lines) {
    let record: any;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    const content = record?.message?.content;
    if (!Array.isArray(content)) continue;
    for (const block of content) {
      if (record.type === 'assistant' && block?.type === 'tool_use' && HOOKED_TOOLS.has(block.name) && record.isSidechain !== true) uses.set(block.id, { name: block.name, input: block.input });
      if (record.type === 'user' && block?.type === 'tool_result' && uses.has(block.tool_use_id) && block.is_error !== true) {
        const use = uses.get(block.tool_use_id)!;
        payloads.push({ ...base(sessionId, transcript, 'PostToolUse'), tool_name: use.name, tool_use_id: block.tool_use_id, tool_input: use.input, tool_response: record.toolUseResult ?? block.content });
      }
    }
  }
  return payloads;
}

describe('a recorded session replayed as hook payloads', () => {
  for (const fixture of FIXTURES) {
    it(`ends with the figures of importing ${fixture.split('/').at(-2)}, and of the plain reader`, { timeout: 120_000 }, async () => {
      const hooked = tempProject('moai-hook-replay-');
      const imported = tempProject('moai-import-replay-');
      cleanups.push(hooked.remove, imported.remove);
      const plain = plainSummary(fixture);
      const sessionId = plain.sessionId;
      const transcript = join(hooked.root, `${sessionId}.jsonl`);
      writeFileSync(transcript, '');
      const lines = readFileSync(fixture, 'utf8').split('\n');
      if (lines.at(-1) === '') lines.pop();
      const uses = new Map<string, { name: string; input: unknown }>();
      await fire(hooked.dir, { ...base(sessionId, transcript, 'SessionStart'), source: 'startup' });
      for (let at = 0; at < lines.length; at += LINES_PER_STEP) {
        const chunk = lines.slice(at, at + LINES_PER_STEP);
        const boundary = chunk.findIndex((line) => line.includes('"subtype":"compact_boundary"'));
        if (boundary >= 0) {
          // Claude Code fires PreCompact before it writes the boundary, then SessionStart{compact}.
          appendFileSync(transcript, chunk.slice(0, boundary).map((line) => `${line}\n`).join(''));
          await fire(hooked.dir, { ...base(sessionId, transcript, 'PreCompact'), trigger: 'manual', custom_instructions: '' });
          appendFileSync(transcript, chunk.slice(boundary).map((line) => `${line}\n`).join(''));
          await fire(hooked.dir, { ...base(sessionId, transcript, 'SessionStart'), source: 'compact' });
        } else {
          appendFileSync(transcript, chunk.map((line) => `${line}\n`).join(''));
        }
        const tools = toolPayloads(chunk, uses, sessionId, transcript);
        for (const payload of tools) await fire(hooked.dir, payload);
        if (tools.length === 0) await fire(hooked.dir, { ...base(sessionId, transcript, 'UserPromptSubmit'), prompt: 'go on' });
      }
      await fire(hooked.dir, { ...base(sessionId, transcript, 'Stop'), stop_hook_active: false });
      expect(readHookLog(hooked.dir).filter((entry) => entry.level === 'error')).toEqual([]);

      const { events, view } = await readSession(hooked.dir, sessionId);
      const fromHooks = sessionFigures(events, view!, { files: [], skippedLines: [] });
      const engine = await createEngine({ dir: imported.dir });
      let fromImport;
      try {
        fromImport = await importClaudeCodeTranscript(engine, fixture);
      } finally {
        await engine.close();
      }
      const pick = (f: typeof fromHooks) => ({
        apiCalls: f.apiCalls,
        tokens: f.tokens,
        compactions: f.compactions.map((c) => [c.trigger, c.preTokens]),
        peakContextTokens: f.peakContextTokens,
        finalContextTokens: f.finalContextTokens,
        models: f.models,
        subagents: f.subagents.map((s) => [s.agentId, s.apiCalls]),
        tasks: f.tasks.map((t) => [t.title, t.state]),
      });
      expect(pick(fromHooks)).toEqual(pick(fromImport));
      // And the second reader, worked out from the file alone.
      expect(fromHooks.apiCalls).toBe(plain.apiCalls);
      expect(fromHooks.tokens).toEqual(plain.tokens);
      expect(fromHooks.peakContextTokens).toBe(plain.peakContextTokens);
      expect(fromHooks.finalContextTokens).toBe(plain.finalContextTokens);
      expect(fromHooks.compactions.map((c) => [c.trigger, c.preTokens])).toEqual(plain.compactions.map((c) => [c.trigger, c.preTokens]));
      const stateOf: Record<string, string> = { pending: 'pending', in_progress: 'in_progress', completed: 'completed' };
      expect(fromHooks.tasks.filter((t) => !t.id.startsWith('agent-')).map((t) => [t.title, t.state]).sort()).toEqual(plain.tasks.map((t) => [t.title, stateOf[t.state]]).sort());
    });
  }
});
