import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isInvalidArgumentError } from '../../src/index.js';
import { checkMemorySync, createMemorySync, type WriteMemoryFilesResult } from '../../src/memory/index.js';
import { memoryEngine, runCleanup, smallLog } from './fixture.js';

afterEach(runCleanup);

const readOrNothing = (file: string): Promise<string | undefined> => readFile(file, 'utf8').catch(() => undefined);

describe('createMemorySync', () => {
  it('writes the sessions already in the log once the debounce has passed', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    const sync = await createMemorySync(engine, { dir, debounceMs: 20 });
    await vi.waitFor(async () => expect((await checkMemorySync(engine, dir)).inSync).toBe(true), { timeout: 2_000 });
    await sync.close();
  });

  it('starts the token history of a fork made while it runs from the parent\'s context at the fork', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    const sync = await createMemorySync(engine, { dir, debounceMs: 10_000 });
    const parent = await engine.startSession({ sessionId: 'p', agent: 'a', model: 'claude-sonnet-4-5' });
    await parent.recordUsage({ input_tokens: 50_000, output_tokens: 1 });
    const fork = await engine.forkSession('p', { sessionId: 'f' });
    await fork.recordUsage({ input_tokens: 100, output_tokens: 1 }, { main: false }); // a subagent: the context stays
    await sync.flush();
    await fork.recordUsage({ input_tokens: 200, output_tokens: 1 }, { main: false }); // followed after the rebuild
    await sync.close();
    expect(await checkMemorySync(engine, dir)).toEqual({ inSync: true, differences: [] });
    const log = await readFile(join(dir, 'sessions', 'token-usage.log'), 'utf8');
    const forkLines = log.split('\n').filter((line) => line.includes(' f '));
    expect(forkLines).toHaveLength(2);
    for (const line of forkLines) expect(line).toMatch(/ side .* context=50000$/);
  });

  it('is in sync right after a flush', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    const { demo } = await smallLog(fixture);
    const sync = await createMemorySync(engine, { dir, debounceMs: 10_000 });
    await demo.sendTask('build', 'START');
    await sync.flush();
    expect(await checkMemorySync(engine, dir)).toEqual({ inSync: true, differences: [] });
    await sync.close();
  });

  it('rewrites the files after the debounce, never before an append resolves, and once for a burst', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    const { demo } = await smallLog(fixture);
    const writes: WriteMemoryFilesResult[] = [];
    const sync = await createMemorySync(engine, { dir, debounceMs: 300, onWrite: (result) => writes.push(result) });
    await sync.flush();
    writes.length = 0;
    const stateFile = join(dir, 'sessions/session-state.json');
    const before = await readFile(stateFile, 'utf8');

    await demo.recordUsage({ input_tokens: 2000, output_tokens: 50, cache_read_input_tokens: 71_200 });
    await demo.sendTask('build', 'START');
    await demo.sendTask('build', 'COMPLETE');
    // The appends have resolved; the files have not moved yet.
    expect(await readFile(stateFile, 'utf8')).toBe(before);
    expect(writes).toEqual([]);

    await vi.waitFor(() => expect(writes).toHaveLength(1), { timeout: 2_000, interval: 10 });
    expect(writes[0]!.written).toHaveLength(4);
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    expect(state.sessions.demo.tokens.contextTokens).toBe(73_200);
    expect(state.sessions.demo.tasks).toMatchObject({ completed: 2, pending: 0, open: 1 });
    expect(await checkMemorySync(engine, dir)).toEqual({ inSync: true, differences: [] });
    await sync.close();
  });

  it('writes new sessions started after it began, and stops following the engine when closed', async () => {
    const { engine, dir } = await memoryEngine();
    const sync = await createMemorySync(engine, { dir, debounceMs: 10_000 });
    const session = await engine.startSession({ sessionId: 'late', agent: 'a', model: 'claude-opus-4-5', title: 'Late' });
    await session.addTask({ taskId: 't1', title: 'First' });
    await sync.close();
    const tasksFile = join(dir, 'sessions/active-tasks.md');
    const closedWith = await readFile(tasksFile, 'utf8');
    expect(closedWith).toContain('## late: Late');
    expect(closedWith).toContain('| t1 | pending | First |  |  |');

    await session.sendTask('t1', 'START');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await readOrNothing(tasksFile)).toBe(closedWith);
  });

  it('refuses a negative debounce', async () => {
    const { engine, dir } = await memoryEngine();
    const error = await createMemorySync(engine, { dir, debounceMs: -1 }).catch((e: unknown) => e);
    expect(isInvalidArgumentError(error)).toBe(true);
  });

  it('keeps a failed debounced write away from the append and reports it to onError', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    const { demo } = await smallLog(fixture);
    // A file where the folder should be: every write fails.
    const blocked = join(dir, 'not-a-folder');
    await writeFile(blocked, 'x');
    const errors: unknown[] = [];
    const sync = await createMemorySync(engine, { dir: blocked, debounceMs: 10, onError: (e) => errors.push(e) });
    await demo.sendTask('build', 'START');
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 2_000, interval: 10 });
    expect((errors[0] as Error).message).toMatch(/Cannot create the memory-file folder .*not-a-folder/);
    expect(sync.lastError).toBe(errors[errors.length - 1]);
    await expect(sync.flush()).rejects.toThrow(/Cannot create the memory-file folder/);
    await expect(sync.close()).rejects.toThrow();
  });
});
