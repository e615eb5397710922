import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  createMemoryEventStore,
  isCommandRejectedError,
  isExpectedVersionConflictError,
  isInvalidTransitionError,
  isInvalidUsageError,
  isUnknownSessionError,
  type Engine,
  type EventStore,
  type StoredEvent,
} from '../../src/index.js';
import { sequentialIds, steppingClock, tempDir } from '../helpers.js';

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

async function memoryEngine(store: EventStore = createMemoryEventStore(), extra = {}) {
  const engine = await createEngine({ store, clock: steppingClock(), ids: sequentialIds(), ...extra });
  engines.push(engine);
  return engine;
}

async function allEvents(store: EventStore): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of store.readAll()) events.push(event);
  return events;
}

describe('sessions and tasks', () => {
  it('starts a session and moves a task through its lifecycle', async () => {
    const engine = await memoryEngine();
    const session = await engine.startSession({ sessionId: 's1', agent: 'planner', model: 'claude-sonnet-4-5', title: 'Plan' });
    await session.addTask({ taskId: 'spec', title: 'Write the spec', phase: 'design' });
    await session.sendTask('spec', 'START');
    await session.sendTask('spec', { type: 'BLOCK', reason: 'waiting for the API key' });
    await session.sendTask('spec', 'UNBLOCK');
    const task = await session.sendTask('spec', 'COMPLETE');
    expect(task).toMatchObject({ state: 'completed', transitions: 4, lastEvent: 'COMPLETE', phase: 'design' });
    expect(session.state.session).toMatchObject({ sessionId: 's1', status: 'active', agent: 'planner', title: 'Plan' });
    // The last open task of phase "design" completed: a phase-end checkpoint followed.
    expect(session.state.version).toBe(7);
    const events = await allEvents(engine.store);
    expect(events.map((e) => e.type)).toEqual([
      'SessionStarted',
      'TaskAdded',
      'TaskTransitioned',
      'TaskTransitioned',
      'TaskTransitioned',
      'TaskTransitioned',
      'CheckpointCreated',
    ]);
    expect(events[6]).toMatchObject({ data: { reason: 'phase-end:design', version: 6 } });
    expect(events[3]).toMatchObject({
      data: { taskId: 'spec', event: 'BLOCK', from: 'in_progress', to: 'blocked', reason: 'waiting for the API key' },
      meta: { agent: 'planner' },
    });
    // Times come from the injected clock, in order.
    const times = events.map((e) => Date.parse(e.meta.at));
    expect(times[0]).toBeGreaterThan(Date.parse('2026-01-01T00:00:00.000Z'));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('refuses COMPLETE from pending, naming the task, its state and what it accepts, and appends nothing', async () => {
    const engine = await memoryEngine();
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'm' });
    await session.addTask({ taskId: 'build', title: 'Build it' });
    const head = await engine.store.headPosition();
    const error = await session.sendTask('build', 'COMPLETE').catch((e: unknown) => e);
    expect(isInvalidTransitionError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'Task build in session s1 is pending and does not accept COMPLETE; in pending it accepts START.',
    );
    expect(await engine.store.headPosition()).toBe(head);
    expect(session.task('build')!.state).toBe('pending');
  });

  it('refuses every event on a completed task, saying it is final', async () => {
    const engine = await memoryEngine();
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'm' });
    await session.addTask({ taskId: 't', title: 'T' });
    await session.sendTask('t', 'START');
    await session.sendTask('t', 'COMPLETE');
    await expect(session.sendTask('t', 'START')).rejects.toThrow(/completed is final and accepts no events/);
  });

  it('recovers a failed task through recovered back to in_progress', async () => {
    const engine = await memoryEngine();
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'm' });
    await session.addTask({ taskId: 't', title: 'T' });
    for (const event of ['START', 'FAIL', 'RECOVER', 'RESUME', 'TOKEN_WARNING', 'COMPLETE'] as const) {
      await session.sendTask('t', event);
    }
    expect(session.task('t')!.state).toBe('completed');
  });

  it('refuses a task that does not exist, a duplicate task and an unknown session', async () => {
    const engine = await memoryEngine();
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'm' });
    await session.addTask({ taskId: 't', title: 'T' });
    await expect(session.sendTask('nope', 'START')).rejects.toThrow('Session s1 has no task "nope"; its tasks are t.');
    const duplicate = await session.addTask({ taskId: 't', title: 'again' }).catch((e: unknown) => e);
    expect(isCommandRejectedError(duplicate)).toBe(true);
    const unknown = await engine.resumeSession('s9').catch((e: unknown) => e);
    expect(isUnknownSessionError(unknown)).toBe(true);
    expect((unknown as Error).message).toBe('No session "s9" in the log. Known sessions: s1.');
    await expect(engine.startSession({ sessionId: 's1', agent: 'a', model: 'm' })).rejects.toThrow(/already exists/);
    expect(await engine.store.headPosition()).toBe(2);
  });

  it('refuses usage with negative tokens and stores nothing', async () => {
    const engine = await memoryEngine();
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'm' });
    const error = await session.recordUsage({ input_tokens: -5, output_tokens: 1 }).catch((e: unknown) => e);
    expect(isInvalidUsageError(error)).toBe(true);
    expect((error as Error).message).toContain('input_tokens');
    expect(await engine.store.headPosition()).toBe(1);
  });

  it('records token usage: context in use from the latest main call, spend over all calls', async () => {
    const engine = await memoryEngine();
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.recordUsage({ input_tokens: 100, output_tokens: 50, cache_creation_input_tokens: 1000, cache_read_input_tokens: 0 });
    await session.recordUsage({ input_tokens: 10, output_tokens: 5 }, { main: false, model: 'claude-haiku-4-5' });
    await session.recordUsage({ input_tokens: 200, output_tokens: 80, cache_creation_input_tokens: 0, cache_read_input_tokens: 1000 });
    const tokens = session.state.tokens;
    expect(tokens.contextTokens).toBe(1200);
    expect(tokens.spend).toEqual({
      inputTokens: 310,
      outputTokens: 135,
      cacheCreationInputTokens: 1000,
      cacheReadInputTokens: 1000,
      totalTokens: 2445,
    });
    expect(tokens.calls).toBe(3);
    const history = (await engine.replay()).tokenHistories.get('s1')!;
    expect(history.entries.toArray().map((e) => [e.model, e.main, e.contextTokens])).toEqual([
      ['claude-sonnet-4-5', true, 1100],
      ['claude-haiku-4-5', false, 1100],
      ['claude-sonnet-4-5', true, 1200],
    ]);
  });

  it('ends a session and refuses commands after that', async () => {
    const engine = await memoryEngine();
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'm' });
    await session.end('done');
    expect(session.state.session).toMatchObject({ status: 'ended', endReason: 'done' });
    await expect(session.addTask({ taskId: 't', title: 'T' })).rejects.toThrow(/has ended/);
  });
});

describe('resume and time travel', () => {
  it('resumes a session from the file log with the state it had before the process ended', async () => {
    const dir = await tempDir();
    const first = await createEngine({ dir, clock: steppingClock(), ids: sequentialIds('a') });
    const session = await first.startSession({ sessionId: 'long', agent: 'implementer', model: 'claude-opus-4-5' });
    await session.addTask({ taskId: 't1', title: 'One' });
    await session.sendTask('t1', 'START');
    await session.recordUsage({ input_tokens: 5000, output_tokens: 300 });
    const before = session.state;
    await first.close();

    const second = await createEngine({ dir, clock: steppingClock(), ids: sequentialIds('b') });
    engines.push(second);
    const opened = await second.openSession('long');
    expect(JSON.parse(JSON.stringify(opened.state))).toEqual(JSON.parse(JSON.stringify(before)));
    const resumed = await second.resumeSession('long', { agent: 'reviewer' });
    expect(resumed.state.session).toMatchObject({ resumes: 1, agent: 'reviewer', agents: ['implementer', 'reviewer'] });
    await resumed.sendTask('t1', 'COMPLETE');
    expect(resumed.task('t1')!.state).toBe('completed');
  });

  it('shows a session as it was at any earlier version', async () => {
    const engine = await memoryEngine();
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'm' });
    await session.addTask({ taskId: 't', title: 'T' });
    await session.sendTask('t', 'START');
    await session.sendTask('t', 'BLOCK');
    expect((await engine.sessionState('s1', { atVersion: 2 })).tasks.byId.get('t')!.state).toBe('pending');
    expect((await engine.sessionState('s1', { atVersion: 3 })).tasks.byId.get('t')!.state).toBe('in_progress');
    expect((await engine.sessionState('s1')).tasks.byId.get('t')!.state).toBe('blocked');
    await expect(engine.sessionState('s1', { atVersion: 9 })).rejects.toThrow('Session s1 has 4 events; version 9 does not exist yet.');
    await expect(engine.sessionState('s1', { atVersion: 0 })).rejects.toThrow(/whole number from 1/);
  });
});

describe('concurrency', () => {
  it('decides again after another writer appended first, and both commands land', async () => {
    const store = createMemoryEventStore();
    const one = await memoryEngine(store);
    const two = await memoryEngine(store, { ids: sequentialIds('two') });
    const a = await one.startSession({ sessionId: 's1', agent: 'a', model: 'm' });
    await a.addTask({ taskId: 't1', title: 'T1' });
    await a.addTask({ taskId: 't2', title: 'T2' });
    const b = await two.openSession('s1');
    await Promise.all([a.sendTask('t1', 'START'), b.sendTask('t2', 'START')]);
    const final = await one.sessionState('s1');
    expect(final.tasks.byId.get('t1')!.state).toBe('in_progress');
    expect(final.tasks.byId.get('t2')!.state).toBe('in_progress');
    expect(final.version).toBe(5);
  });

  it('refuses a command that is no longer legal once the other write is seen', async () => {
    const store = createMemoryEventStore();
    const one = await memoryEngine(store);
    const two = await memoryEngine(store, { ids: sequentialIds('two') });
    const a = await one.startSession({ sessionId: 's1', agent: 'a', model: 'm' });
    await a.addTask({ taskId: 't', title: 'T' });
    const b = await two.openSession('s1');
    await a.sendTask('t', 'START');
    // b still thinks t is pending: its START conflicts, is decided again, and is refused.
    await expect(b.sendTask('t', 'START')).rejects.toThrow(/is in_progress and does not accept START/);
    expect(await store.streamVersion('session-s1')).toBe(3);
  });

  it('surfaces the conflict once the retries run out', async () => {
    const store = createMemoryEventStore();
    const one = await memoryEngine(store);
    const two = await memoryEngine(store, { maxConflictRetries: 0, ids: sequentialIds('two') });
    const a = await one.startSession({ sessionId: 's1', agent: 'a', model: 'm' });
    const b = await two.openSession('s1');
    await a.addTask({ taskId: 't1', title: 'T1' });
    const error = await b.addTask({ taskId: 't2', title: 'T2' }).catch((e: unknown) => e);
    expect(isExpectedVersionConflictError(error)).toBe(true);
  });
});

describe('observables', () => {
  it('emits appended events on events$ and new views on state$', async () => {
    const engine = await memoryEngine();
    const events = firstValueFrom(engine.events$.pipe(take(3), toArray()));
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'm' });
    const views = firstValueFrom(session.state$.pipe(take(3), toArray()));
    await session.addTask({ taskId: 't', title: 'T' });
    await session.sendTask('t', 'START');
    expect((await events).map((e) => e.type)).toEqual(['SessionStarted', 'TaskAdded', 'TaskTransitioned']);
    expect((await views).map((v) => v.version)).toEqual([1, 2, 3]);
  });
});
