import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../cli/runInProcess.js';
import { dropTestSchemas, freshSchema, HAVE_POSTGRES, urlWithSchema } from '../postgres/pgTestServer.js';

describe('which folders are state folders', () => {
  it("refuses a project's own folder that merely has a sessions/ folder, and touches nothing in it", async () => {
    const project = await mkdtemp(join(tmpdir(), 'moai-project-'));
    await mkdir(join(project, 'sessions'));
    await mkdir(join(project, 'config'));
    await writeFile(join(project, 'sessions', 'active-tasks.md'), 'my own notes\n');
    await writeFile(join(project, 'sessions', 'session-state.json'), '{"mine":true}\n');
    for (const args of [['start', '--agent', 'a', '--model', 'claude-sonnet-4-5'], ['sessions'], ['events']]) {
      const result = await runInProcess(['--dir', '.', ...args], project);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/is not a moai-session state folder \(it has no events\/ or config\/config\.json in it\)/);
    }
    expect((await readdir(project)).sort()).toEqual(['config', 'sessions']);
    expect(await readFile(join(project, 'sessions', 'active-tasks.md'), 'utf8')).toBe('my own notes\n');
    expect(await readFile(join(project, 'sessions', 'session-state.json'), 'utf8')).toBe('{"mine":true}\n');
  });
});

describe('a project folder with an events/ folder of its own', () => {
  it('is not taken for a state folder, by a write, a read or a copy into it, and keeps its files', async () => {
    const project = await mkdtemp(join(tmpdir(), 'moai-project-'));
    await mkdir(join(project, 'events'));
    await mkdir(join(project, 'sessions'));
    await writeFile(join(project, 'events', '2024-01-01.json'), '{"my":"event"}\n');
    await writeFile(join(project, 'sessions', 'active-tasks.md'), 'my own notes\n');
    for (const args of [['start', '--agent', 'a', '--model', 'claude-sonnet-4-5'], ['events']]) {
      const result = await runInProcess(['--dir', '.', ...args], project);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/is not a moai-session state folder/);
    }
    const source = await mkdtemp(join(tmpdir(), 'moai-source-'));
    expect((await runInProcess(['start', '--agent', 'a', '--model', 'claude-sonnet-4-5', '--session', 's1'], source)).code).toBe(0);
    const copy = await runInProcess(['copy', '--from', join(source, '.moai'), '--to', project], source);
    expect(copy.code).toBe(1);
    expect(copy.stderr).toMatch(/is not a moai-session state folder/);
    expect((await readdir(project)).sort()).toEqual(['events', 'sessions']);
    expect(await readdir(join(project, 'events'))).toEqual(['2024-01-01.json']);
    expect(await readFile(join(project, 'sessions', 'active-tasks.md'), 'utf8')).toBe('my own notes\n');
    // A new folder, or one of ours, is still a fine target.
    const fresh = join(await mkdtemp(join(tmpdir(), 'moai-target-')), '.moai');
    expect((await runInProcess(['copy', '--from', join(source, '.moai'), '--to', fresh], source)).code).toBe(0);
  });
});

describe.skipIf(!HAVE_POSTGRES)('a state folder when the log is in PostgreSQL', () => {
  afterAll(dropTestSchemas);

  it('reads the shared log from a machine that has no local state folder, and creates none', async () => {
    const env = { ...process.env, MOAI_STORE_URL: urlWithSchema(freshSchema('folder')) };
    const writer = await mkdtemp(join(tmpdir(), 'moai-pg-writer-'));
    const started = await runInProcess(['start', '--agent', 'planner', '--model', 'claude-sonnet-4-5', '--session', 's1'], writer, { env });
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect((await runInProcess(['task', 'add', 's1', 't1', '--title', 'Write the spec'], writer, { env })).code).toBe(0);

    const reader = await mkdtemp(join(tmpdir(), 'moai-pg-reader-'));
    const sessions = await runInProcess(['sessions'], reader, { env });
    expect(sessions.stderr).toBe('');
    expect(sessions.code).toBe(0);
    expect(sessions.stdout).toMatch(/s1\s+active\s+planner/);
    const state = await runInProcess(['--json', 'state', 's1'], reader, { env });
    expect(state.code).toBe(0);
    expect((JSON.parse(state.stdout) as { tasks: { byId: Record<string, { state: string }> } }).tasks.byId.t1?.state).toBe('pending');
    expect((await runInProcess(['events'], reader, { env })).stdout).toContain('TaskAdded');
    expect(await readdir(reader)).toEqual([]);
  });
});
