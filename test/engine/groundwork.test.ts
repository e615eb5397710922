// The defects the groundwork review found (issue 8), each as a user would meet it.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createMachine } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import {
  createEngine,
  createMemoryCheckpointStore,
  createMemoryEventStore,
  isInvalidArgumentError,
  openStateFolderLog,
  type CheckpointStore,
  type Engine,
  type EngineWarning,
  type RequestHandoffInput,
  type StoredEvent,
} from '../../src/index.js';
import { configWith } from '../engineHelpers.js';
import { sequentialIds, steppingClock, tempDir } from '../helpers.js';

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});
const keep = (engine: Engine): Engine => {
  engines.push(engine);
  return engine;
};

describe('the groundwork review', () => {
  it('checks its options before it opens the store, so a refused option leaves no writer lock behind', async () => {
    const dir = await tempDir();
    await expect(createEngine({ dir, maxConflictRetries: -1 })).rejects.toThrow('maxConflictRetries must be a whole number');
    await expect(createEngine({ dir, maxConflictRetries: 1.5 })).rejects.toThrow('maxConflictRetries must be a whole number');
    // The next engine on the same folder opens: no lock was left held.
    const engine = keep(await createEngine({ dir }));
    await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
  });

  it('completes events$ and budget$ on close, also on a store it was given', async () => {
    const store = createMemoryEventStore();
    const engine = await createEngine({ store });
    const completed: string[] = [];
    const seen: StoredEvent[] = [];
    engine.events$.subscribe({ next: (event) => seen.push(event), complete: () => completed.push('events$') });
    engine.budget$.subscribe({ complete: () => completed.push('budget$') });
    engine.state$.subscribe({ complete: () => completed.push('state$') });
    engine.warnings$.subscribe({ complete: () => completed.push('warnings$') });
    await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await engine.close();
    expect(seen.map((e) => e.type)).toEqual(['SessionStarted']);
    expect(completed.sort()).toEqual(['budget$', 'events$', 'state$', 'warnings$']);
    // The store it was given is the caller's: still open.
    expect(await store.headPosition()).toBe(1);
    // Asked for after the close, they complete at once.
    let late = false;
    engine.events$.subscribe({ complete: () => (late = true) });
    expect(late).toBe(true);
  });

  it('still moves in-progress tasks to token_warning when the checkpoint the warning takes cannot be saved', async () => {
    const failing: CheckpointStore = {
      ...createMemoryCheckpointStore(),
      location: 'a disk that is full',
      save: () => Promise.reject(new Error('ENOSPC: no space left on device')),
    };
    const warnings: EngineWarning[] = [];
    const engine = keep(
      await createEngine({
        store: createMemoryEventStore(),
        checkpoints: failing,
        clock: steppingClock(),
        ids: sequentialIds(),
        onWarning: (warning) => warnings.push(warning),
      }),
    );
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 'one', title: 'One' });
    await session.addTask({ taskId: 'two', title: 'Two' });
    await session.sendTask('one', 'START');
    await session.sendTask('two', 'START');
    // 160,000 of 200,000 tokens: 80 %, past the 75 % warning.
    await session.recordUsage({ input_tokens: 160_000, output_tokens: 100 });
    expect(session.task('one')?.state).toBe('token_warning');
    expect(session.task('two')?.state).toBe('token_warning');
    expect(warnings.map((w) => w.code)).toContain('CHECKPOINT_NOT_SAVED');
    expect(warnings.find((w) => w.code === 'CHECKPOINT_NOT_SAVED')?.message).toMatch(/ENOSPC/);
  });

  it('exports the type of what a handoff request takes, and no internals', () => {
    const input: RequestHandoffInput = { toAgent: 'implementer', summary: 'The spec is done.' };
    expect(input.toAgent).toBe('implementer');
    const exported = Object.keys(api);
    for (const internal of ['decide', 'react', 'runCli', 'EXIT', 'exitCodeFor', 'requestHandoff', 'recoverSession', 'ReplayFold', 'SessionHandle', 'transitionTableFor']) {
      expect(exported).not.toContain(internal);
    }
    expect(exported).toContain('createEngine');
    expect(exported).toContain('openStateFolder');
  });

  it('gives out handles whose members are the public ones only', async () => {
    const engine = keep(await createEngine({ store: createMemoryEventStore() }));
    const handle = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    expect(Object.keys(handle).sort()).toEqual(
      [
        'acceptHandoff',
        'addTask',
        'budget',
        'checkpoint',
        'checkpointIfDue',
        'compact',
        'contextItems',
        'dropContext',
        'end',
        'recordContext',
        'recordUsage',
        'refresh',
        'rejectHandoff',
        'requestHandoff',
        'sendTask',
        'sessionId',
        'state',
        'state$',
        'stream',
        'switchModel',
        'task',
        'updateContext',
      ].sort(),
    );
  });

  it('names the scheme of a store URL it cannot open: mysql, not "mys"', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'events'));
    await expect(openStateFolderLog({ dir, env: { MOAI_STORE_URL: 'mysql://root@localhost/test' } })).rejects.toThrow(
      /names a mysql store, which this installation of moai-session cannot open/,
    );
    expect(api.storeKindOfUrl('mysql://root@localhost/test')).toBe('mysql');
    expect(api.storeKindOfUrl('postgresql://u@h/db')).toBe('postgres');
    expect(api.storeKindOfUrl('not a url')).toBe('unknown');
  });

  it('refuses a custom task machine without an initial state, clearly and before opening anything', async () => {
    const dir = await tempDir();
    // XState builds a machine without states or an initial one; the engine cannot run tasks on it.
    const machine = createMachine({ id: 'no-start' });
    const refusal = await createEngine({ dir, taskMachine: machine }).catch((error: unknown) => error);
    expect(isInvalidArgumentError(refusal)).toBe(true);
    expect((refusal as Error).message).toBe(
      'The task machine "no-start" has no initial state: give its config an `initial` naming one of its states (it has none).',
    );
    const wrongStart = createMachine({ id: 'bad', initial: 'pending', states: { todo: {} } });
    await expect(createEngine({ dir, taskMachine: wrongStart })).rejects.toThrow('starts in "pending", which is not one of its states: name one of todo');
    // Nothing was left locked.
    keep(await createEngine({ dir }));
  });

  it('shares one view between the handles of a session, and a recovery reaches every handle', async () => {
    const engine = keep(await createEngine({ store: createMemoryEventStore(), clock: steppingClock(), ids: sequentialIds() }));
    const first = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await first.addTask({ taskId: 't', title: 'T' });
    const second = await engine.openSession('s');
    await second.sendTask('t', 'START');
    expect(first.task('t')?.state).toBe('in_progress');
    await first.sendTask('t', 'FAIL', { reason: 'tests fail' });
    expect(second.task('t')?.state).toBe('failed');
    const { handle } = await engine.recover('s');
    expect(handle.task('t')?.state).toBe('recovered');
    // The handles from before the recovery see it, and are not refused on the state it replaced.
    expect(first.task('t')?.state).toBe('recovered');
    await first.sendTask('t', 'RESUME');
    expect(second.task('t')?.state).toBe('in_progress');
  });

  it("reads the stream again before refusing, so another engine's move does not make a stale refusal", async () => {
    const store = createMemoryEventStore();
    const one = keep(await createEngine({ store, ids: sequentialIds('one') }));
    const two = keep(await createEngine({ store, ids: sequentialIds('two') }));
    const mine = await one.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await mine.addTask({ taskId: 't', title: 'T' });
    const theirs = await two.openSession('s');
    await theirs.sendTask('t', 'START');
    // `mine` last saw t pending, where COMPLETE is refused; the log says in_progress, where it is not.
    await mine.sendTask('t', 'COMPLETE');
    expect(mine.task('t')?.state).toBe('completed');
    // A refusal that stands after the re-read is still a refusal, naming the state the log holds.
    await expect(mine.sendTask('t', 'START')).rejects.toThrow(/completed/);
  });

  it('keeps refusing as before when the configured limit of sessions is reached', async () => {
    const engine = keep(await createEngine({ store: createMemoryEventStore(), config: configWith({ max_parallel_sessions: 1 }) }));
    await engine.startSession({ sessionId: 'a', agent: 'x', model: 'claude-sonnet-4-5' });
    await expect(engine.startSession({ sessionId: 'b', agent: 'x', model: 'claude-sonnet-4-5' })).rejects.toThrow(
      'the most session.max_parallel_sessions allows',
    );
  });
});

describe('the state folder runtime', () => {
  it('settles a folder as the CLI does: the memory files rebuilt from the log after work', async () => {
    const dir = await tempDir();
    const { openStateFolder } = api;
    const folder = await openStateFolder({ dir, clock: steppingClock(), ids: sequentialIds() });
    const session = await folder.engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 't', title: 'Write the spec' });
    expect(folder.appended.map((e) => e.type)).toEqual(['SessionStarted', 'TaskAdded']);
    const settled = await folder.settle();
    await folder.close();
    expect(settled.memoryFilesWritten).toEqual(expect.arrayContaining(['sessions/session-state.json', 'sessions/active-tasks.md']));
    const reading = await openStateFolder({ dir, mode: 'read' });
    try {
      expect((await api.checkMemorySync(reading.engine, dir)).inSync).toBe(true);
    } finally {
      await reading.close();
    }
  });
});
