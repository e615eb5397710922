import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastParallelReplay, replayWorkerLimits } from '../../src/engine/parallelReplay.js';
import { AppendOnlyList } from '../../src/projections/appendOnlyList.js';
import { isCorruptLogError, openFileEventStore, replay, type NewEvent, type ReplayReport } from '../../src/index.js';
import { runInProcess } from '../cli/runInProcess.js';
import { tempDir } from '../helpers.js';

/*
 * A replay on two threads (the calling one and a worker) must report what a
 * replay on one does: the same sessions in the same order, the same views and
 * token histories, the same divergences in position order, the same counts.
 * `threads: 2` asks for the worker even on a log too short to pay for one.
 */

/**
 * A value as a user compares it: maps as their entries, persistent lists as
 * arrays, `undefined` fields kept (so `toStrictEqual` tells a missing field
 * from an undefined one).
 */
function comparable(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof AppendOnlyList) return { list: [...(value as AppendOnlyList<unknown>)].map(comparable) };
  if (Array.isArray(value)) return value.map(comparable);
  if (typeof (value as { entries?: unknown }).entries === 'function' && typeof (value as { get?: unknown }).get === 'function') {
    return { map: [...(value as ReadonlyMap<unknown, unknown>).entries()].map(([k, v]) => [comparable(k), comparable(v)]) };
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, comparable(v)]));
}

const reportOf = (report: ReplayReport): unknown =>
  comparable({
    sessions: [...report.sessions],
    tokenHistories: [...report.tokenHistories],
    divergences: report.divergences,
    eventsRead: report.eventsRead,
    lastPosition: report.lastPosition,
    ok: report.ok,
  });

/** A small seeded generator, so the log is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Where each legal event takes a task, as the task lifecycle machine has it (the part this log uses). */
const LEGAL: Record<string, Record<string, string>> = {
  pending: { START: 'in_progress' },
  in_progress: { BLOCK: 'blocked', COMPLETE: 'completed', FAIL: 'failed' },
  blocked: { UNBLOCK: 'in_progress', FAIL: 'failed' },
  failed: { RECOVER: 'recovered' },
  recovered: { RESUME: 'in_progress' },
  completed: {},
};

interface ModelSession {
  stream: string;
  sessionId: string;
  version: number;
  tasks: Map<string, string>;
  usage: number;
  ended: boolean;
}

/** What the generator wrote, worked out as it wrote it (not by the code under test). */
interface GeneratedLog {
  dir: string;
  events: number;
  /** Session ids in the order their first events were written. */
  order: string[];
  sessions: Map<string, ModelSession>;
  /** The ids of the transitions written to contradict the log, in the order written. */
  diverging: string[];
}

/**
 * A log of many sessions whose appends interleave, some ending early, some
 * forked from others, with token usage, and transitions that contradict the
 * log (each one a divergence).
 */
async function generatedLog(seed: number, sessionCount: number, appends: number, maxSegmentBytes?: number, concurrent?: number): Promise<GeneratedLog> {
  const dir = join(await tempDir('moai-parallel-replay-'), 'events');
  const store = await openFileEventStore({ dir, durability: 'none', ...(maxSegmentBytes === undefined ? {} : { maxSegmentBytes }) });
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const sessions = new Map<string, ModelSession>();
  const order: string[] = [];
  const diverging: string[] = [];
  let events = 0;
  let ids = 0;
  const at = () => new Date(Date.UTC(2026, 0, 1) + events * 1000).toISOString();
  const event = (type: string, data: unknown): NewEvent => ({ id: `e${++ids}`, type, data, meta: { at: at(), agent: 'a' } }) as NewEvent;
  const write = async (session: ModelSession, batch: NewEvent[]): Promise<void> => {
    await store.append(session.stream, batch, { expectedVersion: session.version });
    session.version += batch.length;
    events += batch.length;
  };
  const start = async (sessionId: string, first: NewEvent, tasks = new Map<string, string>()): Promise<void> => {
    const session: ModelSession = { stream: `session-${sessionId}`, sessionId, version: 0, tasks, usage: 0, ended: false };
    sessions.set(sessionId, session);
    order.push(sessionId);
    await write(session, [first]);
  };

  // With `concurrent`, that many sessions are open at a time, each ended after a while and followed by a new one (as sessions come one after another).
  for (let s = 0; s < (concurrent ?? sessionCount / 2); s++) {
    await start(`s${s}`, event('SessionStarted', { sessionId: `s${s}`, agent: 'a', model: 'claude-sonnet-4-5' }));
  }
  for (let round = 0; round < appends; round++) {
    const open = [...sessions.values()].filter((session) => !session.ended);
    if (concurrent !== undefined && open.length < concurrent && sessions.size < sessionCount) {
      await start(`s${sessions.size}`, event('SessionStarted', { sessionId: `s${sessions.size}`, agent: 'a', model: 'claude-sonnet-4-5' }));
      continue;
    }
    const roll = next();
    if (sessions.size < sessionCount && roll < 0.02) {
      // A fork of an open session, at its current version, with its tasks as they are there.
      const parent = pick(open);
      const sessionId = `f${sessions.size}`;
      const data = { sessionId, parentSessionId: parent.sessionId, parentVersion: parent.version, agent: 'a', model: 'claude-sonnet-4-5' };
      await start(sessionId, event('SessionForked', data), new Map(parent.tasks));
      continue;
    }
    if (sessions.size < sessionCount && roll < 0.04) {
      await start(`s${sessions.size}`, event('SessionStarted', { sessionId: `s${sessions.size}`, agent: 'a', model: 'claude-sonnet-4-5' }));
      continue;
    }
    const session = pick(open);
    if (concurrent !== undefined ? roll > 0.97 && (open.length > 1 || sessions.size < sessionCount) : roll > 0.995 && open.length > 4) {
      await write(session, [event('SessionEnded', { reason: 'done' })]);
      session.ended = true;
      continue;
    }
    const batch: NewEvent[] = [];
    for (let k = 1 + Math.floor(next() * 4); k > 0; k--) {
      const kind = next();
      if (kind < 0.15 || session.tasks.size === 0) {
        const taskId = `t${session.tasks.size}`;
        batch.push(event('TaskAdded', { taskId, title: `Task ${taskId}` }));
        session.tasks.set(taskId, 'pending');
      } else if (kind < 0.35) {
        session.usage++;
        batch.push(
          event('TokenUsageRecorded', {
            model: 'claude-sonnet-4-5',
            inputTokens: Math.floor(next() * 5_000),
            outputTokens: Math.floor(next() * 1_000),
            cacheCreationInputTokens: 0,
            cacheReadInputTokens: Math.floor(next() * 50_000),
            main: next() < 0.8,
          }),
        );
      } else if (kind < 0.37) {
        // A transition the log contradicts: recorded from a state the task is not in (or of a task never added).
        const taskId = next() < 0.5 ? pick([...session.tasks.keys()]) : 'never-added';
        const from = session.tasks.get(taskId) === 'blocked' ? 'pending' : 'blocked';
        const diverged = event('TaskTransitioned', { taskId, event: 'UNBLOCK', from, to: 'in_progress' });
        diverging.push(diverged.id!);
        batch.push(diverged);
        if (session.tasks.has(taskId)) session.tasks.set(taskId, 'in_progress');
      } else {
        const taskId = pick([...session.tasks.keys()]);
        const from = session.tasks.get(taskId)!;
        const moves = Object.entries(LEGAL[from]!);
        if (moves.length === 0) continue;
        const [machineEvent, to] = pick(moves);
        batch.push(event('TaskTransitioned', { taskId, event: machineEvent, from, to }));
        session.tasks.set(taskId, to);
      }
    }
    if (batch.length > 0) await write(session, batch);
  }
  await store.close();
  return { dir, events, order, sessions, diverging };
}

/** Replay `dir` read-only on one thread and on two; both reports. */
async function replayBothWays(dir: string): Promise<{ one: ReplayReport; two: ReplayReport }> {
  const store = await openFileEventStore({ dir, readOnly: true });
  try {
    const one = await replay(store, { threads: 1 });
    lastParallelReplay.threads = 0;
    const two = await replay(store, { threads: 2 });
    return { one, two };
  } finally {
    await store.close();
  }
}

describe('parallel replay', () => {
  it('reports on two threads what one thread reports, on a log of many interleaved streams', async () => {
    // Segments of 256 KB: the reads cross segments, and with a sealed segment the worker is started while the log is indexed.
    const log = await generatedLog(7, 60, 3_000, 256 << 10);
    expect((await readdir(log.dir)).filter((name) => name.endsWith('.jsonl')).length).toBeGreaterThan(2);
    const { one, two } = await replayBothWays(log.dir);
    // The worker ran, answered, and posted streams as they ended.
    expect(lastParallelReplay).toMatchObject({ threads: 2, startedEarly: 1, fellBack: 0 });
    expect(lastParallelReplay.streamsPostedEarly).toBeGreaterThan(0);
    // Streams interleaved over the whole log: two chunks, one a thread.
    expect(lastParallelReplay.chunks).toBe(2);
    expect(lastParallelReplay.chunksFoldedHere).toBe(1);

    expect(reportOf(two)).toStrictEqual(reportOf(one));
    // And both are what the generator wrote.
    expect(two.eventsRead).toBe(log.events);
    expect(two.lastPosition).toBe(log.events);
    expect([...two.sessions.keys()]).toEqual(log.order);
    expect(two.divergences.map((d) => d.eventId)).toEqual(log.diverging);
    expect(log.diverging.length).toBeGreaterThan(5);
    const positions = two.divergences.map((d) => d.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(two.ok).toBe(false);
    for (const [sessionId, session] of log.sessions) {
      const view = two.sessions.get(sessionId)!;
      expect(new Map([...view.tasks.byId].map(([taskId, task]) => [taskId, task.state]))).toEqual(session.tasks);
      expect(view.version).toBe(session.version);
      expect(two.tokenHistories.get(sessionId)!.entries.length).toBe(session.usage);
    }
    expect(log.order.some((id) => id.startsWith('f'))).toBe(true);
  }, 60_000);

  it('reports on two threads what one thread reports when sessions come one after another (the threads claim chunks of them)', async () => {
    const log = await generatedLog(5, 80, 4_000, 256 << 10, 3);
    const { one, two } = await replayBothWays(log.dir);
    expect(lastParallelReplay).toMatchObject({ threads: 2, fellBack: 0 });
    expect(lastParallelReplay.chunks).toBeGreaterThan(4);
    expect(lastParallelReplay.chunksFoldedHere).toBeLessThan(lastParallelReplay.chunks);
    expect(lastParallelReplay.streamsPostedEarly).toBeGreaterThan(0);
    expect(reportOf(two)).toStrictEqual(reportOf(one));
    expect(two.eventsRead).toBe(log.events);
    expect([...two.sessions.keys()]).toEqual(log.order);
    expect(two.divergences.map((d) => d.eventId)).toEqual(log.diverging);
    for (const [sessionId, session] of log.sessions) {
      const view = two.sessions.get(sessionId)!;
      expect(new Map([...view.tasks.byId].map(([taskId, task]) => [taskId, task.state]))).toEqual(session.tasks);
      expect(two.tokenHistories.get(sessionId)!.entries.length).toBe(session.usage);
    }
  }, 60_000);

  it('reports what one thread reports when the worker runs out of memory: the calling thread folds its chunks', async () => {
    const log = await generatedLog(3, 40, 2_000, 256 << 10, 3);
    const store = await openFileEventStore({ dir: log.dir, readOnly: true });
    try {
      const one = await replay(store, { threads: 1 });
      // A real worker, with too little memory to load its modules: it dies.
      replayWorkerLimits.maxOldGenerationSizeMb = 2;
      let two: ReplayReport;
      try {
        two = await replay(store, { threads: 2 });
      } finally {
        delete replayWorkerLimits.maxOldGenerationSizeMb;
      }
      expect(lastParallelReplay).toMatchObject({ threads: 2, fellBack: 1, chunksFoldedHere: lastParallelReplay.chunks - 1 });
      expect(reportOf(two)).toStrictEqual(reportOf(one));
      expect(two.eventsRead).toBe(log.events);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('reports on two threads what one thread reports, on the demo log', async () => {
    const cwd = await tempDir('moai-parallel-replay-demo-');
    expect((await runInProcess(['demo'], cwd)).code).toBe(0);
    expect((await runInProcess(['demo'], cwd)).code).toBe(0);
    const { one, two } = await replayBothWays(join(cwd, '.moai', 'events'));
    expect(lastParallelReplay).toMatchObject({ threads: 2, startedEarly: 0, fellBack: 0 });
    expect(lastParallelReplay.chunksFoldedHere).toBeLessThan(lastParallelReplay.chunks);
    expect(reportOf(two)).toStrictEqual(reportOf(one));
    // The demo's two rounds: the session, a fork each round.
    expect([...two.sessions.keys()]).toEqual(['demo', 'demo-r1-alt', 'demo-r2-alt']);
    expect(two.ok).toBe(true);
  }, 60_000);

  it.each([
    ['a line of the first stream (the worker folds it)', 'early'],
    ['a line of the last stream (the calling thread folds it)', 'late'],
  ])('fails as one thread fails: the first damaged line in the log, here %s', async (_, damagedFirst) => {
    const log = await generatedLog(11, 20, 600);
    const [segment] = (await readdir(log.dir)).filter((name) => name.endsWith('.jsonl'));
    const path = join(log.dir, segment!);
    const lines = (await readFile(path, 'latin1')).split('\n');
    const streamOf = (line: string) => /"stream":"([^"]+)"/.exec(line)![1]!;
    // The streams are cut into chunks in the order of their first events: the worker folds the first chunk, the calling thread starts from the last.
    const appearance = [...new Set(lines.filter((line) => line !== '').map(streamOf))];
    const early = new Set(appearance.slice(0, 1));
    const last = appearance.at(-1)!;
    const after = lines.findIndex((line) => line !== '' && streamOf(line) === last);
    // Not the last lines: opening a log checks its tail whatever reads it.
    const before = lines.length - 8;
    const earlyLines = lines.map((line, i) => (i > after && i < before && early.has(streamOf(line)) ? i : -1)).filter((i) => i >= 0);
    const lastLines = lines.map((line, i) => (i > after && i < before && streamOf(line) === last ? i : -1)).filter((i) => i >= 0);
    expect(earlyLines.length).toBeGreaterThan(2);
    expect(lastLines.length).toBeGreaterThan(2);
    // The first damaged line, and one after it in the other thread's share.
    const [first, second] = damagedFirst === 'early' ? [earlyLines[0]!, lastLines.at(-1)!] : [lastLines[0]!, earlyLines.at(-1)!];
    expect(second).toBeGreaterThan(first);
    // Indexed before the damage, so the replays (not the index's own checks) meet it.
    const store = await openFileEventStore({ dir: log.dir, readOnly: true });
    expect(await store.headPosition()).toBe(log.events);
    const handle = await open(path, 'r+');
    for (const index of [second, first]) {
      // One byte of the line's type, so its length stays and its checksum fails.
      const offset = lines.slice(0, index).reduce((sum, line) => sum + line.length + 1, 0);
      await handle.write(Buffer.from('X'), 0, 1, offset + lines[index]!.indexOf('"type"') + 2);
    }
    await handle.close();

    const failure = (threads: number) => replay(store, { threads }).then(() => undefined, (error: unknown) => error);
    const one = await failure(1);
    lastParallelReplay.threads = 0;
    const two = await failure(2);
    await store.close();
    expect(lastParallelReplay.threads).toBe(2);
    expect(isCorruptLogError(one)).toBe(true);
    expect(isCorruptLogError(two)).toBe(true);
    expect((two as Error).message).toBe((one as Error).message);
    expect((one as Error).message).toContain(`${path}:${first + 1}:`);
  }, 60_000);
});
