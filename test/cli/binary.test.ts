// End-to-end tests of the built binary, as real processes: only what a process
// boundary decides (the shebang and exit status, a closed pipe, standard input,
// the writer lock between processes). Everything else about the CLI is tested
// in-process (runInProcess) in the other files of this folder.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFileEventStore } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { checksummed } from './logLines.js';
import { BINARY, runBinary } from './runBinary.js';
import { runInProcess } from './runInProcess.js';

/**
 * Take the writer lock of the log in `cwd` in this process (the test's worker), so the binary
 * is the second of two processes contending for it; `release` closes the store, freeing it.
 */
async function holdWriterLock(cwd: string): Promise<{ release: () => Promise<void> }> {
  const store = await openFileEventStore({ dir: join(cwd, '.moai', 'events') });
  return { release: () => store.close() };
}

describe('the moai-session binary', () => {
  it('builds a binary that runs on its own, as npx runs it (executable, with its shebang)', async () => {
    expect(statSync(BINARY).mode & 0o111).not.toBe(0);
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(BINARY, ['--help'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout }));
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: moai-session');
  });

  it("runs the README's demo in a fresh folder", async () => {
    const cwd = await tempDir('moai-cli-e2e-');
    const result = await runBinary(['demo'], cwd);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('Started session demo');
    expect(result.stdout).toContain('Log: 66 events of session demo');
    expect(existsSync(join(cwd, '.moai', 'events', 'segment-000001.jsonl'))).toBe(true);
  });

  it('stops quietly, exit 0, when the reader of its output goes away (moai-session events | head)', async () => {
    const cwd = await tempDir('moai-cli-e2e-');
    await mkdir(join(cwd, '.moai', 'events'), { recursive: true });
    // Far more output than a pipe holds, so the binary is still writing when the reader leaves.
    const event = (position: number, type: string, data: unknown) => ({
      position,
      stream: 'session-p',
      version: position,
      id: `e${position}`,
      type,
      schemaVersion: 1,
      meta: { at: '2026-01-01T00:00:00.000Z', agent: 'a' },
      data,
    });
    const lines = [checksummed(event(1, 'SessionStarted', { sessionId: 'p', agent: 'a', model: 'claude-sonnet-4-5' }))];
    for (let position = 2; position <= 5000; position++) {
      lines.push(checksummed(event(position, 'TaskAdded', { taskId: `t${position}`, title: `Task number ${position}` })));
    }
    await writeFile(join(cwd, '.moai', 'events', 'segment-000001.jsonl'), lines.join(''));

    const result = await new Promise<{ code: number | null; signal: string | null; read: number; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BINARY, 'events'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let read = 0;
      let stderr = '';
      child.stdout.once('data', (chunk: Buffer) => {
        read = chunk.length;
        child.stdout.destroy(); // as `head` exits after its first lines
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, read, stderr }));
    });
    expect(result.read).toBeGreaterThan(0);
    expect(result.read).toBeLessThan(5000 * 40); // it had not written everything: the pipe closed under it
    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
  });

  it('finishes a write command and its memory files when the reader of its output goes away early', async () => {
    const cwd = await tempDir('moai-cli-e2e-');
    expect((await runInProcess(['start', '--agent', 'a', '--model', 'claude-sonnet-4-5', '--session', 's'], cwd)).code).toBe(0);
    // The reader is gone before the command writes a byte.
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BINARY, 'task', 'add', 's', 't', '--title', 'Written with nobody reading'], {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect((await runInProcess(['task', 'list', 's'], cwd)).stdout).toContain('Written with nobody reading');
    const check = await runInProcess(['debug', '--check-memory-sync'], cwd);
    expect(check.code).toBe(0);
  });

  it('reads a package from standard input through a real pipe, in more than one chunk', async () => {
    const cwd = await tempDir('moai-cli-e2e-');
    expect((await runInProcess(['start', '--agent', 'spec-writer', '--model', 'claude-sonnet-4-5', '--session', 's'], cwd)).code).toBe(0);
    const created = await runInProcess(['handoff', 'create', 's', '--to', 'implementer', '--summary', 'Spec done', '--json'], cwd);
    expect(created.code).toBe(0);
    const handoffId = (JSON.parse(created.stdout) as { handoff_id: string }).handoff_id;

    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BINARY, 'handoff', 'validate', '-'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      // Half now, the rest a moment later: the package is whole only if the binary reads to the end of input.
      const half = Math.floor(created.stdout.length / 2);
      child.stdin.write(created.stdout.slice(0, half));
      setTimeout(() => child.stdin.end(created.stdout.slice(half)), 100);
    });
    expect(result).toMatchObject({ code: 0, stdout: `Handoff ${handoffId} (stdin) is valid.\n`, stderr: '' });
  });

  it('exits 70 on an internal error, saying so in one line and how to see the stack', async () => {
    const cwd = await tempDir('moai-cli-e2e-');
    // A bug inside a command, made by the preloaded module: every write to stdout throws a plain Error.
    const nodeOptions = ['--import', join(import.meta.dirname, 'fixtures', 'throwOnStdout.mjs')];
    expect(await runBinary(['config', 'schema'], cwd, { nodeOptions })).toMatchObject({
      code: 70,
      stdout: '',
      stderr: 'moai-session: internal error: injected fault: stdout.write\nRerun with --debug for the stack, and report it.\n',
    });
  });
});

describe('the writer lock between processes', () => {
  it('gives up on a log another process writes with exit 5 (busy) when told not to wait', async () => {
    const cwd = await tempDir('moai-cli-');
    const holder = await holdWriterLock(cwd);
    const result = await runBinary(['--wait', '0', 'demo'], cwd);
    await holder.release();
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^moai-session: The event log in .* is being written by another process \(pid \d+ on .*\)\. Only one writer/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('waits for the other writer to finish, then does its work', async () => {
    const cwd = await tempDir('moai-cli-');
    const holder = await holdWriterLock(cwd);
    const started = Date.now();
    const waiting = runBinary(['start', '--agent', 'a', '--model', 'claude-sonnet-4-5', '--session', 's'], cwd);
    setTimeout(() => void holder.release(), 700);
    const result = await waiting;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect((await runInProcess(['state', 's'], cwd)).stdout).toContain('Session s');
  });

  it('takes the writer lock to rewrite the memory files, so it never races a write command', async () => {
    const cwd = await tempDir('moai-cli-');
    expect((await runInProcess(['demo'], cwd)).code).toBe(0);
    const holder = await holdWriterLock(cwd);
    const refused = await runBinary(['replay', '--write-memory-files', '--wait', '300'], cwd);
    const reading = await runBinary(['replay'], cwd); // a plain replay only reads: no lock needed
    await holder.release();
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/is being written by another process/);
    expect(reading.code).toBe(0);
    const rewritten = await runInProcess(['replay', '--write-memory-files'], cwd);
    expect(rewritten.code).toBe(0);
    expect(rewritten.stdout).toContain('The memory files already matched the log.');
  });
});
