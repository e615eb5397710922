import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileViewSnapshots } from '../../src/checkpoints/viewSnapshots.js';
import { loadSessionView } from '../../src/engine/loadSessionView.js';
import { createEngine, openStateFolder, openStateFolderLog, sessionViewToJson } from '../../src/index.js';
import { runInProcess } from '../cli/runInProcess.js';
import { sequentialIds, steppingClock, tempDir } from '../helpers.js';

/** A state folder whose engine worked on session s (tasks, usage) and closed. */
async function folderWithWork(): Promise<{ dir: string; file: string }> {
  const dir = await tempDir();
  const engine = await createEngine({ dir, clock: steppingClock(), ids: sequentialIds() });
  const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
  for (let i = 0; i < 20; i++) {
    await session.addTask({ taskId: `t${i}`, title: `Task ${i}` });
    await session.sendTask(`t${i}`, 'START');
    await session.recordUsage({ input_tokens: 1_000 * i, output_tokens: 10 });
  }
  await engine.close();
  return { dir, file: join(dir, 'cache', 'views', 's.json') };
}

async function loadBoth(dir: string) {
  const store = await openStateFolderLog({ dir });
  try {
    const fromSnapshot = await loadSessionView(store, 's', { snapshots: createFileViewSnapshots(dir) });
    const fromLog = await loadSessionView(store, 's');
    return { fromSnapshot: fromSnapshot!, fromLog: fromLog! };
  } finally {
    await store.close();
  }
}

describe('view snapshots', () => {
  it('are written by an engine that closes, and a load reads one instead of the session, with the same view', async () => {
    const { dir } = await folderWithWork();
    expect(await readdir(join(dir, 'cache', 'views'))).toEqual(['s.json']);
    const { fromSnapshot, fromLog } = await loadBoth(dir);
    expect(fromSnapshot.fromSnapshot).toBe(true);
    expect(fromSnapshot.eventsFolded).toBe(0);
    expect(fromLog.eventsFolded).toBe(61);
    expect(sessionViewToJson(fromSnapshot.view)).toEqual(sessionViewToJson(fromLog.view));
  });

  it('carry on from the snapshot with the events written after it', async () => {
    const { dir } = await folderWithWork();
    // Another writer appends without leaving a snapshot: the snapshot is behind the log, and still a start.
    const engine = await createEngine({ dir, snapshots: false, clock: steppingClock() });
    const session = await engine.openSession('s');
    await session.sendTask('t0', 'COMPLETE');
    await engine.close();
    const { fromSnapshot, fromLog } = await loadBoth(dir);
    expect(fromSnapshot.fromSnapshot).toBe(true);
    expect(fromSnapshot.eventsFolded).toBe(1);
    expect(fromSnapshot.view.tasks.byId.get('t0')?.state).toBe('completed');
    expect(sessionViewToJson(fromSnapshot.view)).toEqual(sessionViewToJson(fromLog.view));
  });

  it('are ignored when damaged, of another format, or not what the log holds at their version', async () => {
    const { dir, file } = await folderWithWork();
    const good = await readFile(file, 'utf8');
    const [headerLine, stateLine] = [good.slice(0, good.indexOf('\n')), good.slice(good.indexOf('\n') + 1)];
    const header = JSON.parse(headerLine) as Record<string, unknown>;
    const variants = [
      `${headerLine}\n${stateLine.replace('"Task 3"', '"Task 33"')}`, // the state changed under its checksum
      `${JSON.stringify({ ...header, format: 999 })}\n${stateLine}`, // written by another version
      `${JSON.stringify({ ...header, eventId: 'not-the-event' })}\n${stateLine}`, // the log has another event there
      'not a snapshot at all',
    ];
    for (const text of variants) {
      await writeFile(file, text);
      const { fromSnapshot, fromLog } = await loadBoth(dir);
      expect(fromSnapshot.fromSnapshot).toBeUndefined();
      expect(sessionViewToJson(fromSnapshot.view)).toEqual(sessionViewToJson(fromLog.view));
    }
  });

  it('are read by the command line and never written by a reader', async () => {
    const { dir, file } = await folderWithWork();
    const before = await readFile(file, 'utf8');
    // A writer appends meanwhile without a snapshot; readers fold the tail but leave the snapshot as it was.
    const engine = await createEngine({ dir, snapshots: false, clock: steppingClock() });
    await (await engine.openSession('s')).sendTask('t1', 'BLOCK');
    await engine.close();
    const reading = await openStateFolder({ dir, mode: 'read' });
    expect((await reading.engine.openSession('s')).task('t1')?.state).toBe('blocked');
    await reading.close();
    const state = await runInProcess(['--dir', dir, 'state', 's', '--json'], dir);
    expect(state.code).toBe(0);
    expect((JSON.parse(state.stdout) as { version: number }).version).toBe(62);
    expect(await readFile(file, 'utf8')).toBe(before);
  });
});
