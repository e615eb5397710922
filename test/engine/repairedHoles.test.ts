// A log repaired around a lost line (review findings R33 and R34): the
// `EventLost` line `moai-session repair` puts at the lost position marks a
// hole and nothing else, and a session whose start was lost stays readable.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { runInProcess } from '../cli/runInProcess.js';

interface DemoFolder {
  cwd: string;
  dir: string;
  segment: string;
  run: (...args: string[]) => ReturnType<typeof runInProcess>;
}

/** A state folder holding the demo (sessions demo and its fork demo-r1-alt), all in one segment. */
async function demoFolder(): Promise<DemoFolder> {
  const cwd = await tempDir('moai-holes-');
  const dir = join(cwd, '.moai');
  const run = (...args: string[]) => runInProcess(['--dir', dir, ...args], cwd);
  const demo = await run('demo');
  expect(demo.code, demo.stderr).toBe(0);
  return { cwd, dir, segment: join(dir, 'events', 'segment-000001.jsonl'), run };
}

/** The log's lines, each as the JSON after its checksum prefix. */
async function logEvents(segment: string): Promise<{ stream: string; version: number; type: string; meta: { agent?: string; at: string }; data: Record<string, unknown> }[]> {
  return (await readFile(segment, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line.slice(9)));
}

/** Flip one bit of a byte 100 bytes into line `line` (from 1), as a disk would. */
async function damageLine(segment: string, line: number): Promise<void> {
  const bytes = await readFile(segment);
  const lines = bytes.toString('latin1').split('\n');
  const offset = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0) + 100;
  expect(lines[line - 1]!.length).toBeGreaterThan(100);
  bytes[offset]! ^= 1;
  await writeFile(segment, bytes);
}

const json = async (result: ReturnType<typeof runInProcess>) => {
  const done = await result;
  expect(done.code, done.stderr).toBe(0);
  return JSON.parse(done.stdout) as { updatedAt: string; version: number; session: Record<string, unknown>; tasks: unknown };
};

describe('a session whose start was lost in a repair (R33)', () => {
  it('is folded onto a placeholder start, and every other command still works', async () => {
    const { dir, segment, run } = await demoFolder();
    const events = await logEvents(segment);
    // What the placeholder must take from the events after the hole, read from the log itself.
    expect(events[0]).toMatchObject({ stream: 'session-demo', version: 1, type: 'SessionStarted' });
    const firstAgent = events[1]!.meta.agent;
    const model = events.find((event) => event.stream === 'session-demo' && event.type === 'TokenUsageRecorded')!.data['model'];
    const forkBefore = await json(run('state', 'demo-r1-alt', '--json'));
    await damageLine(segment, 1);

    // Before the repair, --skip-damaged reads every session but the damaged line.
    const skipping = await run('replay', '--skip-damaged');
    expect(skipping.code, skipping.stderr).toBe(0);
    expect(skipping.stdout).toContain('of 2 sessions');

    const repaired = await run('repair');
    expect(repaired.code, repaired.stderr).toBe(0);
    expect((await logEvents(segment))[0]).toMatchObject({ stream: 'session-demo', version: 1, type: 'EventLost' });
    await rm(join(dir, 'cache'), { recursive: true, force: true });

    const sessions = await run('sessions');
    expect(sessions.code, sessions.stderr).toBe(0);
    expect(sessions.stdout).toMatch(/\bdemo\b/);
    expect(sessions.stdout).toContain('demo-r1-alt');
    const replayed = await run('replay');
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toContain('demo: active at v66');

    const demo = await json(run('state', 'demo', '--json'));
    expect(demo.session).toMatchObject({ sessionId: 'demo', stream: 'session-demo', status: 'active', startLost: true, model });
    expect((demo.session['agents'] as string[])[0]).toBe(firstAgent);
    expect(demo.session['agents']).not.toContain('moai-session repair');
    expect(demo.version).toBe(66);
    const readable = await run('state', 'demo');
    expect(readable.code, readable.stderr).toBe(0);
    expect(readable.stdout).toContain('start     lost (its first event is not in the log: lost in a repair');
    // The undamaged fork reads as it did.
    expect(await json(run('state', 'demo-r1-alt', '--json'))).toEqual(forkBefore);

    const started = await run('start', '--session', 'after-repair', '--agent', 'a', '--model', 'claude-sonnet-4-5');
    expect(started.code, started.stderr).toBe(0);
    const added = await run('task', 'add', 'demo', 'late', '--title', 'Added after the repair');
    expect(added.code, added.stderr).toBe(0);
  });

  it('keeps a fork whose SessionForked was lost, as a placeholder without its parent', async () => {
    const { dir, segment, run } = await demoFolder();
    const events = await logEvents(segment);
    expect(events[51]).toMatchObject({ stream: 'session-demo-r1-alt', version: 1, type: 'SessionForked' });
    const demoBefore = await json(run('state', 'demo', '--json'));
    await damageLine(segment, 52);
    expect((await run('repair')).code).toBe(0);
    await rm(join(dir, 'cache'), { recursive: true, force: true });

    const sessions = await run('sessions');
    expect(sessions.code, sessions.stderr).toBe(0);
    expect(sessions.stdout).toContain('demo-r1-alt');
    const fork = await json(run('state', 'demo-r1-alt', '--json'));
    expect(fork.session).toMatchObject({ sessionId: 'demo-r1-alt', status: 'ended', startLost: true, agent: events[52]!.meta.agent });
    expect(fork.session['parent']).toBeUndefined();
    expect(await json(run('state', 'demo', '--json'))).toEqual(demoBefore);
  });
});

describe('EventLost marks a hole and changes nothing else (R34)', () => {
  it('adds no agent and no activity time, so the checkpoint after the hole still agrees with the log', async () => {
    const { dir, segment, run } = await demoFolder();
    const events = await logEvents(segment);
    // Line 60: a recovery step, which changes nothing a projection keeps but the agents and the time.
    expect(events[59]).toMatchObject({ stream: 'session-demo', version: 55, type: 'RecoveryStepCompleted' });
    expect(events[70]).toMatchObject({ stream: 'session-demo', version: 66, type: 'CheckpointCreated' });
    const before = await json(run('state', 'demo', '--json'));
    await damageLine(segment, 60);
    expect((await run('repair')).code).toBe(0);
    expect((await logEvents(segment))[59]).toMatchObject({ version: 55, type: 'EventLost', meta: { agent: 'moai-session repair' } });
    // The view snapshots in cache/ still hold the state before the repair: the log is folded again without them.
    await rm(join(dir, 'cache'), { recursive: true, force: true });

    const after = await json(run('state', 'demo', '--json'));
    expect(after.session['agents']).toEqual(before.session['agents']);
    expect(after.updatedAt).toBe(before.updatedAt);
    expect(after).toEqual(before);

    const recovered = await run('recover', 'demo');
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stdout).toContain('at version 65');
    expect(recovered.stdout).not.toContain('disagrees');
    expect(recovered.stderr).not.toContain('CHECKPOINT_DISAGREES');
  });

  it('says, when the newest checkpoint disagrees, that it covers a lost version and still holds what the log lost', async () => {
    const { dir, segment, run } = await demoFolder();
    const events = await logEvents(segment);
    // Line 30: a CheckpointCreated, whose loss changes the checkpoints every later one records.
    expect(events[29]).toMatchObject({ stream: 'session-demo', version: 30, type: 'CheckpointCreated' });
    await damageLine(segment, 30);
    expect((await run('repair')).code).toBe(0);
    // No view cached before the repair answers for the log after it: state is the fold of the repaired log.
    const answered = await json(run('state', 'demo', '--json'));
    await rm(join(dir, 'cache'), { recursive: true, force: true });
    expect(answered).toEqual(await json(run('state', 'demo', '--json')));
    const recovered = await run('recover', 'demo');
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stdout).toContain('disagrees with the log; the whole log was used instead (it covers lost version 30, marked by a repair');
    expect(recovered.stdout).toContain('It covers version 30, lost to damage and marked by a repair (EventLost)');
  });

  it('does not take the time of a hole at the end of a stream as its last activity', async () => {
    const { dir, segment, run } = await demoFolder();
    const events = await logEvents(segment);
    // Line 56: the fork's last event, its end.
    expect(events[55]).toMatchObject({ stream: 'session-demo-r1-alt', version: 5, type: 'SessionEnded' });
    await damageLine(segment, 56);
    expect((await run('repair')).code).toBe(0);
    await rm(join(dir, 'cache'), { recursive: true, force: true });
    const fork = await json(run('state', 'demo-r1-alt', '--json'));
    expect(fork.version).toBe(5);
    expect(fork.updatedAt).toBe(events[54]!.meta.at);
    expect(fork.session['agents']).toEqual([events[51]!.meta.agent]);
  });
});
