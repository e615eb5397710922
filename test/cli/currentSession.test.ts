// Issue 11, section 4: commands that need no UUIDs.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { runInProcess } from './runInProcess.js';

const start = (id: string) => ['start', '--agent', 'planner', '--model', 'claude-sonnet-4-5', '--session', id];
const stateOf = async (cwd: string, ...args: string[]) => {
  const result = await runInProcess(['state', ...args, '--json'], cwd);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as { session: { sessionId: string }; tasks: { byId: Record<string, { state: string }> } };
};

describe('the current session', () => {
  it('is the active session last started, resumed or taken over, and every command that takes a session means it when none is named', async () => {
    const cwd = await tempDir('moai-current-');
    expect((await runInProcess(start('first'), cwd)).code).toBe(0);
    expect((await runInProcess(start('second'), cwd)).code).toBe(0);
    expect((await runInProcess(['task', 'add', 't1', '--title', 'Write the spec'], cwd)).stdout).toContain('to session second');
    expect((await runInProcess(['task', 'send', 't1', 'START'], cwd)).code).toBe(0);
    expect((await runInProcess(['usage', '--input', '1000', '--output', '20'], cwd)).stdout).toContain('in session second');
    expect((await stateOf(cwd)).tasks.byId.t1!.state).toBe('in_progress');
    // Resuming the first makes it current.
    expect((await runInProcess(['resume', 'first'], cwd)).code).toBe(0);
    expect((await stateOf(cwd)).session.sessionId).toBe('first');
    expect((await runInProcess(['checkpoint'], cwd)).stdout).toContain('of session first');
    // Ending it leaves the other active one current.
    expect((await runInProcess(['end'], cwd)).stdout).toContain('Ended session first');
    expect((await stateOf(cwd)).session.sessionId).toBe('second');
    const budget = await runInProcess(['debug', '--show-token-budget', '--json'], cwd);
    expect((JSON.parse(budget.stdout) as { sessionId: string; contextTokens: number })).toMatchObject({ sessionId: 'second', contextTokens: 1_000 });
    // With every session ended there is none: the message lists them and says what to do.
    expect((await runInProcess(['end'], cwd)).code).toBe(0);
    const none = await runInProcess(['state'], cwd);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      'moai-session: No session is active, so none is current (the log has first, second, all ended): name one, or start a new session.\n',
    );
  });

  it('sees what another writer appended since the cache was kept', async () => {
    const cwd = await tempDir('moai-current-');
    expect((await runInProcess(start('cli'), cwd)).code).toBe(0);
    expect(JSON.parse(await readFile(join(cwd, '.moai', 'cache', 'sessions.json'), 'utf8'))).toMatchObject({ sessions: { cli: { active: true } } });
    // A library engine starts another session without touching the cache.
    const engine = await createEngine({ dir: join(cwd, '.moai') });
    await engine.startSession({ sessionId: 'library', agent: 'a', model: 'claude-sonnet-4-5' });
    await engine.close();
    expect((await stateOf(cwd)).session.sessionId).toBe('library');
  });

  it('says so in a folder with no session yet', async () => {
    const cwd = await tempDir('moai-current-');
    await mkdir(join(cwd, '.moai', 'events'), { recursive: true });
    expect(await runInProcess(['state'], cwd)).toMatchObject({
      code: 1,
      stderr: 'moai-session: No session yet, so none is current: start one (`moai-session start --agent A --model M`).\n',
    });
  });
});

describe('session ids', () => {
  it('may be shortened to a unique start, as in git; an ambiguous one is refused with the candidates', async () => {
    const cwd = await tempDir('moai-prefix-');
    for (const id of ['a1b2c3d4-0000', 'a1b2ffff-0000', 'b7e3-0000']) expect((await runInProcess(start(id), cwd)).code).toBe(0);
    expect((await stateOf(cwd, 'b7')).session.sessionId).toBe('b7e3-0000');
    expect((await runInProcess(['task', 'add', 'a1b2c', 't', '--title', 'T'], cwd)).stdout).toContain('to session a1b2c3d4-0000');
    const ambiguous = await runInProcess(['state', 'a1b2'], cwd);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toBe(
      'moai-session: "a1b2" is the start of 2 sessions\' ids: a1b2c3d4-0000, a1b2ffff-0000. Type more of the one you mean.\n',
    );
    const unknown = await runInProcess(['events', '--session', 'zz'], cwd);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No session "zz" in the log. Known sessions: a1b2c3d4-0000, a1b2ffff-0000, b7e3-0000.');
    // The two-word forms still take the session first.
    expect((await runInProcess(['task', 'send', 'a1b2c', 't', 'START'], cwd)).stdout).toContain('of session a1b2c3d4-0000');
  });
});
