// `moai-session import claude-code`: the command on the three real
// transcripts, its figures checked against the plain second reader
// (transcriptPlainReader.ts) and a few hand-worked literals; importing again
// adds nothing, a file that grew adds only what is new, bad lines are
// reported with file and line, subagent files and --all are found.

import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { costOfSpend, type TokensByKind } from '../../../src/budget/pricing.js';
import { runInProcess } from '../../cli/runInProcess.js';
import { TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';
import { plainCalls, plainSummary, sum, type PlainCall, type Tokens } from './transcriptPlainReader.js';

const MANUAL_COMPACT = join(TRANSCRIPT_FIXTURES, 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
const TOOL_HEAVY = join(TRANSCRIPT_FIXTURES, 'spotter-tool-heavy', 'tool_heavy.jsonl');
const INLINE_SIDECHAIN = join(TRANSCRIPT_FIXTURES, 'ccviewer-inline-sidechain', '5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl');

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const tempDir = (prefix = 'moai-import-'): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};

/** A file last written an hour ago: a past session's transcript, at rest. */
const atRest = (path: string): string => {
  const past = new Date(Date.now() - 3_600_000);
  utimesSync(path, past, past);
  return path;
};

/** A copy of a fixture in a folder of its own, at rest. */
function copyOf(fixture: string, name = fixture.split('/').at(-1)!): string {
  const file = join(tempDir('moai-import-src-'), name);
  copyFileSync(fixture, file);
  return atRest(file);
}

interface ImportJson {
  sessionId: string;
  files: string[];
  apiCalls: number;
  tokens: Tokens;
  costUsd: number;
  compactions: { trigger: string; preTokens: number; at: string }[];
  peakContextTokens: number;
  finalContextTokens: number;
  models: string[];
  subagents: { agentId: string; apiCalls: number; tokens: Tokens }[];
  tasks: { id: string; title: string; state: string }[];
  skippedLines: { file: string; line: number; reason: string }[];
}

async function importJson(cwd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<ImportJson> {
  const result = await runInProcess(['--json', 'import', 'claude-code', ...args], cwd, env === undefined ? {} : { env });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ImportJson;
}

/** The session's events as `events --session` prints them, one a line. */
async function eventLines(cwd: string, sessionId: string): Promise<string[]> {
  const result = await runInProcess(['events', '--session', sessionId], cwd);
  expect(result.code).toBe(0);
  return result.stdout.trim().split('\n');
}

/** The plain reader's calls, each once (the fullest line), summed by model: what the cost is of. */
function plainByModel(path: string): Record<string, TokensByKind> {
  const kept = new Map<string, PlainCall>();
  for (const call of plainCalls(path)) {
    const before = kept.get(call.key);
    if (before === undefined || sum(call.usage) > sum(before.usage)) kept.set(call.key, call);
  }
  const byModel: Record<string, TokensByKind> = {};
  for (const { model, usage } of kept.values()) {
    const entry = (byModel[model] ??= { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });
    entry.inputTokens += usage.input;
    entry.outputTokens += usage.output;
    entry.cacheCreationInputTokens += usage.cacheCreation;
    entry.cacheReadInputTokens += usage.cacheRead;
  }
  return byModel;
}

describe.each([
  ['spotter-manual-compact', MANUAL_COMPACT],
  ['spotter-tool-heavy', TOOL_HEAVY],
  ['ccviewer-inline-sidechain', INLINE_SIDECHAIN],
])('import of the %s fixture', (_name, fixture) => {
  it("gives the plain reader's figures, in the --json contract's names", async () => {
    const file = copyOf(fixture);
    const plain = plainSummary(file);
    const result = await importJson(tempDir(), [file]);
    expect(Object.keys(result)).toEqual([
      'sessionId',
      'files',
      'apiCalls',
      'tokens',
      'costUsd',
      'compactions',
      'peakContextTokens',
      'finalContextTokens',
      'models',
      'subagents',
      'tasks',
      'skippedLines',
      'pendingCalls',
    ]);
    expect(result.sessionId).toBe(plain.sessionId);
    expect(result.files).toEqual([file]);
    expect(result.apiCalls).toBe(plain.apiCalls);
    expect(result.tokens).toEqual(plain.tokens);
    expect(result.compactions).toEqual(plain.compactions);
    expect(result.peakContextTokens).toBe(plain.peakContextTokens);
    expect(result.finalContextTokens).toBe(plain.finalContextTokens);
    expect(result.models).toEqual(plain.models);
    expect(result.subagents).toEqual(plain.subagents.map(({ agentId, apiCalls, tokens }) => ({ agentId, apiCalls, tokens })));
    // The task tools' tasks, titled by their content, in the state the tools left them.
    const toolTasks = result.tasks.filter((task) => !task.id.startsWith('agent-')).map(({ title, state }) => ({ title, state }));
    expect(toolTasks.sort((a, b) => a.title.localeCompare(b.title))).toEqual(plain.tasks.map(({ title, state }) => ({ title, state })).sort((a, b) => a.title.localeCompare(b.title)));
    // Every subagent the transcript names is a task of the session.
    for (const agent of plain.subagents) expect(result.tasks.map((task) => task.id)).toContain(`agent-${agent.agentId}`);
    expect(result.costUsd).toBeCloseTo(costOfSpend(plainByModel(file)).usd, 9);
    expect(result.skippedLines).toEqual([]);
  });

  it('adds nothing when imported again, and gives the same figures', async () => {
    const file = copyOf(fixture);
    const cwd = tempDir();
    const first = await importJson(cwd, [file]);
    const events = await eventLines(cwd, first.sessionId);
    const again = await runInProcess(['import', 'claude-code', file], cwd);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing new to import.');
    expect(await eventLines(cwd, first.sessionId)).toEqual(events);
    expect(await importJson(cwd, [file])).toEqual(first);
    // Each API call is one usage event.
    expect(events.filter((line) => line.includes('TokenUsageRecorded'))).toHaveLength(first.apiCalls);
  });

  it('keeps the figures in the cache for the next import, and reads the events again once the session has moved on', async () => {
    const file = copyOf(fixture);
    const cwd = tempDir();
    const first = await importJson(cwd, [file]);
    const cached = JSON.parse(readFileSync(join(cwd, '.moai', 'cache', 'import-figures.json'), 'utf8')) as {
      entries: Record<string, { figures: { apiCalls: number; tokens: unknown } }>;
    };
    expect(cached.entries[first.sessionId]!.figures).toMatchObject({ apiCalls: first.apiCalls, tokens: first.tokens });
    // From the cache: the same figures.
    expect(await importJson(cwd, [file])).toEqual(first);
    // They are taken from there (an entry changed by hand shows), not from the events.
    const cacheFile = join(cwd, '.moai', 'cache', 'import-figures.json');
    const edited = JSON.parse(readFileSync(cacheFile, 'utf8')) as typeof cached;
    edited.entries[first.sessionId]!.figures.apiCalls = 1;
    writeFileSync(cacheFile, JSON.stringify(edited));
    expect((await importJson(cwd, [file])).apiCalls).toBe(1);
    // A call recorded by hand since: the figures are the session's events again, that call with them.
    expect((await runInProcess(['usage', first.sessionId, '--input', '1000', '--output', '20'], cwd)).code).toBe(0);
    const moved = await importJson(cwd, [file]);
    expect(moved.apiCalls).toBe(first.apiCalls + 1);
    expect(moved.tokens).toEqual({ ...first.tokens, input: first.tokens.input + 1000, output: first.tokens.output + 20 });
    // A cache file that is not one is no error: the events are read.
    writeFileSync(join(cwd, '.moai', 'cache', 'import-figures.json'), '{"version":1,"entries":{"x":');
    expect(await importJson(cwd, [file])).toEqual(moved);
  });
});

describe('figures worked out by hand', () => {
  it('spotter-manual-compact: 217 calls, the four totals ccusage@20.0.24 gives, one manual compaction before the peak was passed', async () => {
    // jq: 408 assistant lines with usage, 217 message.id+requestId keys, the fullest line of each summed;
    // `ccusage session --json --offline` on the file gives the same four totals.
    const result = await importJson(tempDir(), [copyOf(MANUAL_COMPACT)]);
    expect(result.apiCalls).toBe(217);
    expect(result.tokens).toEqual({ input: 242, output: 49467, cacheCreation: 237121, cacheRead: 16553628 });
    // Line 1481: {"subtype":"compact_boundary","compactMetadata":{"trigger":"manual","preTokens":142431}}.
    expect(result.compactions).toEqual([{ trigger: 'manual', preTokens: 142431, at: '2026-02-12T14:48:36.922Z' }]);
    expect(result.peakContextTokens).toBe(141787);
    expect(result.models).toEqual(['claude-opus-4-6', 'claude-haiku-4-5-20251001']);
    // The Task call's result names agent aac57f5; its file is not in the fixture, so it made no call here.
    expect(result.subagents).toEqual([{ agentId: 'aac57f5', apiCalls: 0, tokens: { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 } }]);
  });

  it('ccviewer-inline-sidechain (1.0.108): two inline subagents by their threads, a Task call refused before it ran is a failed task but no subagent', async () => {
    const result = await importJson(tempDir(), [copyOf(INLINE_SIDECHAIN)]);
    expect(result.apiCalls).toBe(20);
    expect(result.tokens).toEqual({ input: 129, output: 3629, cacheCreation: 47747, cacheRead: 324259 });
    expect(result.subagents.map(({ agentId, apiCalls }) => ({ agentId, apiCalls }))).toEqual([
      { agentId: '6340ddef-f656-4b72-a065-82390f637678', apiCalls: 3 },
      { agentId: '83e2917c-8940-4df6-a5a5-f2514f0d08c5', apiCalls: 7 },
    ]);
    // toolu_018t5jce2ZNoGr2ADsHGQife: its result is "InputValidationError: ... prompt ... Required".
    expect(result.tasks.find((task) => task.id === 'agent-toolu_018t5jce2ZNoGr2ADsHGQife')).toMatchObject({ title: 'Analyze project structure', state: 'failed' });
    // The last TodoWrite has all four items completed.
    expect(result.tasks.filter((task) => task.id.startsWith('todo-')).map((task) => task.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
  });
});

/** The fixture's lines, each with its newline. */
const linesOf = (path: string): string[] => readFileSync(path, 'utf8').split(/(?<=\n)/);

describe('a transcript that grew', () => {
  it('adds only what is new: cut inside a split reply (placeholder count first), then completed, as one import of the whole', async () => {
    // ccviewer lines 3 and 4 are one reply (msg_01QdKEzwwjhMrbE13LjZjnMA): output_tokens 3, then 263.
    const lines = linesOf(INLINE_SIDECHAIN);
    const dir = tempDir('moai-import-src-');
    const file = join(dir, '5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl');
    writeFileSync(file, lines.slice(0, 3).join(''));
    const cwd = tempDir();
    // Just written: the file is still being written, so the reply's call (its placeholder line read) waits for its last line.
    const early = await importJson(cwd, [file]);
    expect(early.apiCalls).toBe(0);
    // Its second reply's half a line, then the rest.
    const rest = lines.slice(3).join('');
    appendFileSync(file, rest.slice(0, 200));
    const middle = await importJson(cwd, [file]);
    expect(middle.skippedLines).toEqual([]);
    appendFileSync(file, rest.slice(200));
    atRest(file);
    const grown = await importJson(cwd, [file]);
    const whole = await importJson(tempDir(), [copyOf(INLINE_SIDECHAIN)]);
    expect({ ...grown, files: [] }).toEqual({ ...whole, files: [] });
    expect((await eventLines(cwd, grown.sessionId)).filter((line) => line.includes('TokenUsageRecorded'))).toHaveLength(20);
  });

  it('of a past session (at rest) is read to its end each time, and a grown one adds the new calls', async () => {
    const lines = linesOf(MANUAL_COMPACT);
    const file = join(tempDir('moai-import-src-'), 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
    writeFileSync(file, lines.slice(0, 1200).join(''));
    const cwd = tempDir();
    const first = await importJson(cwd, [atRest(file)]);
    appendFileSync(file, lines.slice(1200).join(''));
    const grown = await importJson(cwd, [atRest(file)]);
    expect(grown.apiCalls).toBeGreaterThan(first.apiCalls);
    expect(grown.apiCalls).toBe(217);
    expect(grown.tokens).toEqual({ input: 242, output: 49467, cacheCreation: 237121, cacheRead: 16553628 });
    expect(grown.compactions).toHaveLength(1);
  });
});

describe('bad input', () => {
  it('reports a malformed line with its file and line, skips it, and keeps the rest', async () => {
    const lines = linesOf(TOOL_HEAVY);
    const file = join(tempDir('moai-import-src-'), 'tool_heavy.jsonl');
    writeFileSync(file, [...lines.slice(0, 4), '{"type":"assistant","message":{"id":"msg_broken",\n', 'not json at all\n', ...lines.slice(4)].join(''));
    atRest(file);
    const cwd = tempDir();
    const text = await runInProcess(['import', 'claude-code', file], cwd);
    expect(text.code).toBe(0);
    expect(text.stderr).toContain(`skipped ${file}:5: `);
    expect(text.stderr).toContain(`skipped ${file}:6: not a JSON object`);
    const result = await importJson(tempDir(), [file]);
    expect(result.skippedLines.map(({ file: where, line }) => `${where}:${line}`)).toEqual([`${file}:5`, `${file}:6`]);
    const whole = await importJson(tempDir(), [copyOf(TOOL_HEAVY)]);
    expect(result.apiCalls).toBe(whole.apiCalls);
    expect(result.tokens).toEqual(whole.tokens);
  });

  it('refuses a missing transcript or a folder by name, appending nothing', async () => {
    const cwd = tempDir();
    const missing = await runInProcess(['import', 'claude-code', join(cwd, 'nope.jsonl')], cwd);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`No transcript at ${join(cwd, 'nope.jsonl')}`);
    const folder = await runInProcess(['import', 'claude-code', TRANSCRIPT_FIXTURES], cwd);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('is a folder');
    const none = await runInProcess(['import', 'claude-code'], cwd);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--all');
  });
});

const SESSION = 'aaaaaaaa-1111-4222-8333-bbbbbbbbbbbb';
const TOOL_HEAVY_SESSION = 'd6e0bada-1959-4eec-a9d2-0bfade768d8f';

/** A subagent's file: the tool-heavy fixture's assistant lines as a 2.1.x subagent writes them (sidechain, agentId, the parent's session id). */
function subagentLines(agentId: string, prefix: string): string {
  return (
    readFileSync(TOOL_HEAVY, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"type":"assistant"'))
      .map((line) => {
        const record = JSON.parse(line) as Record<string, any>;
        Object.assign(record, { isSidechain: true, agentId, sessionId: SESSION });
        record.message.id = `${prefix}${record.message.id}`;
        return JSON.stringify(record);
      })
      .join('\n') + '\n'
  );
}

/** A Claude Code config folder: one project with a session whose subagents sit beside it (nested, with a meta file), and a second project. */
function configFolder(): { config: string; main: string; other: string } {
  const config = tempDir('moai-import-config-');
  const project = join(config, 'projects', '-home-me-proj');
  const subagents = join(project, SESSION, 'subagents');
  mkdirSync(join(subagents, 'deeper'), { recursive: true });
  const main = join(project, `${SESSION}.jsonl`);
  writeFileSync(main, readFileSync(TOOL_HEAVY, 'utf8').replaceAll(TOOL_HEAVY_SESSION, SESSION));
  writeFileSync(join(subagents, 'agent-a111111.jsonl'), subagentLines('a111111', 'A'));
  writeFileSync(join(subagents, 'agent-a111111.meta.json'), JSON.stringify({ agentType: 'Explore' }));
  writeFileSync(join(subagents, 'deeper', 'agent-a222222.jsonl'), subagentLines('a222222', 'B'));
  const otherProject = join(config, 'projects', '-home-me-other');
  mkdirSync(otherProject, { recursive: true });
  const other = join(otherProject, '5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl');
  copyFileSync(INLINE_SIDECHAIN, other);
  for (const path of [main, join(subagents, 'agent-a111111.jsonl'), join(subagents, 'deeper', 'agent-a222222.jsonl'), other]) atRest(path);
  return { config, main, other };
}

describe('subagent files and --all', () => {
  it('imports the subagent files beside a transcript (nested folders too), each subagent apart, unless --no-subagents', async () => {
    const { main } = configFolder();
    const tool = plainSummary(TOOL_HEAVY);
    const whole = await importJson(tempDir(), [main]);
    expect(whole.files).toHaveLength(3);
    expect(whole.apiCalls).toBe(3 * tool.apiCalls);
    expect(whole.subagents.map(({ agentId, apiCalls, tokens }) => ({ agentId, apiCalls, tokens }))).toEqual([
      { agentId: 'a111111', apiCalls: tool.apiCalls, tokens: tool.tokens },
      { agentId: 'a222222', apiCalls: tool.apiCalls, tokens: tool.tokens },
    ]);
    // The main chain's context is its own.
    expect(whole.peakContextTokens).toBe(tool.peakContextTokens);
    const alone = await importJson(tempDir(), ['--no-subagents', main]);
    expect(alone.files).toEqual([main]);
    expect(alone.apiCalls).toBe(tool.apiCalls);
    expect(alone.subagents).toEqual([]);
  });

  it("reads a subagent's file named on its own as that subagent's, and a file named twice once", async () => {
    const { main } = configFolder();
    const agentFile = join(main.replace(/\.jsonl$/, ''), 'subagents', 'agent-a111111.jsonl');
    const tool = plainSummary(TOOL_HEAVY);
    const cwd = tempDir();
    const alone = await importJson(cwd, [agentFile]);
    expect(alone.sessionId).toBe(SESSION);
    expect(alone.subagents.map(({ agentId, apiCalls }) => ({ agentId, apiCalls }))).toEqual([{ agentId: 'a111111', apiCalls: tool.apiCalls }]);
    // The main chain's context is not a subagent's.
    expect(alone.peakContextTokens).toBe(0);
    // Then the whole session, the subagent's file among its files and named again: nothing of it twice.
    const result = await runInProcess(['--json', 'import', 'claude-code', main, agentFile, main], cwd);
    expect(result.code).toBe(0);
    // One session: its object.
    const whole = JSON.parse(result.stdout) as ImportJson;
    expect(whole.apiCalls).toBe(3 * tool.apiCalls);
    expect(whole.subagents.find((agent) => agent.agentId === 'a111111')!.apiCalls).toBe(tool.apiCalls);
  });

  it('--all imports every session under $CLAUDE_CONFIG_DIR/projects', async () => {
    const { config, main, other } = configFolder();
    const cwd = tempDir();
    const env = { ...process.env, CLAUDE_CONFIG_DIR: config };
    const result = await runInProcess(['--json', 'import', 'claude-code', '--all'], cwd, { env });
    expect(result.code).toBe(0);
    const sessions = JSON.parse(result.stdout) as ImportJson[];
    expect(sessions.map((s) => [s.sessionId, s.files[0]]).sort()).toEqual(
      [
        ['5c0375b4-57a5-4f26-b12d-d022ee4e51b7', other],
        [SESSION, main],
      ].sort(),
    );
    expect(sessions.find((s) => s.sessionId === SESSION)!.files).toHaveLength(3);
    const again = await runInProcess(['import', 'claude-code', '--all'], cwd, { env });
    expect(again.stdout).toContain('Nothing new to import.');
    const empty = await runInProcess(['import', 'claude-code', '--all'], cwd, { env: { ...process.env, CLAUDE_CONFIG_DIR: tempDir() } });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('No transcript under');
  });
});

describe('the progress bar', () => {
  it('is drawn on standard error when standard output is a terminal, and cleared at the end', async () => {
    const { progressBar } = await import('../../../src/cli/commands/import.js');
    let err = '';
    let clock = 0;
    const bar = progressBar({ stdout: () => undefined, stderr: (text) => (err += text), cwd: '/', env: {} }, () => (clock += 200));
    bar.update(50 * 1_048_576, 100 * 1_048_576, 'session 1 of 2');
    bar.end();
    expect(err).toContain('[###############...............]  50% 50.0 MB of 100.0 MB, session 1 of 2');
    expect(err.endsWith('\r\u001b[K')).toBe(true);
  });
});

describe('sessions Claude Code ran', () => {
  it('are imported past session.max_parallel_sessions (3), and take no room from the sessions this engine runs', async () => {
    const dir = tempDir('moai-import-src-');
    const files = [1, 2, 3, 4].map((n) => {
      const file = join(dir, `0000000${n}-1111-4222-8333-bbbbbbbbbbbb.jsonl`);
      writeFileSync(file, readFileSync(TOOL_HEAVY, 'utf8').replaceAll(TOOL_HEAVY_SESSION, `0000000${n}-1111-4222-8333-bbbbbbbbbbbb`));
      return atRest(file);
    });
    const cwd = tempDir();
    const imported = await runInProcess(['import', 'claude-code', ...files], cwd);
    expect(imported.code).toBe(0);
    expect(imported.stdout.match(/^Session /gm)).toHaveLength(4);
    for (const n of [1, 2, 3]) expect((await runInProcess(['start', '--agent', 'planner', '--model', 'claude-sonnet-4-5', '--session', `own-${n}`], cwd)).code).toBe(0);
    const fourth = await runInProcess(['start', '--agent', 'planner', '--model', 'claude-sonnet-4-5', '--session', 'own-4'], cwd);
    expect(fourth.code).not.toBe(0);
    expect(fourth.stderr).toContain('own-1');
    expect(fourth.stderr).not.toContain('00000001');
  });
});

describe('many sessions on worker threads', () => {
  it('give the figures one thread gives, in the order given, with the readers held to a few files ahead', async () => {
    const { createEngine } = await import('../../../src/engine/createEngine.js');
    const { createMemoryEventStore } = await import('../../../src/store/memoryEventStore.js');
    const { importClaudeCodeTranscripts } = await import('../../../src/integrations/claude-code/importTranscripts.js');
    const dir = tempDir('moai-import-src-');
    // 20 sessions (more than the readers may be ahead), each a copy of a fixture under its own ids.
    const files = Array.from({ length: 20 }, (_, n) => {
      const fixture = [MANUAL_COMPACT, TOOL_HEAVY, INLINE_SIDECHAIN][n % 3]!;
      const sessionId = `${String(n).padStart(8, '0')}-1111-4222-8333-bbbbbbbbbbbb`;
      const named = plainSummary(fixture).sessionId;
      const file = join(dir, `${sessionId}.jsonl`);
      writeFileSync(file, readFileSync(fixture, 'utf8').replaceAll(named, sessionId).replaceAll('"msg_01', `"msg_${String(n).padStart(2, '0')}`));
      return atRest(file);
    });
    const run = async (threads: number) => {
      const engine = await createEngine({ store: createMemoryEventStore() });
      try {
        return await importClaudeCodeTranscripts(engine, files, { threads });
      } finally {
        await engine.close();
      }
    };
    const one = await run(1);
    const two = await run(3);
    expect(two).toEqual(one);
    expect(one.map((r) => r.sessionId)).toEqual(files.map((f) => f.split('/').at(-1)!.replace('.jsonl', '')));
    expect(one.filter((_, n) => n % 3 === 0).every((r) => r.apiCalls === 217)).toBe(true);
  });
});

describe('transcripts from other machines', () => {
  it('take missing fields, unknown record types, new tools and odd values in their stride', async () => {
    const sessionId = 'cccccccc-1111-4222-8333-dddddddddddd';
    const envelope = (extra: Record<string, unknown>) => JSON.stringify({ sessionId, timestamp: '2026-03-01T10:00:00.000Z', ...extra });
    const lines = [
      envelope({ type: 'user', uuid: 'u1', parentUuid: null, message: { role: 'user', content: 'hi' } }),
      // Counts missing, of another type, negative: what is not a count is 0.
      envelope({ type: 'assistant', uuid: 'a1', requestId: 'r1', message: { id: 'm1', model: 'claude-sonnet-4-5', usage: { input_tokens: 10, output_tokens: '7' } } }),
      envelope({ type: 'assistant', uuid: 'a2', message: { id: 'm2', model: 'claude-sonnet-4-5', usage: { input_tokens: 5, output_tokens: 3, cache_read_input_tokens: 100, brand_new: { x: 1 } }, content: [{ type: 'tool_use', id: 't1', name: 'SomeNewTool', input: { usage: 1 } }] } }),
      // No usage, no message, an unknown type, a record with no type.
      envelope({ type: 'assistant', uuid: 'a3', message: { id: 'm3', model: 'claude-sonnet-4-5' } }),
      envelope({ type: 'assistant', uuid: 'a4' }),
      envelope({ type: 'hologram', uuid: 'h1', payload: [1, 2, 3] }),
      JSON.stringify({ whatever: true }),
      // A TodoWrite with an item that has no content, and a TaskUpdate for a task never created.
      envelope({ type: 'assistant', uuid: 'a5', message: { id: 'm4', model: 'claude-sonnet-4-5', usage: { input_tokens: 1, output_tokens: 1 }, content: [{ type: 'tool_use', id: 't2', name: 'TodoWrite', input: { todos: [{ content: 'Ship it', status: 'in_progress' }, { status: 'pending' }] } }, { type: 'tool_use', id: 't3', name: 'TaskUpdate', input: { taskId: 42, status: 'completed' } }] } }),
      envelope({ type: 'system', subtype: 'compact_boundary', uuid: 'c1', compactMetadata: { trigger: 'auto' } }),
      envelope({ type: 'assistant', uuid: 'a6', isSidechain: true, message: { id: 'm5', model: 'claude-haiku-4-5', usage: { input_tokens: 2, output_tokens: 2 } } }),
    ];
    const file = join(tempDir('moai-import-src-'), `${sessionId}.jsonl`);
    writeFileSync(file, lines.join('\n') + '\n');
    const result = await importJson(tempDir(), [atRest(file)]);
    expect(result.sessionId).toBe(sessionId);
    expect(result.skippedLines).toEqual([]);
    expect(result.apiCalls).toBe(4);
    expect(result.tokens).toEqual({ input: 18, output: 6, cacheCreation: 0, cacheRead: 100 });
    expect(result.models).toEqual(['claude-sonnet-4-5', 'claude-haiku-4-5']);
    expect(result.compactions).toEqual([{ trigger: 'auto', preTokens: expect.any(Number), at: '2026-03-01T10:00:00.000Z' }]);
    expect(result.tasks.map(({ title, state }) => ({ title, state }))).toEqual(
      expect.arrayContaining([
        { title: 'Ship it', state: 'in_progress' },
        { title: 'Task 42', state: 'completed' },
      ]),
    );
  });
});
