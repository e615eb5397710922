// The hook as Claude Code runs it: real processes of the built binary, many at
// once, contending for the writer lock; what cannot get it waits in the spool.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openFileEventStore } from '../../../src/index.js';
import { listFailedSpool, listSpool } from '../../../src/integrations/claude-code/hookSpool.js';
import { readHookLog } from '../../../src/integrations/claude-code/hookLog.js';
import { BINARY, runBinary } from '../../cli/runBinary.js';
import { base, readSession, tempProject } from './hookHelpers.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

function project() {
  const made = tempProject('moai-hook-parallel-');
  cleanups.push(made.remove);
  return made;
}

/** One hook process: the payload on its standard input, in `cwd`, with `CLAUDE_PROJECT_DIR` set as Claude Code sets it. */
function hookProcess(root: string, payload: unknown, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BINARY, 'hook', ...args], { cwd: root, env: { ...process.env, CLAUDE_PROJECT_DIR: root }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(JSON.stringify(payload));
  });
}

const taskCreate = (i: number) => ({
  ...base('par', '/nowhere/par.jsonl', 'PostToolUse'),
  tool_name: 'TaskCreate',
  tool_use_id: `toolu_${i}`,
  tool_input: { subject: `Task number ${i}`, description: 'd' },
  tool_response: { task: { id: String(i), subject: `Task number ${i}` } },
});

describe('hooks in parallel', () => {
  it('loses none and applies none twice of 50 payloads fired at once from separate processes', { timeout: 120_000 }, async () => {
    const { root, dir } = project();
    // The session exists first, as SessionStart makes it before any tool runs.
    expect((await hookProcess(root, { ...base('par', '/nowhere/par.jsonl', 'SessionStart'), source: 'startup' })).code).toBe(0);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => hookProcess(root, taskCreate(i))));
    expect(results.map((r) => r.code)).toEqual(Array(50).fill(0));
    expect(results.map((r) => r.stdout + r.stderr).join('')).toBe('');
    // What a run found the lock busy for waits for the next run; --drain is that run.
    const drained = await runBinary(['hook', '--drain', '--dir', dir], root);
    expect(drained.code).toBe(0);
    expect(listSpool(dir)).toEqual([]);
    expect(listFailedSpool(dir)).toEqual([]);
    const { events, view } = await readSession(dir, 'par');
    const added = events.filter((e) => e.type === 'TaskAdded').map((e) => e.data.toolUseId as string);
    expect(added).toHaveLength(50);
    expect(new Set(added).size).toBe(50);
    expect([...view!.tasks.byId.keys()].sort()).toEqual(Array.from({ length: 50 }, (_, i) => `task-${i}`).sort());
    expect(readHookLog(dir).filter((entry) => entry.level === 'error')).toEqual([]);
  });

  it('spools a payload while another process holds the lock, prints the SessionStart context read-only, and applies the spool in order', { timeout: 60_000 }, async () => {
    const { root, dir } = project();
    const todo = (id: string, status: string) => ({
      ...base('ord', '/nowhere/ord.jsonl', 'PostToolUse'),
      tool_name: 'TodoWrite',
      tool_use_id: id,
      tool_input: { todos: [{ content: 'Ship it', status, activeForm: 'Shipping it' }] },
    });
    expect((await hookProcess(root, todo('t0', 'pending'))).code).toBe(0);
    const store = await openFileEventStore({ dir: join(dir, 'events') });
    let released = false;
    try {
      for (const [id, status] of [['t1', 'in_progress'], ['t2', 'completed']] as const) {
        const run = await hookProcess(root, todo(id, status));
        expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
      }
      const start = await hookProcess(root, { ...base('ord', '/nowhere/ord.jsonl', 'SessionStart'), source: 'resume' });
      expect(JSON.parse(start.stdout).hookSpecificOutput.additionalContext).toContain('[pending] Ship it');
      expect(listSpool(dir)).toHaveLength(3);
      await store.close();
      released = true;
      const drained = await runBinary(['hook', '--drain', '--dir', dir], root);
      expect(drained.stdout).toBe('Applied 3 spooled payloads; 0 waiting.\n');
    } finally {
      if (!released) await store.close();
    }
    const { events, view } = await readSession(dir, 'ord');
    expect(events.filter((e) => e.type === 'TaskTransitioned').map((e) => [e.data.event, e.data.toolUseId])).toEqual([
      ['START', 't1'],
      ['COMPLETE', 't2'],
    ]);
    expect([...view!.tasks.byId.values()].map((t) => [t.title, t.state])).toEqual([['Ship it', 'completed']]);
    expect(readdirSync(join(dir, 'spool', 'claude-code')).filter((name) => name.endsWith('.json'))).toEqual([]);
  });
});
