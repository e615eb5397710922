import { join } from 'node:path';
import fc from 'fast-check';
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { ReplayFold } from '../../src/engine/replay.js';
import { PersistentMap } from '../../src/projections/persistentMap.js';
import type { TaskView } from '../../src/projections/tasks.js';
import {
  createEngine,
  createMemoryEventStore,
  isFileEventStore,
  openFileEventStore,
  replay,
  type EventStore,
  type StoredEvent,
  TASK_EVENT_TYPES,
  type SessionView,
  type TaskEventType,
} from '../../src/index.js';
import { sequentialIds, steppingClock, tempDir } from '../helpers.js';

/** A view as JSON: what a user would compare. */
const plain = (view: SessionView | undefined): unknown => JSON.parse(JSON.stringify(view));

type Step =
  | { kind: 'add' }
  | { kind: 'send'; task: number; event: TaskEventType }
  | { kind: 'usage'; input: number; output: number; cacheRead: number; main: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'add' as const }) },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('send' as const), task: fc.nat(5), event: fc.constantFrom(...TASK_EVENT_TYPES) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('usage' as const),
      input: fc.nat(50_000),
      output: fc.nat(5_000),
      cacheRead: fc.nat(100_000),
      main: fc.boolean(),
    }),
  },
);

const storeKinds: [string, () => Promise<EventStore>, number][] = [
  ['memory store', async () => createMemoryEventStore(), 60],
  ['file store', async () => openFileEventStore({ dir: join(await tempDir(), 'events'), durability: 'none' }), 15],
];

describe('replay', () => {
  it.each(storeKinds)('rebuilds, from the %s log alone, the live state at every version (random command sequences)', async (_, makeStore, numRuns) => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
        const store = await makeStore();
        const engine = await createEngine({ store, clock: steppingClock(), ids: sequentialIds() });
        const session = await engine.startSession({ sessionId: 'p', agent: 'a', model: 'claude-sonnet-4-5' });
        const liveViews = new Map<number, unknown>([[1, plain(session.state)]]);
        let tasks = 0;
        for (const s of steps) {
          try {
            if (s.kind === 'add') await session.addTask({ taskId: `t${tasks++}`, title: 'task' });
            else if (s.kind === 'send') await session.sendTask(`t${s.task}`, s.event);
            else await session.recordUsage({ input_tokens: s.input, output_tokens: s.output, cache_read_input_tokens: s.cacheRead }, { main: s.main });
          } catch {
            // Refused commands append nothing; the property covers them too.
          }
          liveViews.set(session.state.version, plain(session.state));
        }
        const full = await replay(store);
        expect(full.ok).toBe(true);
        expect(plain(full.sessions.get('p'))).toEqual(plain(session.state));
        for (const [version, live] of liveViews) {
          const atVersion = await replay(store, { sessionId: 'p', untilVersion: version });
          expect(plain(atVersion.sessions.get('p'))).toEqual(live);
          expect(plain(await engine.sessionState('p', { atVersion: version }))).toEqual(live);
        }
        await engine.close();
        await store.close();
        if (isFileEventStore(store)) {
          // A read-only store reads the closed log through its index files and block checksums.
          const reader = await openFileEventStore({ dir: store.dir, readOnly: true });
          const fromReader = await replay(reader);
          expect(fromReader.ok).toBe(true);
          expect(plain(fromReader.sessions.get('p'))).toEqual(plain(session.state));
          await reader.close();
        }
      }),
      { numRuns },
    );
  });

  it('reports a divergence, with the event, when the machine changed under a recorded history', async () => {
    const store = createMemoryEventStore();
    const engine = await createEngine({ store, clock: steppingClock(), ids: sequentialIds() });
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'm' });
    await session.addTask({ taskId: 'blocked-one', title: 'T' });
    await session.sendTask('blocked-one', 'START');
    await session.sendTask('blocked-one', 'BLOCK');
    await session.sendTask('blocked-one', 'FAIL');

    // A later machine in which a blocked task can no longer fail.
    const stricter = setup({ types: { events: {} as { type: TaskEventType } } }).createMachine({
      id: 'stricter',
      initial: 'pending',
      states: {
        pending: { on: { START: 'in_progress' } },
        in_progress: { on: { BLOCK: 'blocked', COMPLETE: 'completed', FAIL: 'failed' } },
        blocked: { on: { UNBLOCK: 'in_progress' } },
        completed: { type: 'final' },
        failed: {},
      },
    });
    const report = await replay(store, { taskMachine: stricter });
    expect(report.ok).toBe(false);
    expect(report.divergences).toHaveLength(1);
    expect(report.divergences[0]).toMatchObject({
      sessionId: 's',
      version: 5,
      taskId: 'blocked-one',
      event: 'FAIL',
      recorded: { from: 'blocked', to: 'failed' },
      machineTo: undefined,
    });
    expect(report.divergences[0]!.message).toContain('the machine does not accept FAIL in blocked');
    // The projections still follow the log as recorded.
    expect(report.sessions.get('s')!.tasks.byId.get('blocked-one')!.state).toBe('failed');
    expect((await replay(store)).ok).toBe(true);
    await engine.close();
  });

  it('reports a recorded transition whose from-state contradicts the log', async () => {
    const store = createMemoryEventStore();
    await store.append('session-x', [
      { id: '1', type: 'SessionStarted', data: { sessionId: 'x', agent: 'a', model: 'm' }, meta: { at: '2026-01-01T00:00:00Z' } },
      { id: '2', type: 'TaskAdded', data: { taskId: 't', title: 'T' }, meta: { at: '2026-01-01T00:00:01Z' } },
      {
        id: '3',
        type: 'TaskTransitioned',
        data: { taskId: 't', event: 'COMPLETE', from: 'in_progress', to: 'completed' },
        meta: { at: '2026-01-01T00:00:02Z' },
      },
    ]);
    const report = await replay(store);
    expect(report.divergences.map((d) => d.message)).toEqual([
      'session-x v3 (position 3): task t recorded in_progress -COMPLETE-> completed, but the task was pending by then, not in_progress.',
    ]);
  });

  it('refuses a version without a session, and a session that does not exist', async () => {
    const store = createMemoryEventStore();
    await expect(replay(store, { untilVersion: 3 })).rejects.toThrow(/give the session id/);
    await expect(replay(store, { sessionId: 'ghost' })).rejects.toThrow(/No session "ghost"/);
  });

  it('keeps a report it handed out as it was while its fold goes on', async () => {
    const store = createMemoryEventStore();
    const engine = await createEngine({ store, clock: steppingClock(), ids: sequentialIds() });
    const session = await engine.startSession({ sessionId: 'r', agent: 'a', model: 'claude-sonnet-4-5' });
    for (let i = 0; i < 40; i++) await session.addTask({ taskId: `t${i}`, title: 'task' });
    const half = session.state.version;
    for (let i = 0; i < 40; i++) await session.sendTask(`t${i}`, 'START');
    const fold = new ReplayFold(store);
    const events: StoredEvent[] = [];
    for await (const event of store.readAll()) events.push(event);
    await fold.visitBatch(events.slice(0, half));
    const early = fold.report().sessions.get('r')!;
    const earlyJson = plain(early);
    await fold.visitBatch(events.slice(half));
    const late = fold.report().sessions.get('r')!;
    expect(plain(early)).toEqual(earlyJson);
    expect(early.tasks.byId.get('t0')?.state).toBe('pending');
    expect(late.tasks.byId.get('t0')?.state).toBe('in_progress');
    expect(plain(late)).toEqual(plain(session.state));
    // What was handed out is a persistent map: changing it makes a new one.
    const handedOut = early.tasks.byId as PersistentMap<string, TaskView>;
    expect(handedOut.set('t0', late.tasks.byId.get('t0')!)).not.toBe(handedOut);
    expect(early.tasks.byId.get('t0')?.state).toBe('pending');
    await engine.close();
  });
});
