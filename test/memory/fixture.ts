import { rm } from 'node:fs/promises';
import { createEngine, createMemoryEventStore, DEFAULT_CONFIG, type Engine, type SessionHandle } from '../../src/index.js';
import { sequentialIds, steppingClock, tempDir } from '../helpers.js';

/** Engines and folders to clean up after each test. */
export const cleanup: Array<() => Promise<void>> = [];

export async function runCleanup(): Promise<void> {
  for (const task of cleanup.splice(0).reverse()) await task();
}

export async function memoryDir(): Promise<string> {
  const dir = await tempDir('moai-memory-');
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** What the engine does on its own; off by default so that the fixture's numbers and times stay put. */
export interface FixtureOptions {
  autoCheckpoint?: boolean;
}

/**
 * An engine on a memory log whose state folder is a fresh temporary folder:
 * the checkpoint documents it takes are files under `<dir>/sessions/checkpoints/`,
 * where the memory files go too.
 */
export async function memoryEngine({ autoCheckpoint = false }: FixtureOptions = {}): Promise<{ engine: Engine; dir: string }> {
  const dir = await memoryDir();
  const config = { ...DEFAULT_CONFIG, session: { ...DEFAULT_CONFIG.session, auto_checkpoint: autoCheckpoint } };
  const engine = await createEngine({ store: createMemoryEventStore(), dir, config, clock: steppingClock(), ids: sequentialIds() });
  cleanup.push(() => engine.close());
  return { engine, dir };
}

/**
 * An ended session `old` (one usage record), then the session `demo`:
 * three tasks (one in progress then blocked, one pending, one completed) and
 * two usage records, a main call and a side call. One clock tick per command,
 * from 2026-01-01T00:00:01Z.
 */
export async function smallLog(engine: Engine): Promise<{ demo: SessionHandle }> {
  const old = await engine.startSession({ sessionId: 'old', agent: 'scout', model: 'claude-haiku-4-5' }); // :01
  await old.recordUsage({ input_tokens: 10, output_tokens: 5 }); // :02
  await old.end('done'); // :03
  const demo = await engine.startSession({
    sessionId: 'demo',
    agent: 'planner',
    model: 'claude-sonnet-4-5',
    title: 'Plan the release',
  }); // :04
  await demo.addTask({ taskId: 'spec', title: 'Write the spec', phase: 'design' }); // :05
  await demo.addTask({ taskId: 'build', title: 'Build it | twice' }); // :06
  await demo.addTask({ taskId: 'notes', title: 'Release notes' }); // :07
  await demo.sendTask('spec', 'START'); // :08
  await demo.recordUsage({
    input_tokens: 1200,
    output_tokens: 300,
    cache_creation_input_tokens: 900,
    cache_read_input_tokens: 20000,
  }); // :09
  await demo.sendTask('spec', 'BLOCK', { reason: 'waiting for the API key' }); // :10
  await demo.sendTask('notes', 'START'); // :11
  await demo.sendTask('notes', 'COMPLETE'); // :12
  await demo.recordUsage({ input_tokens: 500, output_tokens: 100 }, { main: false, model: 'claude-haiku-4-5' }); // :13
  return { demo };
}
