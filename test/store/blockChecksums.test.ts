import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { isCorruptLogError, openFileEventStore, type EventStore, type StoredEvent } from '../../src/index.js';
import { BLOCK_BYTES, LineBlocks } from '../../src/store/lineBlocks.js';
import { readSegmentIndex } from '../../src/store/segmentIndexFile.js';
import { sampleEvent } from '../../src/testing/index.js';
import { logWithAppendOfThree } from '../helpers.js';

const stores: EventStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function freshDir(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'moai-blocks-')), 'events');
}

async function collect(iterable: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

async function reader(dir: string): Promise<EventStore> {
  const store = await openFileEventStore({ dir, readOnly: true });
  stores.push(store);
  return store;
}

/** A log of one segment of about 3 MB: 12,000 events in appends of 100, so it has several blocks. */
async function bigLog(): Promise<{ dir: string; file: string }> {
  const dir = await freshDir();
  const store = await openFileEventStore({ dir, durability: 'none' });
  for (let i = 0; i < 120; i++) {
    await store.append(`session-${i % 7}`, Array.from({ length: 100 }, (_, k) => sampleEvent(`t${i}-${k}`, `A task title long enough to fill the log ${i}-${k}`)));
  }
  await store.close();
  return { dir, file: join(dir, 'segment-000001.jsonl') };
}

/** Change one byte of a line's JSON (keeping its length), so only a checksum can tell. */
async function damageLine(file: string, line: number): Promise<void> {
  const bytes = await readFile(file);
  let start = 0;
  for (let i = 1; i < line; i++) start = bytes.indexOf(0x0a, start) + 1;
  const at = bytes.indexOf(Buffer.from('"title":"A'), start) + 9;
  bytes[at] = 'B'.charCodeAt(0);
  await writeFile(file, bytes);
}

describe('block checksums', () => {
  it('cover every line a writer wrote, each block with the CRC-32 of its lines', async () => {
    const { file } = await bigLog();
    const index = (await readSegmentIndex(file))!;
    const bytes = await readFile(file);
    expect(index.blocks.length).toBeGreaterThan(2);
    let nextLine = 0;
    for (const block of index.blocks) {
      expect(block.firstLine).toBe(nextLine);
      const last = block.firstLine + block.lineCount - 1;
      const start = index.offsets[block.firstLine]!;
      const end = index.offsets[last]! + index.lengths[last]! + 1;
      expect(crc32(bytes.subarray(start, end))).toBe(block.crc);
      nextLine = last + 1;
    }
    expect(nextLine).toBe(12_000);
  });

  it('let a reader read a long log whole, the same as the writer wrote it', async () => {
    const { dir } = await bigLog();
    const events = await collect((await reader(dir)).readAll());
    expect(events.map((e) => e.position)).toEqual(Array.from({ length: 12_000 }, (_, i) => i + 1));
    expect((events[5_432]!.data as { taskId: string }).taskId).toBe('t54-32');
  });

  it('let a reader read any range of a log of many segments through their index files', async () => {
    const dir = await freshDir();
    const writer = await openFileEventStore({ dir, maxSegmentBytes: 4_000 });
    for (let i = 0; i < 60; i++) await writer.append(`session-${i % 4}`, [sampleEvent(`t${i}`), sampleEvent(`u${i}`)]);
    await writer.close();
    for (const [from, to] of [
      [1, 120],
      [7, 23],
      [50, 51],
      [97, 120],
    ] as const) {
      const events = await collect((await reader(dir)).readAll({ fromPosition: from, toPosition: to }));
      expect(events.map((e) => e.position)).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
    }
    const stream = await collect((await reader(dir)).readStream('session-3'));
    expect(stream.map((e) => e.version)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('name the damaged line when a block does not match, and change nothing', async () => {
    const { dir, file } = await bigLog();
    await damageLine(file, 7_777);
    const damaged = await readFile(file);
    const error = await collect((await reader(dir)).readAll()).catch((e: unknown) => e);
    expect(isCorruptLogError(error)).toBe(true);
    expect((error as Error).message).toContain(`${file}:7777: checksum mismatch`);
    expect((await readFile(file)).equals(damaged)).toBe(true);
  });

  it('never vouch for lines the writer found on open instead of writing them', async () => {
    const dir = await freshDir();
    const file = join(dir, 'segment-000001.jsonl');
    let store = await openFileEventStore({ dir });
    await store.append('session-a', [sampleEvent('t1')]);
    await store.close();
    // A line another writer appended after the index was written (it crashed before writing one).
    const json = JSON.stringify({
      position: 2,
      stream: 'session-a',
      version: 2,
      id: 'late',
      type: 'TaskAdded',
      schemaVersion: 1,
      meta: { at: '2026-01-01T00:00:00.000Z' },
      data: { taskId: 't2', title: 'A late task' },
    });
    await appendFile(file, `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`);
    store = await openFileEventStore({ dir });
    await store.append('session-a', [sampleEvent('t3')]);
    await store.close();
    const index = (await readSegmentIndex(file))!;
    expect(index.blocks.map((b) => [b.firstLine, b.lineCount])).toEqual([
      [0, 1],
      [2, 1],
    ]);
    // So damage to that line is still caught, by its own checksum.
    await damageLine(file, 2);
    const error = await collect((await reader(dir)).readAll()).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`${file}:2: checksum mismatch`);
  });

  it('grow across writer sessions: a writer that reopens the log extends the last block', async () => {
    const dir = await freshDir();
    const file = join(dir, 'segment-000001.jsonl');
    for (let session = 0; session < 5; session++) {
      const store = await openFileEventStore({ dir });
      await store.append('session-a', [sampleEvent(), sampleEvent()]);
      await store.close();
    }
    const index = (await readSegmentIndex(file))!;
    expect(index.blocks.map((b) => [b.firstLine, b.lineCount])).toEqual([[0, 10]]);
    const bytes = await readFile(file);
    expect(crc32(bytes)).toBe(index.blocks[0]!.crc);
    expect(await collect((await reader(dir)).readAll())).toHaveLength(10);
  });

  it('are optional: an index file written before them (format 1) is still read', async () => {
    const { dir, file } = await bigLog();
    const indexPath = file.replace(/\.jsonl$/, '.idx');
    const v2 = await readFile(indexPath);
    const blockCount = (await readSegmentIndex(file))!.blocks.length;
    const body = Buffer.from(v2.subarray(0, v2.length - 4 - 4 - blockCount * 12));
    body.writeUInt32LE(1, 8); // the format number
    const v1 = Buffer.concat([body, Buffer.alloc(4)]);
    v1.writeUInt32LE(crc32(body), body.length);
    await writeFile(indexPath, v1);
    expect((await readSegmentIndex(file))?.blocks).toEqual([]);
    const events = await collect((await reader(dir)).readAll());
    expect(events).toHaveLength(12_000);
    await damageLine(file, 11_000);
    const error = await collect((await reader(dir)).readAll()).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`${file}:11000: checksum mismatch`);
  });
});

describe('LineBlocks', () => {
  const lines = (count: number, length: number): { buffer: Buffer; lengths: number[] } => ({
    buffer: Buffer.from(Array.from({ length: count }, (_, i) => `${String(i).padStart(length, 'x')}\n`).join('')),
    lengths: Array.from({ length: count }, () => length),
  });

  it('closes a block once it holds a megabyte, across writes, and checksums exactly its bytes', () => {
    const blocks = new LineBlocks();
    const written: Buffer[] = [];
    let line = 0;
    for (let write = 0; write < 30; write++) {
      const { buffer, lengths } = lines(1_000, 99); // 100 KB a write
      blocks.add(buffer, lengths, line);
      written.push(buffer);
      line += 1_000;
    }
    const all = Buffer.concat(written);
    const found = blocks.all();
    const perBlock = Math.ceil(BLOCK_BYTES / 100);
    expect(found.map((b) => b.lineCount)).toEqual([perBlock, perBlock, 30_000 - 2 * perBlock]);
    for (const block of found) {
      expect(crc32(all.subarray(block.firstLine * 100, (block.firstLine + block.lineCount) * 100))).toBe(block.crc);
    }
    expect(blocks.startingAt(found[1]!.firstLine)).toEqual(found[1]);
    expect(blocks.startingAt(1)).toBeUndefined();
  });

  it('goes on with the last block when told its size, and closes it again when lines do not follow it', () => {
    const { buffer, lengths } = lines(4, 9);
    const whole = new LineBlocks();
    whole.add(buffer, lengths, 0);
    const first = new LineBlocks();
    first.add(buffer.subarray(0, 20), lengths.slice(0, 2), 0);
    const reopened = new LineBlocks(first.all());
    reopened.reopenLast(20);
    reopened.add(buffer.subarray(20), lengths.slice(2), 2);
    expect(reopened.all()).toEqual(whole.all());
    const gap = new LineBlocks(first.all());
    gap.reopenLast(20);
    gap.add(buffer.subarray(20, 30), lengths.slice(3), 3);
    expect(gap.all().map((b) => [b.firstLine, b.lineCount])).toEqual([
      [0, 2],
      [3, 1],
    ]);
  });

  it('starts a new block after a gap, and forgets the blocks past a cut', () => {
    const blocks = new LineBlocks([{ firstLine: 0, lineCount: 10, crc: 1 }]);
    const { buffer, lengths } = lines(5, 9);
    blocks.add(buffer, lengths, 12);
    expect(blocks.all().map((b) => [b.firstLine, b.lineCount])).toEqual([
      [0, 10],
      [12, 5],
    ]);
    blocks.truncate(14);
    expect(blocks.all().map((b) => [b.firstLine, b.lineCount])).toEqual([[0, 10]]);
    blocks.truncate(9);
    expect(blocks.all()).toEqual([]);
  });

  it('plans an update without changing the blocks, keeps it when applied, and refuses a plan gone stale', () => {
    const { buffer, lengths } = lines(4, 9);
    const blocks = new LineBlocks();
    blocks.add(buffer.subarray(0, 20), lengths.slice(0, 2), 0);
    const before = blocks.all();
    const update = blocks.plan(buffer.subarray(20), lengths.slice(2), 2);
    expect(blocks.all()).toEqual(before); // planning changes nothing: the lines are not durable yet
    blocks.apply(update);
    const whole = new LineBlocks();
    whole.add(buffer, lengths, 0);
    expect(blocks.all()).toEqual(whole.all());

    const stale = blocks.plan(buffer.subarray(0, 10), lengths.slice(0, 1), 4);
    blocks.truncate(2); // a rollback in between
    expect(() => blocks.apply(stale)).toThrow(/changed after the update was planned/);
    expect(blocks.all()).toEqual([]);
  });
});

describe('overlapping reads of a read-only store', () => {
  /** 120 events in appends of two, over several segments, each with its index file. */
  async function manySegments(): Promise<string> {
    const dir = await freshDir();
    const writer = await openFileEventStore({ dir, maxSegmentBytes: 4_000 });
    for (let i = 0; i < 60; i++) await writer.append(`session-${i % 4}`, [sampleEvent(`t${i}`), sampleEvent(`u${i}`)]);
    await writer.close();
    return dir;
  }
  const allPositions = Array.from({ length: 120 }, (_, i) => i + 1);

  it('give each of two reads started together the whole log', async () => {
    const store = await reader(await manySegments());
    const [a, b] = await Promise.all([collect(store.readAll()), collect(store.readAll())]);
    expect(a.map((e) => e.position)).toEqual(allPositions);
    expect(b.map((e) => e.position)).toEqual(allPositions);
  });

  it('give a read the whole log when a query indexed the segments under it', async () => {
    for (const query of [
      (s: EventStore) => s.headPosition(),
      (s: EventStore) => s.streamVersion('session-1'),
      (s: EventStore) => collect(s.readStream('session-1')),
    ]) {
      const store = await reader(await manySegments());
      const [, all] = await Promise.all([query(store), collect(store.readAll())]);
      expect(all.map((e) => e.position)).toEqual(allPositions);
    }
  });

  it('give a read that paused between batches the rest, once, after another read indexed it', async () => {
    const store = await reader(await manySegments());
    const paused = store.readAllBatches()[Symbol.asyncIterator]();
    const seen = ((await paused.next()).value as StoredEvent[]).map((e) => e.position);
    expect(await collect(store.readAll())).toHaveLength(120);
    for (let n = await paused.next(); n.done !== true; n = await paused.next()) seen.push(...n.value.map((e) => e.position));
    expect(seen).toEqual(allPositions);
  });

  it('never hand out part of an append whose last line is not there yet, even up to a position inside it', async () => {
    const dir = await freshDir();
    const { file, text } = await logWithAppendOfThree(dir);
    // The writer is still writing the append: its last line is not there yet (and it has written no index file).
    await writeFile(file, text.slice(0, text.lastIndexOf('{"position":4') - 9));
    await rm(file.replace(/\.jsonl$/, '.idx'));
    const store = await reader(dir);
    const [upToTwo, all] = await Promise.all([collect(store.readAll({ toPosition: 2 })), collect(store.readAll())]);
    expect(upToTwo.map((e) => e.position)).toEqual([1]);
    expect(all.map((e) => e.position)).toEqual([1]);
  });

  it('never index part of an unfinished append, even when a read stops in the middle of it', async () => {
    const dir = await freshDir();
    const store = await openFileEventStore({ dir, durability: 'none' });
    for (let i = 0; i < 10; i++) await store.append('session-a', [sampleEvent()]);
    // One append of about 1.5 MB: more than one read of the segment.
    await store.append('session-b', Array.from({ length: 5_000 }, () => sampleEvent(undefined, 'A title long enough to make this append span reads of the file')));
    await store.close();
    const file = join(dir, 'segment-000001.jsonl');
    const text = await readFile(file, 'utf8');
    // The writer is still writing it: its last line is not there yet, and there is no index file to go by.
    await writeFile(file, text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1));
    await rm(file.replace(/\.jsonl$/, '.idx'));
    const reading = await reader(dir);
    for await (const batch of reading.readAllBatches()) {
      expect(batch.map((e) => e.position)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      break; // the consumer stops while the scan is inside the unfinished append
    }
    expect(await reading.headPosition()).toBe(10);
    expect(await collect(reading.readAll())).toHaveLength(10);
  });
});
