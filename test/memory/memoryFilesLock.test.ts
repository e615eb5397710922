import { execFile, spawn } from 'node:child_process';
import { mkdir, open, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { checkMemorySync, writeMemoryFiles } from '../../src/memory/index.js';
import { runInProcess } from '../cli/runInProcess.js';
import { tempDir } from '../helpers.js';
import { memoryEngine, runCleanup, smallLog } from './fixture.js';

afterEach(runCleanup);

const run = promisify(execFile);
const child = join(import.meta.dirname, 'children', 'writeMemoryFiles.ts');

/**
 * Leave the memory-files lock as a process killed with kill -9 in the middle
 * of a memory-file write leaves it: a child writes the files of `dir`, and
 * one of them is a FIFO, so its read of that file waits (holding the lock)
 * until this process opens the FIFO's other end; then it is killed, and the
 * FIFO removed. Returns the dead child's pid.
 */
async function killWriterMidWrite(dir: string): Promise<number> {
  await mkdir(join(dir, 'sessions'), { recursive: true });
  const fifo = join(dir, 'sessions', 'token-usage.log');
  await rm(fifo, { force: true });
  await run('mkfifo', [fifo]);
  const writer = spawn(process.execPath, ['--import', 'tsx', child, dir, '1', '1', '1'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
  // Opening the FIFO for writing returns once the child has opened it to read: it is inside its write, lock held.
  const end = await open(fifo, 'w');
  writer.kill('SIGKILL');
  await exited;
  await end.close();
  await unlink(fifo);
  return writer.pid!;
}

describe('the memory-files lock', () => {
  it('is taken at once, and said so, when the process holding it was killed', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    const pid = await killWriterMidWrite(dir);

    const started = performance.now();
    const result = await writeMemoryFiles(dir, await engine.replay());
    const waited = performance.now() - started;
    // Before, the lock was waited out until it went stale: 10 s.
    expect(waited).toBeLessThan(5_000);
    expect(result.tookOverLock).toMatch(new RegExp(`memory-files lock .* without waiting: its owner, pid ${pid} on this host, .*is no longer running`));
    expect(result.written).toHaveLength(4);
    expect(await checkMemorySync(engine, dir)).toEqual({ inSync: true, differences: [] });
    // The next write finds no lock to take over.
    expect((await writeMemoryFiles(dir, await engine.replay())).tookOverLock).toBeUndefined();
  });

  it('costs no wait when an empty lock folder is left (an earlier version\'s lock, or made by hand)', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    await mkdir(join(dir, 'sessions', '.memory-files.lock'), { recursive: true });
    const started = performance.now();
    const result = await writeMemoryFiles(dir, await engine.replay());
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result.written).toHaveLength(4);
    expect(result.tookOverLock).toBeUndefined();
  });

  it('is still waited for while its holder is alive', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    await mkdir(join(dir, 'sessions'), { recursive: true });
    const fifo = join(dir, 'sessions', 'token-usage.log');
    await run('mkfifo', [fifo]);
    const writer = spawn(process.execPath, ['--import', 'tsx', child, dir, '1000', '1', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let printed = '';
    writer.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
    const end = await open(fifo, 'w'); // the child holds the lock, waiting on the FIFO
    const ours = writeMemoryFiles(dir, await engine.replay()); // position 13: older than the child's 1000
    let settled = false;
    void ours.finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(settled).toBe(false);
    await end.close(); // the child reads an empty file, writes, and lets go
    await exited;
    expect(JSON.parse(printed)).toEqual({ errors: [] });
    const result = await ours;
    // It waited, then saw the child's newer files: nothing taken over, nothing overwritten.
    expect(result).toEqual({ written: [], unchanged: [], newerOnDisk: 1000 });
    expect(JSON.parse(await readFile(join(dir, 'sessions', 'session-state.json'), 'utf8')).log_position).toBe(1000);
  });

  it('is taken over by a CLI write command, which says so on stderr', async () => {
    const cwd = await tempDir('moai-memory-lock-cli-');
    try {
      const dir = join(cwd, '.moai');
      const start = await runInProcess(['start', '--session', 's1', '--agent', 'a', '--model', 'claude-sonnet-4-5'], cwd);
      expect(start.code).toBe(0);
      const pid = await killWriterMidWrite(dir);
      const usage = await runInProcess(['usage', 's1', '--input', '1000', '--output', '10'], cwd);
      expect(usage.code).toBe(0);
      expect(usage.stderr).toMatch(new RegExp(`memory-files lock .*pid ${pid} on this host.*is no longer running`));
      const sync = await runInProcess(['debug', '--check-memory-sync'], cwd);
      expect(sync).toMatchObject({ code: 0, stderr: '' });
      expect(await readdir(join(dir, 'sessions', '.memory-files.lock'))).toEqual([]);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }, 30_000);
});
