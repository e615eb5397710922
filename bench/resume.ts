import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, openFileEventStore, type NewEvent } from '../src/index.js';
import { loadSessionView } from '../src/engine/loadSessionView.js';
import { median, report } from './report.js';

const TOTAL = 1_000_000;
const LONG_SESSION_EVENTS = 250_000;
const AFTER_CHECKPOINT = 200;
const child = join(dirname(fileURLToPath(import.meta.url)), 'resumeChild.ts');

/**
 * A 1,000,000-event log: one long session ("long", 250,000 events: 150 tasks
 * that go through many block / unblock cycles, usage after each) and other
 * sessions around it; a checkpoint of "long" near the end, then a few more events.
 */
export async function writeResumeLog(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'moai-resume-'));
  const store = await openFileEventStore({ dir: join(dir, 'events'), durability: 'none' });
  let n = 0;
  const event = (type: string, data: unknown): NewEvent =>
    ({ id: `e${++n}`, type, data, meta: { at: new Date(1_767_225_600_000 + n).toISOString(), agent: 'worker' } }) as NewEvent;
  const sessionEvents = function* (sessionId: string, count: number, tasks: number): Generator<NewEvent> {
    yield event('SessionStarted', { sessionId, agent: 'worker', model: 'claude-sonnet-4-5' });
    let written = 1;
    const perTask = Math.floor((count - 1) / tasks);
    for (let t = 0; t < tasks; t++) {
      const taskId = `task-${t}`;
      yield event('TaskAdded', { taskId, title: `Task ${t}`, phase: `phase-${t % 5}` });
      yield event('TaskTransitioned', { taskId, event: 'START', from: 'pending', to: 'in_progress' });
      written += 2;
      for (let k = 0; k < Math.floor((perTask - 3) / 3); k++) {
        yield event('TokenUsageRecorded', { model: 'claude-sonnet-4-5', inputTokens: 800, outputTokens: 300, cacheCreationInputTokens: 500, cacheReadInputTokens: 40_000 + (k % 50) * 1000, main: true });
        yield event('TaskTransitioned', { taskId, event: 'BLOCK', from: 'in_progress', to: 'blocked', reason: 'waiting for a tool' });
        yield event('TaskTransitioned', { taskId, event: 'UNBLOCK', from: 'blocked', to: 'in_progress' });
        written += 3;
      }
      yield event('TaskTransitioned', { taskId, event: 'COMPLETE', from: 'in_progress', to: 'completed' });
      written++;
    }
    for (; written < count; written++) {
      yield event('TokenUsageRecorded', { model: 'claude-sonnet-4-5', inputTokens: 10, outputTokens: 10, cacheCreationInputTokens: 0, cacheReadInputTokens: 40_000, main: true });
    }
  };
  const appendAll = async (sessionId: string, events: Iterable<NewEvent>): Promise<void> => {
    let batch: NewEvent[] = [];
    for (const e of events) {
      batch.push(e);
      if (batch.length === 2_000) {
        await store.append(`session-${sessionId}`, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await store.append(`session-${sessionId}`, batch);
  };
  const others = 30;
  const perOther = Math.floor((TOTAL - LONG_SESSION_EVENTS - AFTER_CHECKPOINT - 2) / others);
  for (let s = 0; s < others; s++) await appendAll(`other-${s}`, sessionEvents(`other-${s}`, perOther, 40));
  await appendAll('long', sessionEvents('long', LONG_SESSION_EVENTS, 150));
  await store.close();

  // The checkpoint, taken the way the engine takes it, then a little more work.
  const engine = await createEngine({ dir });
  const long = await engine.openSession('long');
  await long.checkpoint('near the end');
  await long.addTask({ taskId: 'late', title: 'After the checkpoint' });
  await long.sendTask('late', 'START');
  for (let i = 0; i < AFTER_CHECKPOINT - 3; i++) await long.sendTask('late', i % 2 === 0 ? 'BLOCK' : 'UNBLOCK');
  await engine.close();
  return dir;
}

interface ColdResult {
  openMs: number;
  resumeMs: number;
}

/** Resume of one session in a 1,000,000-event log with a checkpoint near the end, vs a full replay of it. */
export async function benchResume(): Promise<boolean> {
  const dir = await writeResumeLog();
  const engine = await createEngine({ dir });
  const headPosition = await engine.store.headPosition();
  const resumes: number[] = [];
  const replays: number[] = [];
  let folded = 0;
  for (let round = 0; round < 5; round++) {
    let started = performance.now();
    const loaded = await loadSessionView(engine.store, 'long', { checkpoints: engine.checkpoints });
    resumes.push(performance.now() - started);
    folded = loaded!.eventsFolded;
    started = performance.now();
    await loadSessionView(engine.store, 'long');
    replays.push(performance.now() - started);
  }
  let started = performance.now();
  const handle = await engine.resumeSession('long', { agent: 'worker' });
  const resumeSessionMs = performance.now() - started;
  const version = handle.state.version;
  await engine.close();
  const cold = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', child, dir], { encoding: 'utf8' })) as ColdResult;
  await rm(dir, { recursive: true, force: true });

  const resumeMs = median(resumes);
  const replayMs = median(replays);
  console.log(
    `\nResume of session "long" (${version.toLocaleString('en-US')} events) in a ${headPosition.toLocaleString('en-US')}-event log, ` +
      `checkpoint ${folded - 1} events before its end (engine open; median of 5)`,
  );
  const ok = report('  load from the newest valid checkpoint', resumeMs, 'ms', [
    { baseline: 'full replay of the session from its first event', baselineValue: replayMs, ratio: replayMs / resumeMs, target: { min: 40, label: '>= 40x' } },
  ]);
  const fast = resumeMs <= 100;
  console.log(`  target <= 100 ms: ${fast ? 'met' : 'NOT MET'}`);
  console.log(`  engine.resumeSession (load + a durable SessionResumed append + policies): ${resumeSessionMs.toFixed(1)} ms`);
  console.log(
    `  cold, in a new process: open the 1,000,000-event log ${cold.openMs.toFixed(0)} ms (from the segments' index files), then resume ${cold.resumeMs.toFixed(1)} ms`,
  );
  return ok && fast;
}
