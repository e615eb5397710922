// kill -9 of a process appending through many concurrent appenders, at a
// random moment (issue 9's fault suite): afterwards every acknowledged event
// is in the log, none twice, every stream's versions and the positions
// follow on, and the next writer opens at once (the dead writer's lock is
// taken over, not waited out).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFileEventStore, type StoredEvent } from '../../src/index.js';
import { BINARY } from '../cli/runBinary.js';
import { tempDir } from '../helpers.js';
import { recordFigures, runs } from './faultFigures.js';

const RUNS = runs(100, 2);
const APPENDERS = 8;
const APPENDER = join(import.meta.dirname, 'appender.mjs');

/** Start the appender, let it acknowledge for a random while, kill it with SIGKILL: the ids it said were acknowledged. */
async function appendThenKill(dir: string, aliveMs: number): Promise<string[]> {
  const child = spawn(process.execPath, [APPENDER, dir, String(APPENDERS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  // Killed a random while after its first acknowledgement: mid-batch, mid-fsync, mid-write, wherever it is.
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (out.includes('\nack ') || out.startsWith('ack ')) {
        clearInterval(timer);
        setTimeout(resolve, aliveMs);
      } else if (Date.now() - started > 20_000) {
        clearInterval(timer);
        reject(new Error(`the appender acknowledged nothing in 20 s: ${err}`));
      }
    }, 2);
    child.on('exit', (code) => code !== null && reject(new Error(`the appender exited with ${code}: ${err}`)));
  });
  child.kill('SIGKILL');
  await exited;
  return out
    .split('\n')
    .filter((line) => line.startsWith('ack '))
    .flatMap((line) => line.split(' ')[2]!.split(','));
}

describe('kill -9 during concurrent appends', () => {
  it.skipIf(!existsSync(BINARY))(`loses no acknowledged event in ${RUNS} runs, duplicates none, and the writer reopens at once`, async () => {
    const dir = join(await tempDir('moai-kill9-'), 'events');
    let acknowledged = 0;
    let lost = 0;
    let duplicated = 0;
    let reopenSlowest = 0;
    let tornTails = 0;
    let seed = 0x9e3779b9;
    const random = (): number => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const allAcked = new Set<string>();
    for (let run = 0; run < RUNS; run++) {
      const acked = await appendThenKill(dir, Math.floor(random() * 120));
      for (const id of acked) allAcked.add(id);
      acknowledged += acked.length;
      const started = Date.now();
      const store = await openFileEventStore({ dir, lockWaitMs: 0 }); // 0: a lock left by the dead writer must not be waited out
      reopenSlowest = Math.max(reopenSlowest, Date.now() - started);
      tornTails += store.warnings.filter((w) => w.code === 'TORN_TAIL_REPAIRED').length;
      expect(store.warnings.every((w) => w.code === 'TORN_TAIL_REPAIRED' || w.code === 'LOCK_TAKEN_OVER'), JSON.stringify(store.warnings)).toBe(true);
      const events: StoredEvent[] = [];
      for await (const event of store.readAll()) events.push(event);
      await store.close();
      // Positions 1..n in order; each stream's versions 1..m in order.
      expect(events.every((e, i) => e.position === i + 1)).toBe(true);
      const versions = new Map<string, number>();
      for (const event of events) {
        const next = (versions.get(event.stream) ?? 0) + 1;
        expect(event.version, `${event.stream} at position ${event.position}`).toBe(next);
        versions.set(event.stream, next);
      }
      const seen = new Map<string, number>();
      for (const event of events) seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
      duplicated += [...seen.values()].filter((n) => n > 1).length;
      lost += [...allAcked].filter((id) => !seen.has(id)).length;
    }
    recordFigures({
      test: `kill -9 during ${APPENDERS} concurrent appenders`,
      runs: RUNS,
      acknowledged,
      lost,
      duplicated,
      refused: 0,
      note: `${tornTails} torn tails cut; slowest reopen ${reopenSlowest} ms`,
    });
    expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(acknowledged).toBeGreaterThan(RUNS);
    expect(reopenSlowest).toBeLessThan(5_000);
    await rm(dir, { recursive: true, force: true });
  }, 600_000);
});
