// Issue 11, section 4: sessions (ls), task list, --version, events --follow.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createEngine } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { runInProcess } from './runInProcess.js';
import { runCli } from '../../src/cli/index.js';

const start = (id: string, model = 'claude-sonnet-4-5') => ['start', '--agent', 'planner', '--model', model, '--session', id];

describe('moai-session sessions', () => {
  it('lists every session with its status, agent, model, open tasks, context, cost and last activity, the current one marked', async () => {
    const cwd = await tempDir('moai-ls-');
    await runInProcess(start('done'), cwd);
    await runInProcess(['end', 'done'], cwd);
    await runInProcess(start('work'), cwd);
    await runInProcess(['task', 'add', 't1', '--title', 'One'], cwd);
    await runInProcess(['task', 'add', 't2', '--title', 'Two'], cwd);
    await runInProcess(['usage', '--input', '100000', '--output', '1000'], cwd);
    const listed = await runInProcess(['sessions', '--json'], cwd);
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as { sessionId: string; current: boolean; status: string; openTasks: number; contextPercent: number; costUsd: number }[];
    expect(rows.map((r) => [r.sessionId, r.status, r.current, r.openTasks])).toEqual([
      ['done', 'ended', false, 0],
      ['work', 'active', true, 2],
    ]);
    // 100,000 of Sonnet 4.5's 200,000: 50 %; 0.1M input at $3 and 1,000 output at $15 a million.
    expect(rows[1]!.contextPercent).toBe(50);
    expect(rows[1]!.costUsd).toBeCloseTo(0.3 + 0.015, 10);
    const text = await runInProcess(['ls'], cwd);
    expect(text.stdout).toMatch(/^\*\s+work\s+active\s+planner\s+claude-sonnet-4-5\s+2\s+50\.0%\s+\$0\.3150\s/m);
    expect(text.stdout).toContain('2 sessions; * marks the current one.');
  });
});

describe('moai-session task list', () => {
  it("lists the current session's tasks, or one state's", async () => {
    const cwd = await tempDir('moai-tasks-');
    await runInProcess(start('s'), cwd);
    await runInProcess(['task', 'add', 'a', '--title', 'Alpha', '--phase', 'spec'], cwd);
    await runInProcess(['task', 'add', 'b', '--title', 'Beta'], cwd);
    await runInProcess(['task', 'send', 'a', 'START'], cwd);
    const all = await runInProcess(['task', 'list'], cwd);
    expect(all.stdout).toMatch(/^Tasks of session s: 2 tasks\.$/m);
    expect(all.stdout).toMatch(/^ {2}a\s+in_progress\s+spec\s+1\s+Alpha$/m);
    const pending = await runInProcess(['task', 'list', '--state', 'pending', '--json'], cwd);
    expect((JSON.parse(pending.stdout) as { tasks: { taskId: string }[] }).tasks.map((t) => t.taskId)).toEqual(['b']);
    expect((await runInProcess(['task', 'list', '--state', 'pending'], cwd)).stdout).toContain('1 task pending.');
  });
});

describe('moai-session --version', () => {
  it("prints the package's version", async () => {
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(await runInProcess(['--version'], await tempDir())).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });
  });
});

describe('moai-session events --follow', () => {
  it('prints what another writer appends, live, until interrupted', async () => {
    const cwd = await tempDir('moai-follow-');
    await runInProcess(start('s'), cwd);
    const controller = new AbortController();
    let out = '';
    const following = runCli(['events', '--follow'], {
      cwd,
      env: { ...process.env },
      stdout: (text) => (out += text),
      stderr: (text) => (out += text),
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(out).toContain('SessionStarted'), { timeout: 10_000 });
    const engine = await createEngine({ dir: join(cwd, '.moai') });
    await (await engine.openSession('s')).addTask({ taskId: 'live', title: 'Added while followed' });
    await engine.close();
    await vi.waitFor(() => expect(out).toContain('live: Added while followed'), { timeout: 10_000 });
    controller.abort();
    expect(await following).toBe(0);
    expect(out.match(/SessionStarted/g)).toHaveLength(1);
  });
});

describe('colour', () => {
  it('is used on a terminal and with FORCE_COLOR, never with NO_COLOR or in a pipe, and tables stay aligned', async () => {
    const cwd = await tempDir('moai-colour-');
    await runInProcess(start('s'), cwd);
    await runInProcess(['task', 'add', 't', '--title', 'T'], cwd);
    const base = { ...process.env };
    delete base.FORCE_COLOR;
    delete base.NO_COLOR;
    const ansi = /\u001b\[/;
    const run = async (env: NodeJS.ProcessEnv, stdoutIsTerminal: boolean) => {
      let out = '';
      await runCli(['ls'], { cwd, env, stdout: (t) => (out += t), stderr: () => {}, stdoutIsTerminal });
      return out;
    };
    const terminal = await run(base, true);
    expect(terminal).toMatch(ansi);
    expect(await run({ ...base, NO_COLOR: '1' }, true)).not.toMatch(ansi);
    expect(await run(base, false)).not.toMatch(ansi);
    expect(await run({ ...base, FORCE_COLOR: '1' }, false)).toMatch(ansi);
    // Without its colour codes, the coloured table is the plain one.
    expect(terminal.replace(/\u001b\[[0-9;]*m/g, '')).toBe(await run(base, false));
  });
});
