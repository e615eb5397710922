import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, createMemoryEventStore } from '../../src/index.js';
import { buildMemoryFiles, checkMemorySync, createMemorySync, writeMemoryFiles } from '../../src/memory/index.js';
import { tempDir } from '../helpers.js';
import { memoryEngine, runCleanup, smallLog } from './fixture.js';

afterEach(runCleanup);

const run = promisify(execFile);
const child = join(import.meta.dirname, 'children', 'writeMemoryFiles.ts');
const sessionState = async (dir: string): Promise<{ log_position: number | null; sessions: Record<string, unknown> }> =>
  JSON.parse(await readFile(join(dir, 'sessions', 'session-state.json'), 'utf8'));

describe('memory files written by several processes', () => {
  it('records the log position the files were built at, and never lets an older projection overwrite a newer one', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    const { demo } = await smallLog(fixture);
    const older = await engine.replay(); // the log up to demo's :13 usage record, position 13
    await demo.addTask({ taskId: 'later', title: 'Added after the older projection' });
    const newer = await engine.replay();
    expect([older.lastPosition, newer.lastPosition]).toEqual([13, 14]);

    expect((await writeMemoryFiles(dir, newer)).written).toHaveLength(4);
    expect((await sessionState(dir)).log_position).toBe(14);
    // The older projection finishes last (as a slower process would): it is refused, the files keep the newer state.
    expect(await writeMemoryFiles(dir, older)).toEqual({ written: [], unchanged: [], newerOnDisk: 14 });
    for (const [path, content] of buildMemoryFiles(newer)) expect(await readFile(join(dir, path), 'utf8')).toBe(content);
    expect(await readFile(join(dir, 'sessions', 'active-tasks.md'), 'utf8')).toContain('Added after the older projection');
    // The same position again is no regression: nothing to change.
    expect((await writeMemoryFiles(dir, newer)).unchanged).toHaveLength(4);
    expect(await checkMemorySync(engine, dir)).toEqual({ inSync: true, differences: [] });
  });

  it('overwrites files that show a position past the log\'s head: they were built from another log', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    await writeMemoryFiles(dir, await engine.replay()); // built at position 13
    // The folder now goes with another log (a replaced store, a repaired shorter log): 2 events.
    const other = await createEngine({ store: createMemoryEventStore() });
    try {
      const session = await other.startSession({ sessionId: 'fresh', agent: 'a', model: 'claude-sonnet-4-5' });
      await session.addTask({ taskId: 't1', title: 'One' });
      const report = await other.replay();
      expect(report.lastPosition).toBe(2);
      // Without the head, files that say 13 are taken for another writer's newer ones.
      expect((await writeMemoryFiles(dir, report)).newerOnDisk).toBe(13);
      const written = await writeMemoryFiles(dir, report, { headPosition: () => other.store.headPosition() });
      expect(written.newerOnDisk).toBeUndefined();
      expect(written.written).toHaveLength(4);
      const state = await sessionState(dir);
      expect([state.log_position, Object.keys(state.sessions)]).toEqual([2, ['fresh']]);
      expect(await checkMemorySync(other, dir)).toEqual({ inSync: true, differences: [] });
    } finally {
      await other.close();
    }
  });

  it('writes session-state.json, which says the position, last: a write that fails on the way leaves the old position', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    const { demo } = await smallLog(fixture);
    await writeMemoryFiles(dir, await engine.replay()); // position 13
    await demo.addTask({ taskId: 'later', title: 'Later' });
    // active-tasks.md cannot be replaced (a folder stands in its place): the write stops there.
    await rm(join(dir, 'sessions', 'active-tasks.md'));
    await mkdir(join(dir, 'sessions', 'active-tasks.md', 'x'), { recursive: true });
    await expect(writeMemoryFiles(dir, await engine.replay())).rejects.toThrow(/Cannot write the memory file .*active-tasks\.md/);
    expect((await sessionState(dir)).log_position).toBe(13);
  });

  it('writes whatever is on disk when the source says no position (log_position null)', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    const report = await engine.replay();
    await writeMemoryFiles(dir, report);
    const { sessions, tokenHistories } = report;
    expect((await writeMemoryFiles(dir, { sessions, tokenHistories })).written).toEqual(['sessions/session-state.json']);
    expect((await sessionState(dir)).log_position).toBeNull();
  });

  it('lets four processes write one folder at once: no write fails, and the newest position is the one left', async () => {
    const dir = await tempDir('moai-memory-race-');
    try {
      await mkdir(join(dir, 'sessions'));
      // Process k writes positions k, k+4, k+8, ... (40 writes each): 160 writes interleaved, the newest 160.
      const results = await Promise.all(
        [1, 2, 3, 4].map((k) =>
          run(process.execPath, ['--import', 'tsx', child, dir, String(k), '4', '40']).then(
            ({ stdout }) => JSON.parse(stdout) as { errors: string[] },
          ),
        ),
      );
      expect(results.flatMap((r) => r.errors)).toEqual([]);
      expect((await sessionState(dir)).log_position).toBe(160);
      // No temporary file or lock is left behind (the lock's folder stays, empty).
      expect((await readdir(join(dir, 'sessions'))).sort()).toEqual([
        '.memory-files.lock',
        'active-tasks.md',
        'context-cache.json',
        'session-state.json',
        'token-usage.log',
      ]);
      expect(await readdir(join(dir, 'sessions', '.memory-files.lock'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('has an embedded sync read the log again when another writer appended in between, so its files miss nothing', async () => {
    const dir = await tempDir('moai-memory-gap-');
    const store = createMemoryEventStore();
    const ours = await createEngine({ store, dir });
    const other = await createEngine({ store }); // another process on the same (shared) log
    try {
      const sync = await createMemorySync(ours, { dir, debounceMs: 10_000 });
      const mine = await ours.startSession({ sessionId: 'mine', agent: 'a', model: 'claude-sonnet-4-5' }); // position 1
      await other.startSession({ sessionId: 'theirs', agent: 'b', model: 'claude-sonnet-4-5' }); // position 2, not seen live
      await mine.addTask({ taskId: 't1', title: 'One' }); // position 3: a gap after 1
      await sync.close();
      const state = await sessionState(dir);
      expect(state.log_position).toBe(3);
      expect(Object.keys(state.sessions).sort()).toEqual(['mine', 'theirs']);
      expect(await checkMemorySync(ours, dir)).toEqual({ inSync: true, differences: [] });
    } finally {
      await other.close();
      await ours.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
