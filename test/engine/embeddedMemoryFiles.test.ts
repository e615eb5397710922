// Issue 11, section 5: an embedded engine keeps the memory files in sync by default.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/index.js';
import { runInProcess } from '../cli/runInProcess.js';
import { tempDir } from '../helpers.js';

describe('an embedded engine with a state folder', () => {
  it('leaves memory files that check-memory-sync finds in step with the log, with no call of its own', async () => {
    const cwd = await tempDir('moai-embedded-');
    const dir = join(cwd, '.moai');
    const engine = await createEngine({ dir });
    const session = await engine.startSession({ sessionId: 'app', agent: 'planner', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 'spec', title: 'Write the spec' });
    await session.sendTask('spec', 'START');
    await session.recordUsage({ input_tokens: 120_000, output_tokens: 500 });
    await engine.close();
    const check = await runInProcess(['debug', '--check-memory-sync'], cwd);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(await readFile(join(dir, 'sessions', 'active-tasks.md'), 'utf8')).toContain('spec');
  });

  it('leaves them alone when told to', async () => {
    const cwd = await tempDir('moai-embedded-');
    const dir = join(cwd, '.moai');
    const engine = await createEngine({ dir, memoryFiles: false });
    await engine.startSession({ sessionId: 'app', agent: 'planner', model: 'claude-sonnet-4-5' });
    await engine.close();
    await expect(readFile(join(dir, 'sessions', 'session-state.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
