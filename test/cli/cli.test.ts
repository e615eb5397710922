import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { checksummed } from './logLines.js';
import { runCli } from '../../src/cli/program.js';
import { runInProcess } from './runInProcess.js';

/** A `CheckpointCreated` line for session h's `position`, with no document, long past the 7 days kept by default. */
const oldCheckpointLine = (position: number, checkpointId: string): string =>
  checksummed({
    position,
    stream: 'session-h',
    version: position,
    id: `e${position}`,
    type: 'CheckpointCreated',
    schemaVersion: 1,
    meta: { at: `2026-01-0${position}T00:00:00.000Z`, agent: 'a' },
    data: { checkpointId, reason: 'requested', position: position - 1, version: position - 1, checksum: '0'.repeat(64) },
  });

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
    const first = await runInProcess(['demo'], cwd);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Started session demo');
    expect(first.stdout).toMatch(/implementer\s+r1-impl\s+BLOCK\s+-> blocked/);
    expect(first.stdout).toMatch(/implementer\s+r1-tests\s+FAIL\s+-> failed/);
    expect(first.stdout).toMatch(/implementer\s+r1-tests\s+RECOVER\s+-> recovered/);
    // The session's capabilities, one line each: a threshold crossing, a compaction, a handoff, a fork, a recovery.
    expect(first.stdout).toMatch(/budget\s+crossed warning at 80\.0% \(160,000 of 200,000 tokens\)/);
    expect(first.stdout).toMatch(/policy\s+r1-review TOKEN_WARNING -> token_warning/);
    expect(first.stdout).toMatch(/checkpoint\s+cp-\S+ \(budget-warning\)/);
    expect(first.stdout).toMatch(/compaction\s+176,000 -> 52,800 tokens by the summariser/);
    expect(first.stdout).toMatch(/policy\s+r1-review BUDGET_OK -> in_progress/);
    expect(first.stdout).toMatch(/requested\s+r1-handoff: checkpoint cp-\S+, 147,200 tokens free/);
    expect(first.stdout).toMatch(/accepted\s+by implementer/);
    expect(first.stdout).toContain('Fork: demo-r1-alt branches from demo at v51');
    expect(first.stdout).toMatch(/ended\s+demo-r1-alt at v5; demo is still at v51/);
    expect(first.stdout).toMatch(/recovered\s+recovery-\S+: restored cp-\S+, replayed 1 event after it; r1-review -> recovered/);
    expect(first.stdout).toMatch(/implementer\s+r1-review\s+COMPLETE\s+-> completed/);
    expect(first.stdout).toContain('agent     implementer (agents: spec-writer, implementer)');
    // The context items: two critical ones recorded at the start, the traces dropped by the compaction, its summary kept.
    expect(first.stdout).toMatch(/context\s+critical constraint fsync: Acknowledge a write only once it is fsync'd/);
    expect(first.stdout).toMatch(/context\s+dropped r1-traces with the compaction: it was temporary/);
    expect(first.stdout).toContain('Context: 2 critical items, 1 supporting item, 0 temporary items after the compaction and the handoff');
    expect(first.stdout).toContain('Log: 66 events of session demo');

    const second = await runInProcess(['demo'], cwd);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Resumed session demo from the log');
    expect(second.stdout).toContain('at version 66');
    expect(second.stdout).toContain('Tasks (10)');
    expect(second.stdout).toMatch(/r1-spec\s+completed/);
    expect(second.stdout).toContain('Fork: demo-r2-alt branches from demo');
    expect(second.stdout).toMatch(/r2-review\s+completed/);
    expect(second.stdout).toContain('Log: 129 events of session demo');

    const replay = await runInProcess(['replay'], cwd);
    expect(replay.code).toBe(0);
    // The demo session and its two ended forks of five events each.
    expect(replay.stdout).toContain('Replayed 139 events of 3 sessions');
    expect(replay.stdout).toContain('demo-r2-alt: ended at v5');
    expect(replay.stdout).toContain('Every recorded task transition agrees with the task machine.');
    // Each run leaves the memory files as the log gives them.
    expect(await runInProcess(['debug', '--check-memory-sync'], cwd)).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('moai-session events, state and replay', () => {
  it('prints the log one event a line, as text or JSON, filtered by session and start', async () => {
    const cwd = await tempDir('moai-cli-');
    await runInProcess(['demo'], cwd);
    const text = await runInProcess(['events'], cwd);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(71); // the demo session's 66 and its fork's 5
    expect(lines[0]).toMatch(/^\s+1\s+session-demo v1\s+\S+\s+SessionStarted\s+demo by spec-writer on claude-sonnet-4-5/);
    const json = await runInProcess(['events', '--json', '--session', 'demo', '--from', '62'], cwd);
    const events = json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { version: number; type: string });
    expect(events.map((e) => e.version)).toEqual([62, 63, 64, 65, 66]);
    expect(events[0]!.type).toBe('RecoveryCompleted');
  });

  it('shows a session now and at an earlier version', async () => {
    const { cwd } = await handWrittenLog();
    const now = await runInProcess(['state', 'h'], cwd);
    expect(now.code).toBe(0);
    expect(now.stdout).toMatch(/t\s+blocked\s+2\s+T/);
    const earlier = await runInProcess(['state', 'h', '--at', '3', '--json'], cwd);
    const view = JSON.parse(earlier.stdout) as { version: number; tasks: { byId: Record<string, { state: string }> } };
    expect(view.version).toBe(3);
    expect(view.tasks.byId.t!.state).toBe('in_progress');
  });

  it('exits 3 and names the event when replay finds a divergence', async () => {
    const { cwd } = await handWrittenLog([{ taskId: 't', event: 'COMPLETE', from: 'blocked', to: 'completed' }]);
    const result = await runInProcess(['replay'], cwd);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('1 divergence: the machine');
    expect(result.stdout).toContain(
      'session-h v5 (position 5): task t recorded blocked -COMPLETE-> completed, but the machine does not accept COMPLETE in blocked.',
    );
    const json = await runInProcess(['replay', '--json'], cwd);
    expect(json.code).toBe(3);
    expect((JSON.parse(json.stdout) as { divergences: { version: number }[] }).divergences[0]!.version).toBe(5);
  });

  it('replays one session up to a version', async () => {
    const { cwd } = await handWrittenLog();
    const result = await runInProcess(['replay', '--session', 'h', '--until', '3'], cwd);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Replayed 3 events');
    expect(result.stdout).toContain('h: active at v3; tasks: 1 in_progress');
  });
});

describe('bad input', () => {
  it('names an unknown session and the known ones', async () => {
    const { cwd } = await handWrittenLog();
    const result = await runInProcess(['state', 'nope'], cwd);
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'moai-session: No session "nope" in the log. Known sessions: h.\n' });
  });

  it('refuses a bad --at, a version that does not exist yet, and a missing session id', async () => {
    const { cwd } = await handWrittenLog();
    expect(await runInProcess(['state', 'h', '--at', 'abc'], cwd)).toMatchObject({
      code: 1,
      stderr: 'moai-session: --at takes a whole number from 1, not "abc".\n',
    });
    expect(await runInProcess(['state', 'h', '--at', '99'], cwd)).toMatchObject({
      code: 1,
      stderr: 'moai-session: Session h has 4 events; --at 99 does not exist yet.\n',
    });
    // No session named: the current one (h, the only session, active).
    const current = await runInProcess(['state', '--json'], cwd);
    expect(current.code).toBe(0);
    expect((JSON.parse(current.stdout) as { session: { sessionId: string } }).session.sessionId).toBe('h');
    expect(await runInProcess(['replay', '--until', '2'], cwd)).toMatchObject({
      code: 2,
      stderr: 'moai-session: --until is a version of one session: give the session with --session.\n',
    });
  });

  it('says clearly when the state folder is missing or unreadable', async () => {
    const cwd = await tempDir('moai-cli-');
    const missing = await runInProcess(['events'], cwd);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`No moai-session state folder at ${join(cwd, '.moai')}`);
    await mkdir(join(cwd, '.moai'));
    await writeFile(join(cwd, '.moai', 'events'), 'not a folder');
    const unreadable = await runInProcess(['events'], cwd);
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toMatch(/^moai-session: Cannot read the event log folder .*\.moai\/events: ENOTDIR/);
    const demo = await runInProcess(['demo'], cwd);
    expect(demo.code).toBe(1);
    expect(demo.stderr).toMatch(/^moai-session: /);
    expect(await readFile(join(cwd, '.moai', 'events'), 'utf8')).toBe('not a folder');
    // A --dir that names a file: the same sentence from read and write commands.
    const file = join(cwd, '.moai', 'events');
    for (const args of [['events'], ['demo'], ['start', '--agent', 'a', '--model', 'm']]) {
      expect(await runInProcess(['--dir', file, ...args], cwd)).toMatchObject({
        code: 1,
        stderr: `moai-session: ${file} is not a folder; --dir must name a .moai state folder.\n`,
      });
    }
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
      const result = await runInProcess(args, cwd);
      expect(result.code).toBe(4);
      expect(result.stderr).toContain(`${segment}:5`);
      expect(result.stderr).toContain('unknown event type "TaskVanished"');
    }
    expect(await readFile(segment, 'utf8')).toBe(before);
    // Nor does a write command append to it, even for another session: the log is checked first.
    for (const args of [['demo', '--session', 'other'], ['task', 'add', 'h', 'u', '--title', 'U']]) {
      const result = await runInProcess(args, cwd);
      expect(result.code).toBe(4);
      expect(result.stderr).toContain(`${segment}:5`);
      expect(result.stderr).toContain('unknown event type "TaskVanished"');
    }
    expect(await readFile(segment, 'utf8')).toBe(before);
  });

  it('refuses to append to a log with a corrupt line, naming it, however the line was damaged', async () => {
    const { cwd, segment } = await handWrittenLog();
    const lines = (await readFile(segment, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"title":"T"', '"title":"X"'); // the checksum no longer matches
    const damaged = lines.join('\n');
    await writeFile(segment, damaged);
    const result = await runInProcess(['task', 'add', 'h', 'u', '--title', 'U'], cwd);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${segment}:2`);
    expect(await readFile(segment, 'utf8')).toBe(damaged);
  });

  it('says so when a write command cuts off a torn last line', async () => {
    const { cwd, segment } = await handWrittenLog();
    const whole = await readFile(segment, 'utf8');
    await appendFile(segment, whole.split('\n')[3]!.slice(0, 40)); // a crash in the middle of writing a line
    const result = await runInProcess(['task', 'add', 'h', 'u', '--title', 'U'], cwd);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`^moai-session: warning: .*torn.*${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5`, 'im'));
    expect((await readFile(segment, 'utf8')).startsWith(whole)).toBe(true);
    expect((await runInProcess(['state', 'h', '--json'], cwd)).stdout).toContain('"u"');
  });

  it('refuses a --dir that is not a state folder, and points at the .moai inside it', async () => {
    const { cwd } = await handWrittenLog();
    for (const args of [['events'], ['replay'], ['task', 'add', 'h', 'u', '--title', 'U']]) {
      const result = await runInProcess(['--dir', '.', ...args], cwd);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `moai-session: ${cwd} is not a moai-session state folder (it has no events/ or config/config.json in it); did you mean --dir ${join(cwd, '.moai')}?\n`,
      );
    }
    // A project of the user's with config/ and sessions/ folders of its own: refused, and nothing of it touched.
    const project = await tempDir('moai-cli-');
    await mkdir(join(project, 'config'));
    await mkdir(join(project, 'sessions'));
    await writeFile(join(project, 'sessions', 'active-tasks.md'), 'my own notes\n');
    const refused = await runInProcess(['--dir', '.', 'task', 'add', 'x', 't', '--title', 'T'], project);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is not a moai-session state folder');
    expect(await readFile(join(project, 'sessions', 'active-tasks.md'), 'utf8')).toBe('my own notes\n');
    expect(existsSync(join(project, 'events'))).toBe(false);
    // In a real state folder, a command refused before it appends leaves the memory files as they were.
    await mkdir(join(cwd, '.moai', 'sessions'));
    await writeFile(join(cwd, '.moai', 'sessions', 'active-tasks.md'), 'stale\n');
    expect((await runInProcess(['task', 'add', 'nope', 'u', '--title', 'U'], cwd)).code).toBe(1);
    expect(await readFile(join(cwd, '.moai', 'sessions', 'active-tasks.md'), 'utf8')).toBe('stale\n');
    expect((await runInProcess(['task', 'add', 'h', 'u', '--title', 'U'], cwd)).code).toBe(0);
    expect(await readFile(join(cwd, '.moai', 'sessions', 'active-tasks.md'), 'utf8')).not.toBe('stale\n');
    expect((await runInProcess(['--dir', '.', 'events'], join(cwd, '.moai', 'events'))).stderr).toContain('point --dir at a .moai folder');
  });

  it('refuses, for reading and writing alike, a store the environment names that this version does not have', async () => {
    const { cwd, segment } = await handWrittenLog();
    const before = await readFile(segment, 'utf8');
    // PostgreSQL is a store this version has (test/postgres); MySQL is not.
    const env = { ...process.env, MOAI_STORE_URL: 'mysql://u@127.0.0.1:3306/test' };
    // The variable is in the CliIo's env, not in this process's: every command, reading or writing, must read it there.
    for (const args of [['events'], ['state', 'h'], ['replay'], ['task', 'add', 'h', 'u', '--title', 'U']]) {
      const result = await runInProcess(args, cwd, { env });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^moai-session: (MOAI_STORE_URL names a mysql store, which this installation of moai-session cannot open|Invalid configuration in MOAI_STORE_URL: .*its scheme is mysql)/);
    }
    expect(await readFile(segment, 'utf8')).toBe(before);
    // A config that names another store is not read past, even when it has an error besides.
    await mkdir(join(cwd, '.moai', 'config'));
    await writeFile(join(cwd, '.moai', 'config', 'config.json'), '{ "store": { "kind": "postgres" }, "sesion": {} }');
    const events = await runInProcess(['events'], cwd);
    expect(events.code).toBe(1);
    expect(events.stderr).toMatch(/names a postgres store/);
  });

  it('archives checkpoints past the retention when a command appends (neither has a valid document to keep)', async () => {
    const { cwd, segment } = await handWrittenLog();
    await appendFile(segment, oldCheckpointLine(5, 'cp-old') + oldCheckpointLine(6, 'cp-newest'));
    expect((await runInProcess(['events', '--session', 'h'], cwd)).stdout).not.toContain('CheckpointArchived');
    expect((await runInProcess(['task', 'add', 'h', 'u', '--title', 'U'], cwd)).code).toBe(0);
    const archived = (await runInProcess(['events', '--session', 'h', '--json'], cwd)).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; data: { checkpointId?: string } })
      .filter((event) => event.type === 'CheckpointArchived');
    expect(archived.map((event) => event.data.checkpointId)).toEqual(['cp-old', 'cp-newest']);
  });

  it('reports what retention archived, and only warns when it cannot: the command itself succeeded', async () => {
    const { cwd, segment } = await handWrittenLog();
    await appendFile(segment, oldCheckpointLine(5, 'cp-old'));
    // cp-old's document, in its session's folder: archiving it moves it to sessions/archive/h/.
    const document = join(cwd, '.moai', 'sessions', 'checkpoints', 'h', 'cp-old.json');
    await mkdir(dirname(document), { recursive: true });
    await writeFile(document, '{"checkpointId":"cp-old","sessionId":"h"}\n');
    await writeFile(join(cwd, '.moai', 'sessions', 'archive'), 'in the way'); // the archive folder cannot be made
    const blocked = await runInProcess(['task', 'add', 'h', 'u', '--title', 'U'], cwd);
    expect(blocked.code).toBe(0);
    expect(blocked.stderr).toMatch(/^moai-session: warning: old checkpoints could not be archived \(.*(EEXIST|ENOTDIR).*\); the command's events are in the log\.$/m);
    expect(await readFile(document, 'utf8')).toContain('cp-old');
    expect((await runInProcess(['state', 'h', '--json'], cwd)).stdout).toContain('"u"');
    await rm(join(cwd, '.moai', 'sessions', 'archive'));
    const archived = await runInProcess(['task', 'add', 'h', 'v', '--title', 'V'], cwd);
    expect(archived.code).toBe(0);
    expect(archived.stderr).toContain('moai-session: archived 1 checkpoint older than session.checkpoint_retention_days: cp-old (h).');
    expect(await readFile(join(cwd, '.moai', 'sessions', 'archive', 'h', 'cp-old.json'), 'utf8')).toContain('cp-old');
    await expect(readFile(document, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('reads the log whatever state the config is in: the config is the write commands\' to report', async () => {
    const { cwd } = await handWrittenLog();
    await mkdir(join(cwd, '.moai', 'config'));
    await writeFile(join(cwd, '.moai', 'config', 'config.json'), '{ "sesion": {} }');
    for (const args of [['events'], ['state', 'h'], ['replay']]) expect((await runInProcess(args, cwd)).code).toBe(0);
    const write = await runInProcess(['task', 'add', 'h', 'u', '--title', 'U'], cwd);
    expect(write.code).toBe(1);
    expect(write.stderr).toContain('sesion');
  });

  it('names the known sessions, and refuses a version past the end, when replaying one session', async () => {
    const { cwd } = await handWrittenLog();
    expect(await runInProcess(['replay', '--session', 'nope'], cwd)).toMatchObject({
      code: 1,
      stderr: 'moai-session: No session "nope" in the log. Known sessions: h.\n',
    });
    expect(await runInProcess(['replay', '--session', 'h', '--until', '99'], cwd)).toMatchObject({
      code: 1,
      stderr: 'moai-session: Session h has 4 events; version 99 does not exist yet.\n',
    });
    expect((await runInProcess(['replay', '--session', 'h', '--until', '4'], cwd)).code).toBe(0);
  });

  it('names a segment that is not a file instead of failing inside', async () => {
    const { cwd } = await handWrittenLog();
    const odd = join(cwd, '.moai', 'events', 'segment-000002.jsonl');
    await mkdir(odd);
    for (const args of [['events'], ['task', 'add', 'h', 'u', '--title', 'U']]) {
      const result = await runInProcess(args, cwd);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`moai-session: ${odd} is not a file: a segment of the event log must be one. Move it out of ${join(cwd, '.moai', 'events')}, or put the segment back.\n`);
    }
  });

  it('prints --help for every command and exits 0', async () => {
    const cwd = await tempDir('moai-cli-');
    const top = await runInProcess(['--help'], cwd);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Exit codes:');
    const commands = [
      ...['demo', 'events', 'state', 'replay', 'init', 'config show', 'config schema', 'start', 'end', 'resume'],
      ...['task add', 'task send', 'usage', 'checkpoint', 'compact', 'fork', 'recover', 'debug'],
      ...['handoff create', 'handoff validate', 'handoff accept', 'handoff reject'],
    ];
    for (const command of ['init', 'config', 'start', 'task', 'usage', 'fork', 'handoff', 'recover', 'debug']) {
      expect(top.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    const helps = await Promise.all(commands.map((command) => runInProcess([...command.split(' '), '--help'], cwd)));
    helps.forEach((help, i) => {
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: moai-session ${commands[i]!}`);
    });
  });
});

describe('an internal error', () => {
  /** Run with a stdout that throws a plain Error, as a bug inside a command would. */
  const runWithBrokenStdout = async (args: string[]): Promise<{ code: number; stderr: string }> => {
    let stderr = '';
    const io = {
      stdout: () => {
        throw new Error('injected fault: stdout');
      },
      stderr: (text: string) => {
        stderr += text;
      },
      cwd: await tempDir('moai-cli-'),
      env: {},
    };
    return { code: await runCli(args, io), stderr };
  };

  it('exits 70 with one line and a hint, and shows the stack with --debug', async () => {
    expect(await runWithBrokenStdout(['config', 'schema'])).toEqual({
      code: 70,
      stderr: 'moai-session: internal error: injected fault: stdout\nRerun with --debug for the stack, and report it.\n',
    });
    const debug = await runWithBrokenStdout(['config', 'schema', '--debug']);
    expect(debug.code).toBe(70);
    expect(debug.stderr).toMatch(/^moai-session: internal error: injected fault: stdout\nError: injected fault: stdout\n\s+at /);
  });
});
