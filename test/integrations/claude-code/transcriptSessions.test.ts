// A session is its main transcript and its subagents' files beside it (2.1.x
// nested folders with meta files, 2.0.x siblings); many sessions are read on
// every core; and the token totals are the ones ccusage counts.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findSubagentFiles, summariseTranscripts, summariseTranscriptSessions } from '../../../src/integrations/claude-code/transcript/index.js';
import { TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';

const FIXTURES = TRANSCRIPT_FIXTURES;
const MANUAL_COMPACT = join(FIXTURES, 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
const TOOL_HEAVY = join(FIXTURES, 'spotter-tool-heavy', 'tool_heavy.jsonl');
const INLINE_SIDECHAIN = join(FIXTURES, 'ccviewer-inline-sidechain', '5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl');

const SESSION = 'aaaaaaaa-1111-4222-8333-bbbbbbbbbbbb';

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};

/** A subagent's file: the main fixture's assistant lines as a 2.1.x subagent writes them (sidechain, agentId, the parent's session id). */
function subagentLines(agentId: string, messagePrefix: string): string {
  return (
    readFileSync(TOOL_HEAVY, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"type":"assistant"'))
      .map((line) => {
        const record = JSON.parse(line) as Record<string, any>;
        record.isSidechain = true;
        record.agentId = agentId;
        record.sessionId = SESSION;
        record.message.id = `${messagePrefix}${record.message.id}`;
        return JSON.stringify(record);
      })
      .join('\n') + '\n'
  );
}

/** A projects folder: a main transcript with 2.1.x subagents (one nested deeper, one with a meta file, a compaction run) and 2.0.x siblings. */
function sessionFolder(): { dir: string; main: string } {
  const dir = tempDir('moai-sessions-');
  const main = join(dir, `${SESSION}.jsonl`);
  writeFileSync(main, readFileSync(TOOL_HEAVY, 'utf8').replaceAll('d6e0bada-1959-4eec-a9d2-0bfade768d8f', SESSION));
  const subagents = join(dir, SESSION, 'subagents');
  mkdirSync(join(subagents, 'deeper'), { recursive: true });
  writeFileSync(join(subagents, 'agent-a111111.jsonl'), subagentLines('a111111', 'A'));
  writeFileSync(join(subagents, 'agent-a111111.meta.json'), JSON.stringify({ agentType: 'Explore' }));
  writeFileSync(join(subagents, 'deeper', 'agent-a222222.jsonl'), subagentLines('a222222', 'B'));
  writeFileSync(join(subagents, 'agent-acompact-e1f845.jsonl'), subagentLines('acompact-e1f845', 'C'));
  writeFileSync(join(subagents, 'notes.txt'), 'not a transcript');
  // 2.0.x: agent files beside the main one; only those naming this session are its own.
  writeFileSync(join(dir, 'agent-b333333.jsonl'), subagentLines('b333333', 'D'));
  writeFileSync(join(dir, 'agent-c444444.jsonl'), subagentLines('c444444', 'E').replaceAll(SESSION, 'another-session'));
  return { dir, main };
}

describe('subagent files', () => {
  it('are found beside the main transcript: nested folders, meta files, compaction runs, 2.0.x siblings of the same session', async () => {
    const { dir, main } = sessionFolder();
    const found = await findSubagentFiles(main);
    expect(found.map(({ path, agentId, agentType, role }) => ({ path: path.slice(dir.length + 1), agentId, agentType, role }))).toEqual([
      { path: `${SESSION}/subagents/agent-a111111.jsonl`, agentId: 'a111111', agentType: 'Explore', role: 'subagent' },
      { path: `${SESSION}/subagents/agent-acompact-e1f845.jsonl`, agentId: 'acompact-e1f845', agentType: undefined, role: 'subagent' },
      { path: `${SESSION}/subagents/deeper/agent-a222222.jsonl`, agentId: 'a222222', agentType: undefined, role: 'subagent' },
      { path: 'agent-b333333.jsonl', agentId: 'b333333', agentType: undefined, role: 'subagent' },
    ]);
  });

  it('are imported with the main one: every file\'s calls counted once, each subagent apart, the main chain\'s context its own', async () => {
    const { main } = sessionFolder();
    const alone = await summariseTranscripts([main], { subagents: false, threads: 1 });
    const whole = await summariseTranscripts([main], { threads: 1 });
    // Each subagent file holds the 4 calls of the tool_heavy fixture (its 9 assistant lines), under other ids.
    expect(alone.apiCalls).toBe(4);
    expect(whole.apiCalls).toBe(4 * 5);
    expect(whole.tokens.output).toBe(212 * 5);
    expect(whole.files).toHaveLength(5);
    expect(whole.subagents.map(({ agentId, apiCalls, tokens, isCompaction, agentType }) => ({ agentId, apiCalls, output: tokens.output, isCompaction, agentType }))).toEqual([
      { agentId: 'a111111', apiCalls: 4, output: 212, isCompaction: false, agentType: 'Explore' },
      { agentId: 'acompact-e1f845', apiCalls: 4, output: 212, isCompaction: true, agentType: undefined },
      { agentId: 'a222222', apiCalls: 4, output: 212, isCompaction: false, agentType: undefined },
      { agentId: 'b333333', apiCalls: 4, output: 212, isCompaction: false, agentType: undefined },
    ]);
    expect(whole.peakContextTokens).toBe(alone.peakContextTokens);
    expect(whole.finalContextTokens).toBe(alone.finalContextTokens);
  });
});

describe('many sessions at once', () => {
  it('give the same figures on worker threads as on one thread, in the order given', async () => {
    const files = [MANUAL_COMPACT, TOOL_HEAVY, INLINE_SIDECHAIN, MANUAL_COMPACT];
    const one = await summariseTranscriptSessions(files, { threads: 1 });
    const threadsUsed = new Set<number>();
    const two = await summariseTranscriptSessions(files, { threads: 2, onFile: ({ thread }) => threadsUsed.add(thread) });
    expect(two).toEqual(one);
    // The worker took its share (it takes two files as it starts).
    expect([...threadsUsed].sort()).toEqual([0, 1]);
    expect(one.map((summary) => summary.sessionId)).toEqual([
      'ae4a77f8-aedd-4bc1-888f-c94edc91af04',
      'd6e0bada-1959-4eec-a9d2-0bfade768d8f',
      '5c0375b4-57a5-4f26-b12d-d022ee4e51b7',
      'ae4a77f8-aedd-4bc1-888f-c94edc91af04',
    ]);
  });

  it('reject with the file system\'s error when a file cannot be read', async () => {
    await expect(summariseTranscriptSessions([TOOL_HEAVY, join(tmpdir(), 'no-such-transcript.jsonl')], { threads: 2 })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

// ccusage's native binary, installed with its npm package (a devDependency).
function ccusageBinary(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve(`@ccusage/ccusage-${process.platform}-${process.arch}/package.json`);
    const binary = join(dirname(pkg), 'bin', process.platform === 'win32' ? 'ccusage.exe' : 'ccusage');
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}
const ccusage = ccusageBinary();

describe.skipIf(ccusage === undefined)('the token totals', () => {
  it.each([MANUAL_COMPACT, TOOL_HEAVY, INLINE_SIDECHAIN])('are ccusage@20.0.24\'s on %s', async (fixture) => {
    const config = tempDir('moai-ccusage-');
    mkdirSync(join(config, 'projects', 'fixture'), { recursive: true });
    writeFileSync(join(config, 'projects', 'fixture', fixture.split('/').at(-1)!), readFileSync(fixture));
    // npm unpacks the binary without its execute bit; the package's own launcher sets it the same way.
    chmodSync(ccusage!, 0o755);
    const result = spawnSync(ccusage!, ['session', '--json', '--offline'], { env: { ...process.env, CLAUDE_CONFIG_DIR: config }, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const totals = (JSON.parse(result.stdout) as { totals: Record<string, number> }).totals;
    const summary = await summariseTranscripts([fixture], { threads: 1 });
    expect(summary.tokens).toEqual({
      input: totals.inputTokens,
      output: totals.outputTokens,
      cacheCreation: totals.cacheCreationTokens,
      cacheRead: totals.cacheReadTokens,
    });
  });
});
