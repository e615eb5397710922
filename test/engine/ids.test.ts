// Issue 9, defect 10: one id rule, checked once where an id comes in, with the message cut to a readable length.
import { describe, expect, it } from 'vitest';
import { isInvalidArgumentError } from '../../src/index.js';
import { runInProcess } from '../cli/runInProcess.js';
import { tempDir } from '../helpers.js';
import { engineFactory } from '../engineHelpers.js';

const engineWith = engineFactory();

describe('ids from outside', () => {
  it('refuses a 200-character session id before anything is appended (its stream name would pass 200)', async () => {
    const engine = await engineWith();
    const id = 's'.repeat(200);
    const refusal = await engine.startSession({ sessionId: id, agent: 'a', model: 'claude-sonnet-4-5' }).catch((e: unknown) => e);
    expect(isInvalidArgumentError(refusal)).toBe(true);
    expect((refusal as Error).message).toMatch(/^Session id "s{60}"\.\.\. \(200 characters\)/);
    expect(await engine.store.headPosition()).toBe(0);
    // 192 characters is the longest a session id may be, and it works end to end.
    const longest = await engine.startSession({ sessionId: 's'.repeat(192), agent: 'a', model: 'claude-sonnet-4-5' });
    await longest.addTask({ taskId: 't', title: 'T' });
    expect(longest.state.version).toBe(2);
  });

  it('never echoes a 10,000-character id whole, from the library or the command line', async () => {
    const engine = await engineWith();
    const id = 'x'.repeat(10_000);
    for (const attempt of [() => engine.openSession(id), () => engine.sessionState(id), () => engine.forkSession(id), () => engine.recover(id)]) {
      const refusal = await attempt().catch((e: unknown) => e);
      expect(isInvalidArgumentError(refusal)).toBe(true);
      expect((refusal as Error).message.length).toBeLessThan(400);
    }
    const cwd = await tempDir();
    expect((await runInProcess(['start', '--agent', 'a', '--model', 'claude-sonnet-4-5', '--session', 'ok'], cwd)).code).toBe(0);
    for (const args of [['state', id], ['events', '--session', id], ['task', 'add', id, 't', '--title', 'T']]) {
      const result = await runInProcess(args, cwd);
      expect(result.code).toBe(1);
      expect(result.stderr.length).toBeLessThan(400);
      expect(result.stderr).toContain('(10000 characters)');
    }
  });

  it('refuses a bad assignee, task or handoff id where it comes in, not later as an invalid event', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await expect(session.addTask({ taskId: 't', title: 'T', assignee: 'two words' })).rejects.toThrow(/^Agent "two words" is not valid/);
    await expect(session.sendTask('-bad', 'START')).rejects.toThrow(/^Task id "-bad" is not valid/);
    await expect(session.acceptHandoff('h 1', 'b')).rejects.toThrow(/^Handoff id "h 1" is not valid/);
    expect(session.state.version).toBe(1);
  });
});
