import { access, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { createEngine, type StoredEvent } from '../../src/index.js';
import { openPostgresEventStore } from '../../src/postgres.js';
import { dropTestSchemas, freshSchema, HAVE_POSTGRES, urlWithSchema } from './pgTestServer.js';

describe.skipIf(!HAVE_POSTGRES)('the CLI and the engine on MOAI_STORE_URL=postgres://...', () => {
  afterAll(dropTestSchemas);

  it('runs the main flows: start, tasks, usage, checkpoint, fork, handoff, recover, replay, state --at, events', async () => {
    const url = urlWithSchema(freshSchema('cli'));
    const cwd = await mkdtemp(join(tmpdir(), 'moai-pg-cli-'));
    const run = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env: { ...process.env, MOAI_STORE_URL: url } });
      if (code !== 0) throw new Error(`moai-session ${args.join(' ')} exited ${code}: ${stderr}`);
      return { code, stdout, stderr };
    };
    await run('start', '--agent', 'planner', '--model', 'claude-sonnet-4-5', '--session', 's1');
    await run('task', 'add', 's1', 't1', '--title', 'Write the spec');
    await run('task', 'add', 's1', 't2', '--title', 'Review it');
    expect((await run('task', 'send', 's1', 't1', 'START')).stdout).toContain('t1 of session s1: pending -START-> in_progress');
    expect((await run('usage', 's1', '--input', '1000', '--output', '200')).stdout).toContain('context 1,000 of 200,000 tokens');
    const checkpoint = await run('checkpoint', 's1', '--reason', 'test');
    expect(checkpoint.stdout).toContain('PostgreSQL table');
    await run('task', 'send', 's1', 't1', 'COMPLETE');
    expect((await run('fork', 's1', '--at', '4', '--session', 'f1')).stdout).toContain('Forked session s1 at version 4 into f1');
    await run('handoff', 'create', 's1', '--to', 'reviewer', '--summary', 'spec written', '--handoff-id', 'h1');
    expect((await run('handoff', 'accept', 's1', 'h1', '--agent', 'reviewer')).stdout).toContain('reviewer accepted handoff h1');
    await run('task', 'send', 's1', 't2', 'START');
    await run('task', 'send', 's1', 't2', 'FAIL');
    expect((await run('recover', 's1')).stdout).toMatch(/recovered t2/);
    const replay = await run('replay');
    expect(replay.stdout).toContain('Every recorded task transition agrees with the task machine.');
    expect(replay.stdout).toMatch(/Replayed \d+ events of 2 sessions/);
    const past = JSON.parse((await run('--json', 'state', 's1', '--at', '4')).stdout) as { version: number; tasks: { byId: Record<string, { state: string }> } };
    expect(past.version).toBe(4);
    expect(past.tasks.byId.t1?.state).toBe('in_progress');
    const fork = JSON.parse((await run('--json', 'state', 'f1')).stdout) as { tasks: { byId: Record<string, { state: string }> } };
    expect(fork.tasks.byId.t1?.state).toBe('in_progress');
    const now = JSON.parse((await run('--json', 'state', 's1')).stdout) as { tasks: { byId: Record<string, { state: string }> }; agent?: string };
    expect(now.tasks.byId.t1?.state).toBe('completed');
    expect(now.tasks.byId.t2?.state).toBe('recovered');
    expect((await run('sessions')).stdout).toMatch(/s1\s+active\s+reviewer/);
    await run('end', 's1');
    // The log and the checkpoints are in the database: the state folder has no events/ and no checkpoint files.
    await expect(access(join(cwd, '.moai', 'events'))).rejects.toThrow(/ENOENT/);
    await expect(access(join(cwd, '.moai', 'sessions', 'checkpoints'))).rejects.toThrow(/ENOENT/);
    const store = await openPostgresEventStore({ url });
    const types: string[] = [];
    for await (const event of store.readStream('session-s1')) types.push(event.type);
    expect(types).toEqual(expect.arrayContaining(['SessionStarted', 'TaskAdded', 'CheckpointCreated', 'HandoffAccepted', 'RecoveryCompleted', 'SessionEnded']));
    const { rows } = await store.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${store.schema}".checkpoints WHERE session_id = 's1'`);
    expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(3);
    const events = (await run('events', '--session', 's1')).stdout.trim().split('\n');
    expect(events).toHaveLength(types.length);
    await store.close();
  }, 60_000);

  it('lets an engine on another machine resume a session from a checkpoint kept in the database', async () => {
    const url = urlWithSchema(freshSchema('engine'));
    const here = await createEngine({ dir: await mkdtemp(join(tmpdir(), 'moai-pg-a-')), store: await openPostgresEventStore({ url }) });
    const session = await here.startSession({ sessionId: 'x', agent: 'planner', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 'a', title: 'A' });
    await session.sendTask('a', 'START');
    const { checkpointId } = await session.checkpoint('test');
    await here.close();
    const there = await createEngine({ dir: await mkdtemp(join(tmpdir(), 'moai-pg-b-')), store: await openPostgresEventStore({ url }) });
    const listed = await there.checkpoints.list('x');
    expect(listed.map((c) => c.ok && c.document.checkpointId)).toEqual([checkpointId]);
    const resumed = await there.resumeSession('x');
    expect(resumed.state.tasks.byId.get('a')?.state).toBe('in_progress');
    const seen: StoredEvent[] = [];
    const reader = await openPostgresEventStore({ url });
    for await (const event of reader.readStream('session-x')) seen.push(event);
    expect(seen.some((e) => e.type === 'CheckpointCreated')).toBe(true);
    await Promise.all([there.close(), reader.close()]);
  });
});
