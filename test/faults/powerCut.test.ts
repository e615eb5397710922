// Simulated power cuts (issue 9's fault suite): what reached the disk is
// every acknowledged (synced) append, then any prefix of the bytes written
// after the last fsync. The log is cut at a random byte of that unsynced
// tail; the next writer must open without calling it damage, keep every
// acknowledged event, and keep each later append whole or not at all.
import { copyFile, mkdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFileEventStore, type NewEvent, type StoredEvent } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { recordFigures, runs } from './faultFigures.js';

const RUNS = runs(200, 8);

function event(id: string): NewEvent {
  return { id, type: 'TaskAdded', data: { taskId: `t-${id}`, title: 'Power cut' }, meta: { at: '2026-01-01T00:00:00.000Z' } } as NewEvent;
}

describe('power cuts', () => {
  it(`keep every acknowledged append and each later one whole or not at all, in ${RUNS} cuts at random bytes of the unsynced tail`, async () => {
    const root = await tempDir('moai-power-');
    let seed = 0x2545f491;
    const random = (): number => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    let acknowledged = 0;
    let lost = 0;
    let duplicated = 0;
    let partialAppends = 0;
    let damageClaimed = 0;
    let kept = 0;
    for (let run = 0; run < RUNS; run++) {
      const dir = join(root, `run-${run}`, 'events');
      // An earlier session of the writer closed cleanly: its index file is on disk.
      const first = await openFileEventStore({ dir });
      for (let i = 0; i < 1 + Math.floor(random() * 5); i++) await first.append(`session-${i % 2}`, [event(`c${run}-${i}`)]);
      await first.close();
      // This session: acknowledged appends (synced), then appends written but not yet synced when the power went.
      const writer = await openFileEventStore({ dir, durability: 'none' });
      const ackedIds: string[] = [];
      for (let i = 0; i < 1 + Math.floor(random() * 5); i++) {
        const ids = Array.from({ length: 1 + (i % 3) }, (_, k) => `a${run}-${i}-${k}`);
        await writer.append(`session-${i % 3}`, ids.map(event));
        ackedIds.push(...ids);
      }
      const segment = join(dir, 'segment-000001.jsonl');
      const synced = (await stat(segment)).size; // with durability 'batch', these would have been fsynced before the ack
      const unsynced: string[][] = [];
      for (let i = 0; i < 1 + Math.floor(random() * 4); i++) {
        const ids = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, k) => `u${run}-${i}-${k}`);
        await writer.append(`session-${i % 2}`, ids.map(event));
        unsynced.push(ids);
      }
      const written = (await stat(segment)).size;
      // The disk as the power cut left it: the segment cut at a random byte of the unsynced tail, the old index file, no lock.
      const disk = join(root, `run-${run}`, 'after-cut');
      await mkdir(disk, { recursive: true });
      await copyFile(segment, join(disk, 'segment-000001.jsonl'));
      await copyFile(join(dir, 'segment-000001.idx'), join(disk, 'segment-000001.idx'));
      await writer.close();
      const cutAt = synced + Math.floor(random() * (written - synced + 1));
      await truncate(join(disk, 'segment-000001.jsonl'), cutAt);
      acknowledged += ackedIds.length;
      const reopened = await openFileEventStore({ dir: disk }).catch((error: unknown) => {
        damageClaimed++; // a crash taken for damage: the test fails below, with the figures
        throw error;
      });
      const events: StoredEvent[] = [];
      for await (const e of reopened.readAll()) events.push(e);
      await reopened.append('session-9', [event(`after-${run}`)]); // and it goes on
      await reopened.close();
      const ids = events.map((e) => e.id);
      const seen = new Set(ids);
      duplicated += ids.length - seen.size;
      lost += ackedIds.filter((id) => !seen.has(id)).length;
      for (const append of unsynced) {
        const present = append.filter((id) => seen.has(id)).length;
        if (present !== 0 && present !== append.length) partialAppends++;
        if (present === append.length) kept += append.length;
      }
      expect(events.every((e, i) => e.position === i + 1)).toBe(true);
      // The bytes before the cut that hold whole appends are all kept: nothing sound is cut with the torn part.
      const text = (await readFile(join(disk, 'segment-000001.jsonl'), 'utf8')).trimEnd().split('\n');
      expect(text.filter((line) => line.includes('"after-')).length).toBe(1);
      await rm(join(root, `run-${run}`), { recursive: true, force: true });
    }
    recordFigures({
      test: 'power cuts (random byte of the unsynced tail)',
      runs: RUNS,
      acknowledged,
      lost,
      duplicated,
      refused: damageClaimed,
      note: `${kept} unsynced events survived whole; ${partialAppends} appends split`,
    });
    expect({ lost, duplicated, partialAppends, damageClaimed }).toEqual({ lost: 0, duplicated: 0, partialAppends: 0, damageClaimed: 0 });
  }, 600_000);
});
