import { spawn } from 'node:child_process';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { runBinary } from './runBinary.js';

const checksummed = (value: unknown): string => {
  const json = JSON.stringify(value);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
};

/** A log written by hand: a session with one task, then whatever `extra` adds. */
async function handWrittenLog(extra: unknown[] = []): Promise<{ cwd: string; segment: string }> {
  const cwd = await tempDir('moai-cli-');
  await mkdir(join(cwd, '.moai', 'events'), { recursive: true });
  const segment = join(cwd, '.moai', 'events', 'segment-000001.jsonl');
  const base = (position: number, type: string, data: unknown) => ({
    position,
    stream: 'session-h',
    version: position,
    id: `e${position}`,
    type,
    schemaVersion: 1,
    meta: { at: `2026-01-01T00:00:0${position}.000Z`, agent: 'a' },
    data,
  });
  const events = [
    base(1, 'SessionStarted', { sessionId: 'h', agent: 'a', model: 'claude-sonnet-4-5' }),
    base(2, 'TaskAdded', { taskId: 't', title: 'T' }),
    base(3, 'TaskTransitioned', { taskId: 't', event: 'START', from: 'pending', to: 'in_progress' }),
    base(4, 'TaskTransitioned', { taskId: 't', event: 'BLOCK', from: 'in_progress', to: 'blocked' }),
    ...extra.map((data, i) => ({ ...base(5 + i, 'TaskTransitioned', data) })),
  ];
  await writeFile(segment, events.map(checksummed).join(''));
  return { cwd, segment };
}

describe('moai-session demo', () => {
  it('runs a two-agent workflow, and a second run resumes from the log', async () => {
    const cwd = await tempDir('moai-cli-');
    const first = await runBinary(['demo'], cwd);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Started session demo');
    expect(first.stdout).toMatch(/implementer\s+r1-impl\s+BLOCK\s+-> blocked/);
    expect(first.stdout).toMatch(/implementer\s+r1-tests\s+FAIL\s+-> failed/);
    expect(first.stdout).toMatch(/implementer\s+r1-tests\s+RECOVER\s+-> recovered/);
    expect(first.stdout).toContain('agent     spec-writer (agents: spec-writer, implementer)');
    expect(first.stdout).toContain('Log: 24 events');

    const second = await runBinary(['demo'], cwd);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Resumed session demo from the log');
    expect(second.stdout).toContain('at version 24');
    expect(second.stdout).toContain('Tasks (8)');
    expect(second.stdout).toMatch(/r1-spec\s+completed/);
    expect(second.stdout).toContain('Log: 48 events');

    const replay = await runBinary(['replay'], cwd);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('Replayed 48 events of 1 session(s)');
    expect(replay.stdout).toContain('Every recorded task transition agrees with the task machine.');
  });

  it('refuses to run while another process writes the same log', async () => {
    const cwd = await tempDir('moai-cli-');
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../fixtures/holdWriterLock.ts'), join(cwd, '.moai', 'events')],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.on('data', (c: Buffer) => c.toString().includes('locked') && resolve()));
    const result = await runBinary(['demo'], cwd);
    holder.stdin.end();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^moai-session: The event log in .* is being written by another process \(pid \d+ on .*\)\. Only one writer/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('moai-session events, state and replay', () => {
  it('prints the log one event a line, as text or JSON, filtered by session and start', async () => {
    const cwd = await tempDir('moai-cli-');
    await runBinary(['demo'], cwd);
    const text = await runBinary(['events'], cwd);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(24);
    expect(lines[0]).toMatch(/^\s+1\s+session-demo v1\s+\S+\s+SessionStarted\s+demo by spec-writer on claude-sonnet-4-5/);
    const json = await runBinary(['events', '--json', '--session', 'demo', '--from', '20'], cwd);
    const events = json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { version: number; type: string });
    expect(events.map((e) => e.version)).toEqual([20, 21, 22, 23, 24]);
  });

  it('shows a session now and at an earlier version', async () => {
    const { cwd } = await handWrittenLog();
    const now = await runBinary(['state', 'h'], cwd);
    expect(now.code).toBe(0);
    expect(now.stdout).toMatch(/t\s+blocked\s+2\s+T/);
    const earlier = await runBinary(['state', 'h', '--at', '3', '--json'], cwd);
    const view = JSON.parse(earlier.stdout) as { version: number; tasks: { byId: Record<string, { state: string }> } };
    expect(view.version).toBe(3);
    expect(view.tasks.byId.t!.state).toBe('in_progress');
  });

  it('exits 3 and names the event when replay finds a divergence', async () => {
    const { cwd } = await handWrittenLog([{ taskId: 't', event: 'COMPLETE', from: 'blocked', to: 'completed' }]);
    const result = await runBinary(['replay'], cwd);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('1 divergence(s)');
    expect(result.stdout).toContain(
      'session-h v5 (position 5): task t recorded blocked -COMPLETE-> completed, but the machine does not accept COMPLETE in blocked.',
    );
    const json = await runBinary(['replay', '--json'], cwd);
    expect(json.code).toBe(3);
    expect((JSON.parse(json.stdout) as { divergences: { version: number }[] }).divergences[0]!.version).toBe(5);
  });

  it('replays one session up to a version', async () => {
    const { cwd } = await handWrittenLog();
    const result = await runBinary(['replay', '--session', 'h', '--until', '3'], cwd);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Replayed 3 events');
    expect(result.stdout).toContain('h: active at v3; tasks: 1 in_progress');
  });
});

describe('bad input', () => {
  it('names an unknown session and the known ones', async () => {
    const { cwd } = await handWrittenLog();
    const result = await runBinary(['state', 'nope'], cwd);
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'moai-session: No session "nope" in the log. Known sessions: h.\n' });
  });

  it('refuses a bad --at, a version that does not exist yet, and a missing session id', async () => {
    const { cwd } = await handWrittenLog();
    expect(await runBinary(['state', 'h', '--at', 'abc'], cwd)).toMatchObject({
      code: 1,
      stderr: 'moai-session: --at takes a whole number from 1, not "abc".\n',
    });
    expect(await runBinary(['state', 'h', '--at', '99'], cwd)).toMatchObject({
      code: 1,
      stderr: 'moai-session: Session h has 4 events; --at 99 does not exist yet.\n',
    });
    const missing = await runBinary(['state'], cwd);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'sessionId'");
    expect(await runBinary(['replay', '--until', '2'], cwd)).toMatchObject({ code: 1 });
  });

  it('says clearly when the state folder is missing or unreadable', async () => {
    const cwd = await tempDir('moai-cli-');
    const missing = await runBinary(['events'], cwd);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`No moai-session state folder at ${join(cwd, '.moai')}`);
    await mkdir(join(cwd, '.moai'));
    await writeFile(join(cwd, '.moai', 'events'), 'not a folder');
    const unreadable = await runBinary(['events'], cwd);
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toMatch(/^moai-session: Cannot read the event log folder .*\.moai\/events: ENOTDIR/);
    const demo = await runBinary(['demo'], cwd);
    expect(demo.code).toBe(1);
    expect(demo.stderr).toMatch(/^moai-session: /);
    expect(await readFile(join(cwd, '.moai', 'events'), 'utf8')).toBe('not a folder');
  });

  it('reports an unknown event type in the log with file and line, exits 4, and changes nothing', async () => {
    const { cwd, segment } = await handWrittenLog();
    await appendFile(
      segment,
      checksummed({
        position: 5,
        stream: 'session-h',
        version: 5,
        id: 'e5',
        type: 'TaskVanished',
        schemaVersion: 1,
        meta: { at: '2026-01-01T00:00:05.000Z' },
        data: {},
      }),
    );
    const before = await readFile(segment, 'utf8');
    for (const args of [['events'], ['replay'], ['state', 'h']]) {
      const result = await runBinary(args, cwd);
      expect(result.code).toBe(4);
      expect(result.stderr).toContain(`${segment}:5`);
      expect(result.stderr).toContain('unknown event type "TaskVanished"');
    }
    expect(await readFile(segment, 'utf8')).toBe(before);
    // Other sessions can still be written; what was stored stays byte for byte.
    const demo = await runBinary(['demo', '--session', 'other'], cwd);
    expect(demo.code).toBe(0);
    expect((await readFile(segment, 'utf8')).startsWith(before)).toBe(true);
  });

  it('prints --help for every command and exits 0', async () => {
    const cwd = await tempDir('moai-cli-');
    const top = await runBinary(['--help'], cwd);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Exit codes:');
    for (const command of ['demo', 'events', 'state', 'replay']) {
      const help = await runBinary([command, '--help'], cwd);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: moai-session ${command}`);
    }
  });
});
