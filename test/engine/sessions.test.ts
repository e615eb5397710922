import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  createMemoryEventStore,
  isCommandRejectedError,
  isConfigError,
  isHandoffValidationError,
  sessionViewToJson,
  type Engine,
  type EngineWarning,
} from '../../src/index.js';
import { configWith, engineFactory, streamOf } from '../engineHelpers.js';
import { sequentialIds, steppingClock, tempDir } from '../helpers.js';

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});
const engineWith = engineFactory();




/** Each task's state and how many moves it took: what forks must not share. */
const taskStates = (view: Parameters<typeof sessionViewToJson>[0]) =>
  view.tasks.order.toArray().map((id) => [id, view.tasks.byId.get(id)!.state, view.tasks.byId.get(id)!.transitions]);

describe('sessions', () => {
  it('refuses to start more than max_parallel_sessions, and lets one in when another ends', async () => {
    const engine = await engineWith({ config: configWith({ max_parallel_sessions: 2 }) });
    const one = await engine.startSession({ sessionId: 'one', agent: 'a', model: 'claude-sonnet-4-5' });
    await engine.startSession({ sessionId: 'two', agent: 'a', model: 'claude-sonnet-4-5' });
    const error = await engine.startSession({ sessionId: 'three', agent: 'a', model: 'claude-sonnet-4-5' }).catch((e: unknown) => e);
    expect(isCommandRejectedError(error)).toBe(true);
    expect((error as Error).message).toBe(
      '2 sessions are active (one, idle 0 min; two, idle 0 min), the most session.max_parallel_sessions allows (2). ' +
        'End one (`moai-session end <id>`, or session.end() in code), wait until one has been idle for session.idle_session_minutes (120), ' +
        'or raise the limit in .moai/config/config.json.',
    );
    expect(await engine.store.streamVersion('session-three')).toBe(0);
    await one.end('done');
    await engine.startSession({ sessionId: 'three', agent: 'a', model: 'claude-sonnet-4-5' });
    expect(await engine.activeSessionIds()).toEqual(['two', 'three']);
  });

  it('stops counting a session idle past idle_session_minutes, which stays active and can be resumed', async () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const engine = await engineWith({ config: configWith({ max_parallel_sessions: 1, idle_session_minutes: 30 }), clock: () => new Date(now) });
    // An app that never ends its session.
    await engine.startSession({ sessionId: 'forgotten', agent: 'a', model: 'claude-sonnet-4-5' });
    now += 29 * 60_000;
    await expect(engine.startSession({ sessionId: 'next', agent: 'a', model: 'claude-sonnet-4-5' })).rejects.toThrow(
      '1 session is active (forgotten, idle 29 min)',
    );
    now += 2 * 60_000;
    await engine.startSession({ sessionId: 'next', agent: 'a', model: 'claude-sonnet-4-5' });
    expect(await engine.activeSessionIds()).toEqual(['forgotten', 'next']);
    await engine.resumeSession('forgotten');
    expect((await engine.sessionState('forgotten')).session.resumes).toBe(1);
  });

  it('reads its settings from the state folder, and refuses a config with a typo', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), '');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'config'));
    await writeFile(join(dir, 'config', 'config.json'), JSON.stringify({ session: { max_parallel_sessions: 1 } }));
    const engine = await createEngine({ dir });
    engines.push(engine);
    expect(engine.settings.maxParallelSessions).toBe(1);
    await engine.close();
    engines.pop();
    await writeFile(join(dir, 'config', 'config.json'), JSON.stringify({ session: { max_paralel_sessions: 1 } }));
    const error = await createEngine({ dir }).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain('max_paralel_sessions');
    expect((error as Error).message).toContain('max_parallel_sessions');
  });
});

describe('forks', () => {
  it('branches at an earlier version: the fork has the parent as it was, and neither sees the other later', async () => {
    const engine = await engineWith();
    const parent = await engine.startSession({ sessionId: 'p', agent: 'a', model: 'claude-sonnet-4-5' });
    await parent.addTask({ taskId: 't', title: 'T' });
    await parent.sendTask('t', 'START'); // v3
    await parent.sendTask('t', 'BLOCK'); // v4
    const fork = await engine.forkSession('p', { atVersion: 3, sessionId: 'f', agent: 'explorer' });
    const [first] = await streamOf(engine, 'f');
    expect(first).toMatchObject({ type: 'SessionForked', version: 1, data: { parentSessionId: 'p', parentVersion: 3, agent: 'explorer' } });
    expect(fork.task('t')!.state).toBe('in_progress');
    expect(fork.state.session).toMatchObject({ sessionId: 'f', parent: { sessionId: 'p', version: 3 }, agent: 'explorer' });
    await fork.sendTask('t', 'COMPLETE');
    await parent.sendTask('t', 'UNBLOCK');
    expect((await engine.sessionState('p')).tasks.byId.get('t')!.state).toBe('in_progress');
    expect((await engine.sessionState('f')).tasks.byId.get('t')!.state).toBe('completed');
    const report = await engine.replay();
    expect(report.ok).toBe(true);
    expect(report.sessions.get('f')!.tasks.byId.get('t')!.state).toBe('completed');
  });

  it('never lets a fork and its parent see each other’s later events (random commands)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('START', 'BLOCK', 'UNBLOCK', 'COMPLETE', 'FAIL', 'RECOVER', 'RESUME'), { maxLength: 12 }),
        fc.array(fc.constantFrom('START', 'BLOCK', 'UNBLOCK', 'COMPLETE', 'FAIL', 'RECOVER', 'RESUME'), { maxLength: 12 }),
        async (parentEvents, forkEvents) => {
          const engine = await createEngine({
            store: createMemoryEventStore(),
            clock: steppingClock(),
            ids: sequentialIds(),
            config: configWith({ auto_checkpoint: false }),
          });
          const parent = await engine.startSession({ sessionId: 'p', agent: 'a', model: 'claude-sonnet-4-5' });
          await parent.addTask({ taskId: 't', title: 'T' });
          const atFork = taskStates(parent.state);
          const fork = await engine.forkSession('p', { sessionId: 'f' });
          const parentAlone = await createEngine({ store: createMemoryEventStore(), clock: steppingClock(), ids: sequentialIds(), config: configWith({ auto_checkpoint: false }) });
          const twin = await parentAlone.startSession({ sessionId: 'p', agent: 'a', model: 'claude-sonnet-4-5' });
          await twin.addTask({ taskId: 't', title: 'T' });
          const interleaved = Math.max(parentEvents.length, forkEvents.length);
          for (let i = 0; i < interleaved; i++) {
            const pe = parentEvents[i] as Parameters<typeof parent.sendTask>[1] | undefined;
            const fe = forkEvents[i] as Parameters<typeof fork.sendTask>[1] | undefined;
            if (pe) {
              await parent.sendTask('t', pe).catch(() => undefined);
              await twin.sendTask('t', pe).catch(() => undefined);
            }
            if (fe) await fork.sendTask('t', fe).catch(() => undefined);
          }
          // The parent is exactly what it would be without the fork.
          expect(taskStates(await engine.sessionState('p'))).toEqual(taskStates(twin.state));
          // The fork began as the parent at the fork; only its own events moved it since.
          const forkFromLog = await engine.sessionState('f');
          expect(taskStates(forkFromLog)).toEqual(taskStates(fork.state));
          const forkAlone = await createEngine({ store: createMemoryEventStore(), clock: steppingClock(), ids: sequentialIds(), config: configWith({ auto_checkpoint: false }) });
          const forkTwin = await forkAlone.startSession({ sessionId: 'f', agent: 'a', model: 'claude-sonnet-4-5' });
          await forkTwin.addTask({ taskId: 't', title: 'T' });
          for (const fe of forkEvents) await forkTwin.sendTask('t', fe as Parameters<typeof fork.sendTask>[1]).catch(() => undefined);
          expect(taskStates(forkFromLog)).toEqual(taskStates(forkTwin.state));
          expect(atFork).toEqual([['t', 'pending', 0]]);
          await forkAlone.close();
          await engine.close();
          await parentAlone.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses to fork when forking is disabled, and at a version that does not exist', async () => {
    const disabled = await engineWith({ config: configWith({ forking_enabled: false }) });
    await disabled.startSession({ sessionId: 'p', agent: 'a', model: 'claude-sonnet-4-5' });
    await expect(disabled.forkSession('p')).rejects.toThrow('Forking is disabled (session.forking_enabled is false');
    const engine = await engineWith();
    await engine.startSession({ sessionId: 'p', agent: 'a', model: 'claude-sonnet-4-5' });
    await expect(engine.forkSession('p', { atVersion: 5 })).rejects.toThrow('Session p has versions 1 to 1; cannot fork at 5.');
    await expect(engine.forkSession('nope')).rejects.toThrow(/No session "nope"/);
  });
});

describe('checkpoints', () => {
  it('writes a checkpoint file with the position, state and checksum, and resumes from it', async () => {
    const dir = await tempDir();
    const engine = await createEngine({ dir, clock: steppingClock(), ids: sequentialIds() });
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    for (let i = 0; i < 20; i++) await session.addTask({ taskId: `t${i}`, title: `Task ${i}` });
    const document = await session.checkpoint('before the big refactor');
    await session.addTask({ taskId: 'late', title: 'Late' });
    const before = sessionViewToJson(session.state);
    await engine.close();

    // A folder per session: sessions/checkpoints/<sessionId>/<checkpointId>.json.
    expect(await readdir(join(dir, 'sessions', 'checkpoints'))).toEqual(['s']);
    const files = await readdir(join(dir, 'sessions', 'checkpoints', 's'));
    expect(files).toEqual([`${document.checkpointId}.json`]);
    const onDisk = JSON.parse(await readFile(join(dir, 'sessions', 'checkpoints', 's', files[0]!), 'utf8')) as typeof document;
    expect(onDisk).toMatchObject({ sessionId: 's', version: 21, reason: 'before the big refactor', checksum: document.checksum });

    const again = await createEngine({ dir, clock: steppingClock(), ids: sequentialIds('b') });
    engines.push(again);
    const { loadSessionView } = await import('../../src/engine/loadSessionView.js');
    const loaded = await loadSessionView(again.store, 's', { checkpoints: again.checkpoints });
    expect(loaded!.checkpoint?.checkpointId).toBe(document.checkpointId);
    expect(loaded!.eventsFolded).toBe(2); // the CheckpointCreated event and the late task
    expect(sessionViewToJson(loaded!.view)).toEqual(before);
  });

  it('resuming from a checkpoint gives the same state as a full replay (random sessions)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant('add'), fc.constant('checkpoint'), fc.constantFrom('START', 'BLOCK', 'UNBLOCK', 'COMPLETE', 'FAIL'), fc.integer({ min: 0, max: 95 })), { maxLength: 30 }),
        async (steps) => {
          const engine = await engineWith();
          const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
          let tasks = 0;
          for (const step of steps) {
            if (step === 'add') await session.addTask({ taskId: `t${tasks++}`, title: 'T' });
            else if (step === 'checkpoint') await session.checkpoint();
            else if (typeof step === 'number') await session.recordUsage({ input_tokens: step * 2_000, output_tokens: 1 });
            else if (tasks > 0) await session.sendTask(`t${tasks - 1}`, step).catch(() => undefined);
          }
          const { loadSessionView } = await import('../../src/engine/loadSessionView.js');
          const fromCheckpoint = await loadSessionView(engine.store, 's', { checkpoints: engine.checkpoints });
          const full = await loadSessionView(engine.store, 's');
          expect(sessionViewToJson(fromCheckpoint!.view)).toEqual(sessionViewToJson(full!.view));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('skips a checkpoint whose checksum fails, with a warning, for the one before', async () => {
    const dir = await tempDir();
    const engine = await createEngine({ dir, clock: steppingClock(), ids: sequentialIds() });
    engines.push(engine);
    const warnings: EngineWarning[] = [];
    engine.warnings$.subscribe((w) => warnings.push(w));
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    const older = await session.checkpoint('first');
    await session.addTask({ taskId: 't', title: 'T' });
    const newer = await session.checkpoint('second');
    const file = join(dir, 'sessions', 'checkpoints', 's', `${newer.checkpointId}.json`);
    const tampered = JSON.parse(await readFile(file, 'utf8')) as { state: { version: number } };
    tampered.state.version = 999;
    await writeFile(file, JSON.stringify(tampered));
    const resumed = await engine.resumeSession('s');
    expect(warnings.map((w) => w.message)).toContain(
      `Skipped checkpoint ${newer.checkpointId} of session s: its state does not match its checksum.`,
    );
    expect(resumed.task('t')!.state).toBe('pending');
    const { loadSessionView } = await import('../../src/engine/loadSessionView.js');
    expect((await loadSessionView(engine.store, 's', { checkpoints: engine.checkpoints }))!.checkpoint?.checkpointId).toBe(older.checkpointId);
  });

  it('takes interval checkpoints by the injected clock, and one when the session ends', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const engine = await engineWith({ clock: () => new Date(now) });
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    now += 5 * 60_000;
    await session.addTask({ taskId: 'a', title: 'A' });
    expect(session.state.checkpoints.all.length).toBe(0);
    now += 6 * 60_000; // 11 minutes since the start: past the 10-minute interval
    await session.addTask({ taskId: 'b', title: 'B' });
    expect(session.state.checkpoints.all.toArray().map((c) => c.reason)).toEqual(['interval']);
    await session.end('done');
    expect(session.state.checkpoints.all.toArray().map((c) => c.reason)).toEqual(['interval', 'session-end']);
    expect(session.state.session.status).toBe('ended');
  });

  it('archives checkpoints older than the retention, but never the newest of an active session', async () => {
    const dir = await tempDir();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const engine = await createEngine({ dir, clock: () => new Date(now), ids: sequentialIds(), config: configWith({ checkpoint_interval_minutes: 100_000 }) });
    engines.push(engine);
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    const first = await session.checkpoint('one');
    const second = await session.checkpoint('two');
    now += 8 * 86_400_000;
    const result = await engine.applyRetention();
    expect(result.archived).toEqual([{ sessionId: 's', checkpointId: first.checkpointId }]);
    expect(await readdir(join(dir, 'sessions', 'archive', 's'))).toEqual([`${first.checkpointId}.json`]);
    expect(await readdir(join(dir, 'sessions', 'checkpoints', 's'))).toEqual([`${second.checkpointId}.json`]);
    const events = await streamOf(engine, 's');
    expect(events.at(-1)).toMatchObject({ type: 'CheckpointArchived', data: { checkpointId: first.checkpointId, reason: 'older than 7 days' } });
  });
});

describe('handoffs', () => {
  it('hands over with a validated package; exactly one of two receivers trying at once wins', async () => {
    const store = createMemoryEventStore();
    const one = await engineWith({ store });
    const two = await engineWith({ store, ids: sequentialIds('two') });
    const session = await one.startSession({ sessionId: 's', agent: 'spec-writer', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 'impl', title: 'Implement' });
    const handoff = await session.requestHandoff({ toAgent: 'implementer', summary: 'The spec is done; build it.' });
    expect(handoff).toMatchObject({ from_agent: 'spec-writer', to_agent: 'implementer' });
    expect(handoff.recovery_info.checkpoint_id).toMatch(/^cp-/);
    expect(session.state.session.status).toBe('handing_off');

    const a = await one.openSession('s');
    const b = await two.openSession('s');
    const results = await Promise.allSettled([
      a.acceptHandoff(handoff.handoff_id, 'implementer'),
      b.acceptHandoff(handoff.handoff_id, 'implementer'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((refused.reason as Error).message).toContain(`Handoff ${handoff.handoff_id} of session s was already accepted by implementer`);
    const events = await streamOf(one, 's');
    expect(events.filter((e) => e.type === 'HandoffAccepted')).toHaveLength(1);
    expect((await one.sessionState('s')).session).toMatchObject({ status: 'active', agent: 'implementer' });
  });

  it('refuses a package to an agent that may not receive it, naming the problem, and records a rejection with its reason', async () => {
    const engine = await engineWith({
      config: configWith({ handoff: { min_available_tokens: 30_000, compatible_agents: { 'spec-writer': ['implementer'] } } }),
    });
    const session = await engine.startSession({ sessionId: 's', agent: 'spec-writer', model: 'claude-sonnet-4-5' });
    const error = await session.requestHandoff({ toAgent: 'reviewer', summary: 'x' }).catch((e: unknown) => e);
    expect(isHandoffValidationError(error)).toBe(true);
    expect((error as Error).message).toContain('reviewer');
    expect(session.state.session.status).toBe('active');
    const handoff = await session.requestHandoff({ toAgent: 'implementer', summary: 'x' });
    await session.rejectHandoff(handoff.handoff_id, 'busy with another session', 'implementer');
    expect(session.state.session.handoffs[handoff.handoff_id]).toMatchObject({ status: 'rejected', reason: 'busy with another session', by: 'implementer' });
  });

  it('compacts first when the receiver would have too little context', async () => {
    const triggers: string[] = [];
    const engine = await engineWith({
      summariser: async ({ contextTokens, trigger }) => {
        triggers.push(trigger);
        return { tokensAfter: Math.round(contextTokens / 4), summary: 'short' };
      },
      config: configWith({ handoff: { min_available_tokens: 100_000, compatible_agents: {} } }),
    });
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.recordUsage({ input_tokens: 140_000, output_tokens: 1 }); // 70%: 60,000 free, under the 100,000 needed
    expect(triggers).toEqual([]);
    const handoff = await session.requestHandoff({ toAgent: 'b', summary: 'over to you' });
    expect(triggers).toHaveLength(1);
    expect(triggers[0]).toContain('needs 100000 free tokens');
    expect(handoff.session_context.tokens_used).toBe(35_000);
    expect(handoff.session_context.tokens_available).toBe(165_000);
    const compaction = (await streamOf(engine, 's')).find((e) => e.type === 'ContextCompacted');
    expect(compaction?.data).toMatchObject({ tokensBefore: 140_000, tokensAfter: 35_000 });
  });

  it('refuses a handoff that still has too little context when nothing can compact it', async () => {
    const engine = await engineWith({ config: configWith({ handoff: { min_available_tokens: 100_000, compatible_agents: {} } }) });
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.recordUsage({ input_tokens: 140_000, output_tokens: 1 });
    const error = await session.requestHandoff({ toAgent: 'b', summary: 'x' }).catch((e: unknown) => e);
    expect(isHandoffValidationError(error)).toBe(true);
    expect((error as Error).message).toMatch(/tokens/);
    expect((await streamOf(engine, 's')).some((e) => e.type === 'HandoffRequested')).toBe(false);
  });
});

describe('recovery', () => {
  it('recovers in six recorded steps from the newest checkpoint, and brings failed tasks to recovered', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 'done', title: 'Done' });
    await session.addTask({ taskId: 'broken', title: 'Broken' });
    await session.addTask({ taskId: 'next', title: 'Next' });
    await session.sendTask('done', 'START');
    await session.sendTask('done', 'COMPLETE');
    const checkpoint = await session.checkpoint('before the crash');
    await session.sendTask('broken', 'START');
    await session.sendTask('broken', 'FAIL', { reason: 'segfault' });

    const { handle, report } = await engine.recover('s');
    const events = await streamOf(engine, 's');
    const recovery = events.slice(events.findIndex((e) => e.type === 'RecoveryStarted'));
    expect(recovery.map((e) => (e.type === 'RecoveryStepCompleted' ? `step:${e.data.step}` : e.type))).toEqual([
      'RecoveryStarted',
      'step:restore',
      'step:validate',
      'step:replay',
      'step:assess',
      'TaskTransitioned',
      'step:plan',
      'step:notify',
      'RecoveryCompleted',
    ]);
    // The failure took a checkpoint of its own: that is the newest valid one.
    expect(report.checkpointId).not.toBe(checkpoint.checkpointId);
    expect(report.completedTasks).toEqual(['done']);
    expect(report.recoveredTasks).toEqual(['broken']);
    expect(report.openTasks).toEqual(['broken', 'next']);
    expect(report.report).toContain('Open: broken (recovered), next (pending).');
    expect(handle.state.session.status).toBe('active');
    await handle.sendTask('broken', 'RESUME');
    expect(handle.task('broken')!.state).toBe('in_progress');
  });
});
