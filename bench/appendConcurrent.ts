import { writeSync } from 'node:fs';
import { mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSONFilePreset } from 'lowdb/node';
import { openFileEventStore, type NewEvent } from '../src/index.js';
import { transitionEvent } from './events.js';
import { median, report, settle } from './report.js';

const APPENDERS = 64;
const EVENTS = 40_000;
const LOWDB_SIZE = 5_000;
const LOWDB_WRITES = 100;
const ROUNDS = 11;

/** 64 appenders, each appending one event at a time to its own stream, on the file store (batch). */
async function fileStoreRate(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'moai-bench-'));
  const store = await openFileEventStore({ dir: join(dir, 'events'), durability: 'batch' });
  const perAppender = EVENTS / APPENDERS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: APPENDERS }, async (_, a) => {
      for (let i = 0; i < perAppender; i++) await store.append(`session-bench-${a}`, [transitionEvent()]);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  await settle(dir);
  return EVENTS / seconds;
}

/**
 * The floor: the same 64 appenders on the least a group commit can be. Each
 * append serialises its event and queues the line; one loop writes what is
 * queued, fdatasyncs once and acknowledges the lot. No validation, checksum,
 * versions or index.
 */
async function rawGroupCommitRate(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'moai-bench-'));
  const handle = await open(join(dir, 'raw.jsonl'), 'a');
  let queue: { line: string; done: () => void }[] = [];
  let flushing = false;
  const flush = async (): Promise<void> => {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      writeSync(handle.fd, batch.map((p) => p.line).join(''));
      await handle.datasync();
      for (const p of batch) p.done();
    }
    flushing = false;
  };
  let position = 0;
  const append = (stream: string, event: NewEvent): Promise<void> =>
    new Promise((done) => {
      // The same envelope the store writes, without checksum, validation or versions checked.
      const line = JSON.stringify({ position: ++position, stream, version: position, ...event, schemaVersion: 1 });
      queue.push({ line: `${line}\n`, done });
      if (!flushing) setImmediate(() => void (flushing || flush()));
    });
  const perAppender = EVENTS / APPENDERS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: APPENDERS }, async (_, a) => {
      for (let i = 0; i < perAppender; i++) await append(`session-bench-${a}`, transitionEvent());
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await handle.close();
  await settle(dir);
  return EVENTS / seconds;
}

/** lowdb holding the log: one write of the whole document per event, once it holds 5,000 events. */
async function lowdbRate(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'moai-bench-'));
  const db = await JSONFilePreset<{ events: unknown[] }>(join(dir, 'db.json'), { events: [] });
  for (let i = 0; i < LOWDB_SIZE; i++) db.data.events.push(transitionEvent());
  await db.write();
  const started = performance.now();
  for (let i = 0; i < LOWDB_WRITES; i++) {
    db.data.events.push(transitionEvent());
    await db.write();
  }
  const seconds = (performance.now() - started) / 1000;
  await settle(dir);
  return LOWDB_WRITES / seconds;
}

/** Durable append with 64 concurrent appenders. */
export async function benchAppendConcurrent(): Promise<boolean> {
  await fileStoreRate(); // warm up
  // fsync times drift from second to second: ours and the raw loop run back to
  // back in each round, and the ratio is the median of the rounds' ratios.
  const ours: number[] = [];
  const raw: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Each in turn first, so a drift within a round favours neither.
    let o: number;
    let r: number;
    if (round % 2 === 0) {
      o = await fileStoreRate();
      r = await rawGroupCommitRate();
    } else {
      r = await rawGroupCommitRate();
      o = await fileStoreRate();
    }
    ours.push(o);
    raw.push(r);
    ratios.push(o / r);
  }
  const lowdb = await lowdbRate();
  const oursRate = median(ours);
  const ok = report(
    `Durable append, ${APPENDERS} concurrent appenders, ${EVENTS.toLocaleString('en-US')} events (file store, group commit; ${ROUNDS} paired rounds, medians)`,
    oursRate,
    'events/s',
    [
      { baseline: `lowdb, one write per event at ${LOWDB_SIZE.toLocaleString('en-US')} events`, baselineValue: lowdb, ratio: oursRate / lowdb, target: { min: 100, label: '>= 100x' } },
      { baseline: 'raw write+fdatasync group-commit loop', baselineValue: median(raw), ratio: median(ratios), target: { min: 0.9, label: '>= 0.9x' } },
    ],
    { min: 50_000, label: '>= 50,000 events/s' },
  );
  console.log(`  the rounds' ratios: ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
  return ok;
}
