// R3: an index file is synced before it is renamed into place, and its folder
// after, so a power cut cannot leave an empty or partial index file in place
// (the store keeps a sound-looking index file as evidence). Watched with strace
// on a real process: the system calls, not a mock.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;

describe('writing a segment index file', () => {
  it.runIf(hasStrace)('syncs the temporary file before the rename and the folder after it', async () => {
    const root = await tempDir('moai-index-sync-');
    const dir = join(root, 'events');
    const trace = join(root, 'trace');
    const script = `
      const { openFileEventStore } = await import(${JSON.stringify(join(import.meta.dirname, '../../src/index.ts'))});
      const store = await openFileEventStore({ dir: process.argv[1] });
      await store.append('s1', [{ id: 'e1', type: 'TaskAdded', meta: { at: '2026-01-01T00:00:00.000Z' }, data: { taskId: 't1', title: 'T' } }]);
      await store.close(); // writes the active segment's index file
    `;
    const run = spawnSync(
      'strace',
      ['-f', '-qq', '-e', 'trace=openat,fsync,fdatasync,rename,renameat,renameat2,close', '-o', trace, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script, dir],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const calls = (await readFile(trace, 'utf8')).split('\n').map((line) => line.replace(/^\d+\s+/, ''));
    const idx = join(dir, 'segment-000001.idx');
    const opened = calls.findIndex((c) => c.startsWith('openat(') && c.includes(`"${idx}.`) && c.includes('.tmp"'));
    expect(opened, 'the temporary index file is opened').toBeGreaterThan(-1);
    const fd = /= (\d+)$/.exec(calls[opened]!)![1];
    const renamed = calls.findIndex((c) => /^rename(at2?)?\(/.test(c) && c.includes(`"${idx}"`));
    expect(renamed).toBeGreaterThan(opened);
    const synced = calls.slice(opened, renamed).some((c) => new RegExp(`^f(data)?sync\\(${fd}\\)`).test(c));
    expect(synced, 'fsync of the temporary file before the rename').toBe(true);
    const after = calls.slice(renamed);
    const folderOpen = after.findIndex((c) => c.startsWith('openat(') && c.includes(`"${dir}"`));
    expect(folderOpen, 'the folder is opened after the rename').toBeGreaterThan(-1);
    const folderFd = /= (\d+)$/.exec(after[folderOpen]!)![1];
    expect(after.slice(folderOpen).some((c) => new RegExp(`^fsync\\(${folderFd}\\)`).test(c)), 'fsync of the folder after the rename').toBe(true);
  }, 90_000);
});
