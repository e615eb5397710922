// Stale writer locks (issue 9, defect 5): on this host a lock whose owner is
// gone is taken over at once, and the writer says so; a lock from another
// host is stale only after 10 s without a touch, and the refusal names the host.
import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLogLockedError, openFileEventStore, type FileEventStore } from '../../src/index.js';
import { sampleEvent } from '../../src/testing/index.js';
import { runInProcess } from '../cli/runInProcess.js';

const stores: FileEventStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function freshDir(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'moai-lock-')), 'events');
  await mkdir(dir, { recursive: true });
  return dir;
}

async function open(dir: string, lockWaitMs = 0): Promise<FileEventStore> {
  const store = (await openFileEventStore({ dir, lockWaitMs })) as FileEventStore;
  stores.push(store);
  return store;
}

/** The pid of a process that has exited (and been reaped): no process has it now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

/** This process's PID namespace, as a writer records it (Linux), or undefined. */
function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** A lock file as a writer of this host and PID namespace writes it (unless `pidNamespace` says another). */
function lockFile(owner: { pid: number; host: string; pidNamespace?: string }): string {
  return `${JSON.stringify({ pidNamespace: pidNamespace(), ...owner, since: '2026-12-04T10:00:00.000Z', token: 'the-old-token' })}\n`;
}

describe('a stale writer lock', () => {
  it('is taken over at once when its owner on this host is no longer running, with a warning that says whose it was', async () => {
    const dir = await freshDir();
    const pid = await deadPid();
    await writeFile(join(dir, 'writer.lock'), lockFile({ pid, host: hostname() })); // touched just now
    const started = Date.now();
    const store = await open(dir);
    expect(Date.now() - started).toBeLessThan(2_000); // not the 10 s of the time rule
    expect(store.warnings).toHaveLength(1);
    expect(store.warnings[0]).toMatchObject({ code: 'LOCK_TAKEN_OVER' });
    expect(store.warnings[0]!.message).toContain(`pid ${pid} on this host`);
    expect(store.warnings[0]!.message).toContain('no longer running');
    expect(JSON.parse(await readFile(join(dir, 'writer.lock'), 'utf8'))).toMatchObject({ pid: process.pid });
    await store.append('session-a', [sampleEvent()]);
  });

  it('is taken over at once after its owner was killed with SIGKILL (it never let go)', async () => {
    const dir = await freshDir();
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../fixtures/holdWriterLock.ts'), dir], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      child.on('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
    });
    const refused = await openFileEventStore({ dir }).catch((e: unknown) => e);
    expect(isLogLockedError(refused)).toBe(true);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const store = await open(dir);
    expect(store.warnings.map((w) => w.code)).toEqual(['LOCK_TAKEN_OVER']);
    expect(store.warnings[0]!.message).toContain(`pid ${child.pid}`);
  });

  it('from another host is refused while fresh, naming the host, and taken over once untouched for 10 s', async () => {
    const dir = await freshDir();
    const lock = join(dir, 'writer.lock');
    await writeFile(lock, lockFile({ pid: 4242, host: 'build-box-7' }));
    const refused = await openFileEventStore({ dir }).catch((e: unknown) => e);
    expect(isLogLockedError(refused)).toBe(true);
    expect((refused as Error).message).toContain('pid 4242 on host build-box-7');
    expect((refused as Error).message).toMatch(/taken over only once it has gone 10 s without a touch/);
    const old = new Date(Date.now() - 11_000);
    await utimes(lock, old, old);
    const store = await open(dir);
    expect(store.warnings[0]).toMatchObject({ code: 'LOCK_TAKEN_OVER' });
    expect(store.warnings[0]!.message).toContain('host build-box-7');
  });

  it.runIf(existsSync('/proc/self/stat'))('of a live process on this host is never taken over, however old its file', async () => {
    const dir = await freshDir();
    const lock = join(dir, 'writer.lock');
    // As a live writer writes it: with the boot, the PID namespace and the start time of its process, which tell it from a pid reused.
    const stat = readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
    const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    await writeFile(lock, `${JSON.stringify({ pid: process.ppid, host: hostname(), since: '2026-12-04T10:00:00.000Z', token: 't', bootId, startTicks, pidNamespace: pidNamespace() })}\n`);
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    const refused = await openFileEventStore({ dir }).catch((e: unknown) => e);
    expect(isLogLockedError(refused)).toBe(true);
    expect((refused as Error).message).toContain(`pid ${process.ppid} on this host`);
  });
});

describe('a writer lock from another PID namespace of this host (R19)', () => {
  it.runIf(pidNamespace() !== undefined)('is not judged by its pid: refused while fresh, naming the namespace, taken over once untouched for 10 s', async () => {
    const dir = await freshDir();
    const lock = join(dir, 'writer.lock');
    // Its pid is no process of ours (in a container it is a live one of its own namespace).
    await writeFile(lock, lockFile({ pid: await deadPid(), host: hostname(), pidNamespace: 'pid:[1]' }));
    const refused = await openFileEventStore({ dir }).catch((e: unknown) => e);
    expect(isLogLockedError(refused)).toBe(true);
    expect((refused as Error).message).toContain('in another PID namespace (pid:[1])');
    const old = new Date(Date.now() - 11_000);
    await utimes(lock, old, old);
    const store = await open(dir);
    expect(store.warnings[0]).toMatchObject({ code: 'LOCK_TAKEN_OVER' });
    expect(store.warnings[0]!.message).toMatch(/in another PID namespace .*had not touched it for 11 s/);
  });

  it.runIf(pidNamespace() !== undefined)('that records no namespace (an earlier version) is judged by the time rule too', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'writer.lock'), `${JSON.stringify({ pid: await deadPid(), host: hostname(), since: '2026-12-04T10:00:00.000Z', token: 't' })}\n`);
    const refused = await openFileEventStore({ dir }).catch((e: unknown) => e);
    expect(isLogLockedError(refused)).toBe(true);
    expect((refused as Error).message).toContain('its PID namespace not recorded');
  });

  const canUnshare = pidNamespace() !== undefined && spawnSync('unshare', ['-p', '-f', '--mount-proc', 'true']).status === 0;
  it.runIf(canUnshare)('held by a live writer under `unshare -p` is refused, not taken over (its pid 1 is another process here)', async () => {
    const dir = await freshDir();
    const child = spawn('unshare', ['-p', '-f', '--mount-proc', process.execPath, '--import', 'tsx', join(import.meta.dirname, '../fixtures/holdWriterLock.ts'), dir], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
        child.on('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
      });
      const owner = JSON.parse(await readFile(join(dir, 'writer.lock'), 'utf8')) as { pid: number; pidNamespace: string };
      expect(owner.pidNamespace).not.toBe(pidNamespace());
      const refused = await openFileEventStore({ dir }).catch((e: unknown) => e);
      expect(isLogLockedError(refused), String(refused)).toBe(true);
      expect((refused as Error).message).toContain(`pid ${owner.pid} on this host in another PID namespace`);
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.stdin.end();
      await exited;
    }
  });
});

describe('a write command on a log whose writer crashed', () => {
  it('goes ahead at once and says whose lock it took over', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'moai-lock-cli-'));
    expect((await runInProcess(['start', '--session', 's1', '--agent', 'a', '--model', 'claude-sonnet-4-5'], cwd)).code).toBe(0);
    const pid = await deadPid();
    await writeFile(join(cwd, '.moai', 'events', 'writer.lock'), lockFile({ pid, host: hostname() }));
    const result = await runInProcess(['task', 'add', 's1', 't1', '--title', 'T'], cwd);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`warning: Took over the writer lock of .*pid ${pid} on this host.*no longer running`));
  });
});

describe('processes racing to take over one stale lock', () => {
  const DIST = join(import.meta.dirname, '../../dist/src/index.js');
  it.skipIf(!existsSync(DIST))('lets exactly one take it over and the others wait their turn: every append kept, none at once', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'writer.lock'), lockFile({ pid: await deadPid(), host: hostname() }));
    // Each holds the lock a moment, appends three events in one append, and says whether it took a lock over.
    const script = `
      const { openFileEventStore } = await import(${JSON.stringify(DIST)});
      const store = await openFileEventStore({ dir: process.argv[1], lockWaitMs: 20000 });
      const tookOver = store.warnings.some((w) => w.code === 'LOCK_TAKEN_OVER');
      const events = [0, 1, 2].map((i) => ({ id: process.pid + '-' + i, type: 'TaskAdded', meta: { at: '2026-01-01T00:00:00.000Z' }, data: { taskId: 't' + process.pid + i, title: 'Race' } }));
      await new Promise((r) => setTimeout(r, 50));
      await store.append('session-p' + process.pid, events);
      await store.close();
      process.stdout.write(tookOver ? 'took-over' : 'waited');
    `;
    const racers = await Promise.all(
      Array.from({ length: 4 }, () => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        return new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
      }),
    );
    expect(racers.map((r) => r.code), racers.map((r) => r.err).join('\n')).toEqual([0, 0, 0, 0]);
    expect(racers.filter((r) => r.out === 'took-over')).toHaveLength(1);
    const store = await open(dir);
    const positions: number[] = [];
    const streams: string[] = [];
    for await (const event of store.readAll()) {
      positions.push(event.position);
      streams.push(event.stream);
    }
    expect(positions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // Appends are whole and never interleaved: each stream's three events are next to each other.
    for (let i = 0; i < 12; i += 3) expect(new Set(streams.slice(i, i + 3)).size).toBe(1);
  });
});
