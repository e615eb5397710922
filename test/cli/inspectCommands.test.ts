import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/index.js';
import { configJsonSchema } from '../../src/schemas.js';
import { tempDir } from '../helpers.js';
import { runInProcess } from './runInProcess.js';

describe('moai-session init and config', () => {
  it('writes the default config and its JSON Schema, and never overwrites a config', async () => {
    const cwd = await tempDir('moai-cli-init-');
    const first = await runInProcess(['init'], cwd);
    expect(first).toMatchObject({
      code: 0,
      stderr: '',
      stdout: 'Wrote the default configuration to .moai/config/config.json.\nWrote its JSON Schema to .moai/config/config.schema.json.\n',
    });
    const configFile = join(cwd, '.moai', 'config', 'config.json');
    const written = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    expect(written).toEqual({ $schema: './config.schema.json', ...DEFAULT_CONFIG });
    expect(JSON.parse(await readFile(join(cwd, '.moai', 'config', 'config.schema.json'), 'utf8'))).toEqual(configJsonSchema());

    const mine = '{ "session": { "max_parallel_sessions": 5 }, "models": { "context_windows": { "my-model": 64000 } } }\n';
    await writeFile(configFile, mine);
    const second = await runInProcess(['init'], cwd);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('.moai/config/config.json already exists; left it as it is');
    expect(second.stdout).toContain('.moai/config/config.schema.json is up to date.');
    expect(await readFile(configFile, 'utf8')).toBe(mine);

    const [text, json, schema] = await Promise.all([
      runInProcess(['config', 'show'], cwd),
      runInProcess(['config', 'show', '--json'], cwd),
      runInProcess(['config', 'schema'], cwd),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Effective configuration: from ${configFile} over the defaults`);
    expect(text.stdout).toMatch(/^ {2}session\.max_parallel_sessions\s+5$/m);
    expect(text.stdout).toMatch(/^ {2}session\.context_budget\.warning_threshold_percent\s+75$/m);
    expect(text.stdout).toMatch(/^ {2}models\.context_windows\.my-model\s+64000$/m);
    const effective = JSON.parse(json.stdout) as typeof DEFAULT_CONFIG;
    expect(effective).toEqual({
      ...DEFAULT_CONFIG,
      session: { ...DEFAULT_CONFIG.session, max_parallel_sessions: 5 },
      models: { context_windows: { 'my-model': 64000 }, prices: {} },
    });
    expect(JSON.parse(schema.stdout)).toEqual(configJsonSchema());
  });

  it('shows the defaults when there is no config file', async () => {
    const cwd = await tempDir('moai-cli-config-');
    const result = await runInProcess(['config', 'show', '--json'], cwd);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(DEFAULT_CONFIG);
  });
});

describe('moai-session debug on the demo log', () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await tempDir('moai-cli-debug-');
    expect((await runInProcess(['demo'], cwd)).code).toBe(0);
  });

  it('shows every session, and one session in full', async () => {
    const [all, one, json] = await Promise.all([
      runInProcess(['debug', '--show-session-state'], cwd),
      runInProcess(['debug', '--show-session-state', 'demo'], cwd),
      runInProcess(['debug', '--show-session-state', '--json'], cwd),
    ]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^demo\s+active\s+implementer\s+claude-sonnet-4-5\s+v66\s+0 of 5\s+58,000 \(29\.0%\)\s*$/m);
    expect(all.stdout).toMatch(/^demo-r1-alt\s+ended\s+implementer\s+claude-sonnet-4-5\s+v5\s+\d+ of 6\s+.*demo v51$/m);
    expect(one.stdout).toContain('Session demo: Build a durable key-value store');
    const rows = (JSON.parse(json.stdout) as { sessions: { sessionId: string; status: string }[] }).sessions;
    expect(rows.map((r) => [r.sessionId, r.status])).toEqual([
      ['demo', 'active'],
      ['demo-r1-alt', 'ended'],
    ]);
  });

  it('lists checkpoints with the state of their documents, and the token usage log', async () => {
    const [checkpoints, forkCheckpoints, usage, forkUsage, usageJson] = await Promise.all([
      runInProcess(['debug', '--list-checkpoints', 'demo'], cwd),
      runInProcess(['debug', '--list-checkpoints', 'demo-r1-alt', '--json'], cwd),
      runInProcess(['debug', '--show-token-usage-log'], cwd),
      runInProcess(['debug', '--show-token-usage-log', 'demo-r1-alt'], cwd),
      runInProcess(['debug', '--show-token-usage-log', 'demo', '--json'], cwd),
    ]);
    expect(checkpoints.code).toBe(0);
    expect(checkpoints.stdout).toContain('Checkpoints of session demo (9; documents in .moai/sessions/checkpoints)');
    const rows = checkpoints.stdout.split('\n').filter((line) => /^ {2}cp-/.test(line));
    expect(rows).toHaveLength(9);
    for (const row of rows) expect(row).toMatch(/\sok$/);
    expect(rows.map((row) => row.split(/\s{2,}/)[4])).toEqual([
      'phase-end:spec',
      'task-failed:r1-tests',
      'phase-end:build',
      'phase-end:docs',
      'budget-warning',
      'budget-emergency',
      'handoff:r1-handoff',
      'task-failed:r1-review',
      'phase-end:review',
    ]);

    const fork = JSON.parse(forkCheckpoints.stdout) as { checkpoints: { recordedBy: string; reason: string; document: string }[] };
    // A fork's checkpoints are its own: none of its parent's.
    expect(fork.checkpoints.map((c) => [c.recordedBy, c.reason])).toEqual([['demo-r1-alt', 'session-end']]);
    expect(fork.checkpoints.every((c) => c.document === 'ok')).toBe(true);

    const lines = usage.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(9);
    expect(lines[0]).toMatch(/^\S+Z demo claude-sonnet-4-5 main in=1200 out=2400 cache_write=9000 cache_read=0 context=10200$/);
    expect(forkUsage.stdout).toBe('No token usage recorded yet.\n');
    const records = (JSON.parse(usageJson.stdout) as { records: { sessionId: string; contextTokens: number }[] }).records;
    expect(records).toHaveLength(9);
    expect(records.at(-1)).toMatchObject({ sessionId: 'demo', contextTokens: 58_000 });
  });

  it('exits 2 unless exactly one view is asked for', async () => {
    const [none, two] = await Promise.all([
      runInProcess(['debug'], cwd),
      runInProcess(['debug', '--check-memory-sync', '--show-token-budget', 'demo'], cwd),
    ]);
    for (const result of [none, two]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('debug shows one view at a time: give exactly one of --show-session-state,');
    }
  });

  it('checks the memory files: in sync after the demo; a hand edit is found, with file, field, expected and found', async () => {
    const inSync = await runInProcess(['debug', '--check-memory-sync'], cwd);
    expect(inSync).toMatchObject({ code: 0, stdout: 'The memory files under .moai/sessions match the log.\n', stderr: '' });

    const stateFile = join(cwd, '.moai', 'sessions', 'session-state.json');
    const original = await readFile(stateFile, 'utf8');
    const edited = JSON.parse(original) as { sessions: { demo: { tokens: { contextTokens: number }; agent: string } } };
    edited.sessions.demo.tokens.contextTokens = 1234;
    edited.sessions.demo.agent = 'intruder';
    await writeFile(stateFile, JSON.stringify(edited, null, 2));
    const tasksFile = join(cwd, '.moai', 'sessions', 'active-tasks.md');
    await writeFile(tasksFile, (await readFile(tasksFile, 'utf8')).replace('| r1-spec | completed |', '| r1-spec | failed |'));

    const differs = await runInProcess(['debug', '--check-memory-sync'], cwd);
    expect(differs.code).toBe(1);
    expect(differs.stdout).toContain('The memory files under .moai/sessions differ from the log in 3 places:');
    expect(differs.stdout).toContain('  - sessions/session-state.json: sessions.demo.agent: expected "implementer", found "intruder"');
    expect(differs.stdout).toContain('  - sessions/session-state.json: sessions.demo.tokens.contextTokens: expected 58000, found 1234');
    expect(differs.stdout).toMatch(
      /^ {2}- sessions\/active-tasks\.md:\d+: expected "\| r1-spec \| completed \|.*", found "\| r1-spec \| failed \|.*"$/m,
    );
    expect(differs.stderr).toBe(
      'moai-session: the memory files under .moai/sessions are out of sync with the log (3 differences); ' +
        '`moai-session replay --write-memory-files` rewrites the memory files from the log (a checkpoint document it cannot: take a new checkpoint).\n',
    );
    const json = JSON.parse((await runInProcess(['debug', '--check-memory-sync', '--json'], cwd)).stdout) as {
      inSync: boolean;
      differences: { file: string; field?: string; expected?: unknown; found?: unknown }[];
    };
    expect(json.inSync).toBe(false);
    expect(json.differences).toContainEqual(
      expect.objectContaining({ file: 'sessions/session-state.json', field: 'sessions.demo.tokens.contextTokens', expected: 58000, found: 1234 }),
    );

    const rebuilt = await runInProcess(['replay', '--write-memory-files'], cwd);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toContain('Rewrote sessions/session-state.json, sessions/active-tasks.md from the log.');
    expect(await readFile(stateFile, 'utf8')).toBe(original);
    expect((await runInProcess(['debug', '--check-memory-sync'], cwd)).code).toBe(0);
  });
});
