import { rm } from 'node:fs/promises';
import { createEngine, createMemoryEventStore, DEFAULT_CONFIG, type Engine, type SessionHandle } from '../../src/index.js';
import { sequentialIds, tempDir } from '../helpers.js';

/** Engines and folders to clean up after each test. */
const cleanup: Array<() => Promise<void>> = [];

/** Close the engines and remove the folders the test made. */
export async function runCleanup(): Promise<void> {
  for (const task of cleanup.splice(0).reverse()) await task();
}

/** A clock that stands still until told to move: each command's events get the time set before it. */
export interface ManualClock {
  now: () => Date;
  /** Move on one second. */
  tick(): void;
}

function manualClock(start = Date.parse('2026-01-01T00:00:00.000Z')): ManualClock {
  let t = start;
  return {
    now: () => new Date(t),
    tick: () => {
      t += 1000;
    },
  };
}

/** What the engine does on its own; off by default so that the fixture's numbers stay put. */
export interface FixtureOptions {
  autoCheckpoint?: boolean;
}

/** An engine and its state folder. */
export interface Fixture {
  engine: Engine;
  /** The `.moai` folder: checkpoint documents and memory files go under its `sessions/`. */
  dir: string;
  clock: ManualClock;
}

/**
 * An engine on a memory log whose state folder is a fresh temporary folder:
 * the checkpoint documents it takes are files under `<dir>/sessions/checkpoints/`,
 * where the memory files go too.
 */
export async function memoryEngine({ autoCheckpoint = false }: FixtureOptions = {}): Promise<Fixture> {
  const dir = await tempDir('moai-memory-');
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const clock = manualClock();
  const config = { ...DEFAULT_CONFIG, session: { ...DEFAULT_CONFIG.session, auto_checkpoint: autoCheckpoint } };
  const engine = await createEngine({ store: createMemoryEventStore(), dir, config, clock: clock.now, ids: sequentialIds() });
  cleanup.push(() => engine.close());
  return { engine, dir, clock };
}

/**
 * An ended session `old` (one usage record), then the session `demo`:
 * three tasks (one in progress then blocked, one pending, one completed) and
 * two usage records, a main call and a side call. The clock moves one second
 * before each command, from 2026-01-01T00:00:01Z; demo's last event is at :13.
 */
export async function smallLog({ engine, clock }: Fixture): Promise<{ demo: SessionHandle }> {
  clock.tick();
  const old = await engine.startSession({ sessionId: 'old', agent: 'scout', model: 'claude-haiku-4-5' }); // :01
  clock.tick();
  await old.recordUsage({ input_tokens: 10, output_tokens: 5 }); // :02
  clock.tick();
  await old.end('done'); // :03
  clock.tick();
  const demo = await engine.startSession({
    sessionId: 'demo',
    agent: 'planner',
    model: 'claude-sonnet-4-5',
    title: 'Plan the release',
  }); // :04
  clock.tick();
  await demo.addTask({ taskId: 'spec', title: 'Write the spec', phase: 'design' }); // :05
  clock.tick();
  await demo.addTask({ taskId: 'build', title: 'Build it | twice' }); // :06
  clock.tick();
  await demo.addTask({ taskId: 'notes', title: 'Release notes' }); // :07
  clock.tick();
  await demo.sendTask('spec', 'START'); // :08
  clock.tick();
  await demo.recordUsage({
    input_tokens: 1200,
    output_tokens: 300,
    cache_creation_input_tokens: 900,
    cache_read_input_tokens: 20000,
  }); // :09
  clock.tick();
  await demo.sendTask('spec', 'BLOCK', { reason: 'waiting for the API key' }); // :10
  clock.tick();
  await demo.sendTask('notes', 'START'); // :11
  clock.tick();
  await demo.sendTask('notes', 'COMPLETE'); // :12
  clock.tick();
  await demo.recordUsage({ input_tokens: 500, output_tokens: 100 }, { main: false, model: 'claude-haiku-4-5' }); // :13
  clock.tick();
  return { demo };
}
