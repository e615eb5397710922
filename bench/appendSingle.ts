import { writeSync } from 'node:fs';
import { mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileEventStore } from '../src/index.js';
import { transitionEvent } from './events.js';
import { median, report, settle } from './report.js';

const EVENTS = 2_000;
const ROUNDS = 3;

async function fileStoreRate(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'moai-bench-'));
  const store = await openFileEventStore({ dir: join(dir, 'events'), durability: 'always' });
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++) await store.append('session-bench', [transitionEvent()]);
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  await settle(dir);
  return EVENTS / seconds;
}

async function rawLoopRate(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'moai-bench-'));
  const handle = await open(join(dir, 'raw.jsonl'), 'a');
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    writeSync(handle.fd, `${JSON.stringify({ position: i + 1, stream: 'session-bench', version: i + 1, ...transitionEvent(), schemaVersion: 1 })}\n`);
    await handle.datasync();
  }
  const seconds = (performance.now() - started) / 1000;
  await handle.close();
  await settle(dir);
  return EVENTS / seconds;
}

/** Durable append, one writer, fsync each. */
export async function benchAppendSingle(): Promise<boolean> {
  await fileStoreRate(); // warm up
  const ours: number[] = [];
  const raw: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(await fileStoreRate());
    raw.push(await rawLoopRate());
  }
  const oursRate = median(ours);
  const rawRate = median(raw);
  return report(
    `Durable append, one writer, fsync each, ${EVENTS.toLocaleString('en-US')} events (durability always; median of ${ROUNDS})`,
    oursRate,
    'events/s',
    [{ baseline: 'raw write+fdatasync loop', baselineValue: rawRate, ratio: oursRate / rawRate, target: { min: 0.8, label: '>= 0.8x' } }],
  );
}
