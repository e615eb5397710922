import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, open, readFile, readdir, readlink, rename, rm, symlink, truncate, type FileHandle, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  isCorruptLogError,
  isInvalidEventError,
  isLogLockedError,
  isLogRewrittenError,
  isStorageError,
  openFileEventStore,
  type EventStore,
  type NewEvent,
  type StoredEvent,
} from '../../src/index.js';
import { sampleEvent } from '../../src/testing/index.js';
import { logWithAppendOfThree } from '../helpers.js';

const stores: EventStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function freshDir(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'moai-recovery-')), 'events');
}

async function openStore(dir: string, readOnly = false) {
  const store = await openFileEventStore({ dir, readOnly });
  stores.push(store);
  return store;
}

async function collect(iterable: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

/** Three appends of one event each. */
async function writeThreeEvents(dir: string): Promise<string> {
  const store = await openFileEventStore({ dir });
  for (const taskId of ['t1', 't2', 't3']) await store.append('session-a', [sampleEvent(taskId)]);
  await store.close();
  return join(dir, 'segment-000001.jsonl');
}

function checksummed(json: string): string {
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** Three events, then t4 in an append of its own: a writer that wrote t4 and had not yet synced it. */
async function writeFourEvents(dir: string): Promise<string> {
  const file = await writeThreeEvents(dir);
  const writer = await openFileEventStore({ dir });
  await writer.append('session-a', [sampleEvent('t4')]);
  await writer.close();
  // The writer is still running: it has not written the index file that records t4.
  await rm(file.replace(/\.jsonl$/, '.idx'));
  return file;
}

/** The writer's fsync of t4 failed: t4 is cut off, and its next append (`replacement`) takes its place. */
async function rollBackT4AndWriteOver(dir: string, file: string, replacement: readonly NewEvent[]): Promise<void> {
  const text = await readFile(file, 'utf8');
  // Cut in place, as the writer's rollback does (writeFile would empty the file first, for a follower to see).
  await truncate(file, Buffer.byteLength(text.slice(0, text.indexOf('"position":4') - 9)));
  await rm(file.replace(/\.jsonl$/, '.idx'), { force: true });
  const writer = await openFileEventStore({ dir });
  await writer.append('session-b', replacement);
  await writer.close();
}

describe('file store on disk', () => {
  it('writes one checksummed JSON event a line', async () => {
    const dir = await freshDir();
    const file = await writeThreeEvents(dir);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const checksum = lines[0]!.slice(0, 8);
    expect(lines[0]![8]).toBe(' ');
    const json = lines[0]!.slice(9);
    expect(Number.parseInt(checksum!, 16)).toBe(crc32(json));
    expect(JSON.parse(json)).toMatchObject({ position: 1, stream: 'session-a', version: 1, type: 'TaskAdded' });
  });

  it('marks every line but the last of an append, so an append cut short is dropped whole', async () => {
    const dir = await freshDir();
    const { file, text } = await logWithAppendOfThree(dir);
    expect(text.trimEnd().split('\n').map((line) => line[8])).toEqual([' ', '+', '+', ' ']);
    // A crash before the fsync lost the append's last line (its first two made it to disk), and the writer never closed (no index file).
    await writeFile(file, text.slice(0, text.lastIndexOf('{"position":4')));
    await rm(file.replace(/\.jsonl$/, '.idx'));
    const reader = await openStore(dir, true);
    expect((await collect(reader.readAll())).map((e) => (e.data as { taskId: string }).taskId)).toEqual(['before']);
    const writer = await openStore(dir);
    expect(writer.warnings[0]).toMatchObject({ code: 'TORN_TAIL_REPAIRED', line: 2 });
    expect(writer.warnings[0]!.message).toContain('an append whose last line is missing');
    expect(await writer.headPosition()).toBe(1);
    expect((await readFile(file, 'utf8')).trimEnd().split('\n')).toHaveLength(1);
  });

  it('cuts off a torn last line on open and reports it', async () => {
    const dir = await freshDir();
    const file = await writeThreeEvents(dir);
    await appendFile(file, '1234abcd {"position":4,"stream":"session-a","vers');
    const store = await openStore(dir);
    expect(store.warnings).toHaveLength(1);
    expect(store.warnings[0]).toMatchObject({ code: 'TORN_TAIL_REPAIRED', file, line: 4 });
    expect((await collect(store.readAll())).map((e) => e.position)).toEqual([1, 2, 3]);
    const next = await store.append('session-a', [sampleEvent('t4')], { expectedVersion: 3 });
    expect(next.events[0]!.position).toBe(4);
    expect((await readFile(file, 'utf8')).trimEnd().split('\n')).toHaveLength(4);
  });

  it('cuts off a complete last line whose checksum fails, after a crash (no index file vouches for it)', async () => {
    const dir = await freshDir();
    const file = await writeThreeEvents(dir);
    await rm(file.replace(/\.jsonl$/, '.idx')); // the writer crashed: it never wrote the index file
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/"t3"/, '"t9"'));
    const store = await openStore(dir);
    expect(store.warnings[0]).toMatchObject({ code: 'TORN_TAIL_REPAIRED', line: 3 });
    expect(await store.headPosition()).toBe(2);
  });

  it('reports a corrupt line inside the log with its file and line, and changes nothing', async () => {
    const dir = await freshDir();
    const file = await writeThreeEvents(dir);
    const before = await readFile(file, 'utf8');
    const damaged = before.replace(/"t2"/, '"tX"');
    await writeFile(file, damaged);
    const store = await openStore(dir);
    const error = await collect(store.readAll()).catch((e: unknown) => e);
    expect(isCorruptLogError(error)).toBe(true);
    expect((error as Error).message).toContain(`${file}:2`);
    expect((error as Error).message).toContain('checksum mismatch');
    expect(await readFile(file, 'utf8')).toBe(damaged);
  });

  it('reports a corrupt middle line to a read-only reader too, which reads and indexes in one pass', async () => {
    const dir = await freshDir();
    const file = await writeThreeEvents(dir);
    const damaged = (await readFile(file, 'utf8')).replace(/"t2"/, '"tX"');
    await writeFile(file, damaged);
    const reader = await openStore(dir, true);
    const error = await collect(reader.readAll()).catch((e: unknown) => e);
    expect(isCorruptLogError(error)).toBe(true);
    expect((error as Error).message).toContain(`${file}:2: checksum mismatch`);
    expect(await readFile(file, 'utf8')).toBe(damaged);
  });

  it('reads the end of the log again when the writer rewrote what a reader had read (a rolled-back write)', async () => {
    const dir = await freshDir();
    // A writer writes t4; a reader reads it before the writer's fsync...
    const file = await writeFourEvents(dir);
    const reader = await openStore(dir, true);
    expect((await collect(reader.readAll())).map((e) => (e.data as { taskId: string }).taskId)).toEqual(['t1', 't2', 't3', 't4']);
    // ...which fails: t4 is cut off, and the writer's next append takes its place.
    await rollBackT4AndWriteOver(dir, file, [sampleEvent('other')]);
    const after = await collect(reader.readAll());
    expect(after.map((e) => [e.position, e.stream, (e.data as { taskId: string }).taskId])).toEqual([
      [1, 'session-a', 't1'],
      [2, 'session-a', 't2'],
      [3, 'session-a', 't3'],
      [4, 'session-b', 'other'],
    ]);
    expect(await reader.streamVersion('session-a')).toBe(3);
    expect(reader.warnings.map((w) => w.code)).toEqual(['TAIL_REWRITTEN']);
  });

  it('stops a live subscription that had delivered events the writer then rewrote, saying where to start again', async () => {
    const dir = await freshDir();
    const file = await writeFourEvents(dir);
    const reader = await openFileEventStore({ dir, readOnly: true, followIntervalMs: 10 });
    stores.push(reader);
    const seen: number[] = [];
    let failure: Error | undefined;
    reader.subscribe().subscribe({ next: (e) => seen.push(e.position), error: (e: Error) => (failure = e) });
    await vi.waitFor(() => expect(seen).toEqual([1, 2, 3, 4]));
    await rollBackT4AndWriteOver(dir, file, [sampleEvent('other')]);
    await vi.waitFor(() => expect(failure).toBeDefined(), { timeout: 5_000 });
    expect(failure!.message).toMatch(/rewrote the log from position 4 after this subscription had delivered events up to 4 .*subscribe again from position 4\./);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('lets a live subscription that delivered none of the rewritten events read the lines written in their place', async () => {
    const dir = await freshDir();
    const file = await writeFourEvents(dir); // session-a only
    const reader = await openFileEventStore({ dir, readOnly: true, followIntervalMs: 10 });
    stores.push(reader);
    const onlyB: string[] = [];
    let failure: unknown;
    reader.subscribe({ stream: 'session-b' }).subscribe({ next: (e) => onlyB.push((e.data as { taskId: string }).taskId), error: (e) => (failure = e) });
    await vi.waitFor(async () => expect(await reader.headPosition()).toBe(4));
    await new Promise((resolve) => setTimeout(resolve, 50)); // it has looked at 1 to 4, delivering nothing
    await rollBackT4AndWriteOver(dir, file, [sampleEvent('other')]); // position 4 again
    await vi.waitFor(() => expect(onlyB).toEqual(['other']), { timeout: 5_000 });
    expect(failure).toBeUndefined();
  });

  it('stops a read paused across a rewrite with an error saying to read again, and keeps every other read right', async () => {
    const dir = await freshDir();
    const file = await writeFourEvents(dir);
    const reader = await openFileEventStore({ dir, readOnly: true, followIntervalMs: 10 });
    stores.push(reader);
    const paused = reader.readStream('session-a')[Symbol.asyncIterator]();
    expect((await paused.next()).value).toMatchObject({ position: 1 });
    const fromEnd: number[] = [];
    reader.subscribe({ fromPosition: 'end' }).subscribe((e) => fromEnd.push(e.position));
    await vi.waitFor(async () => expect(await reader.headPosition()).toBe(4));
    await rollBackT4AndWriteOver(dir, file, [sampleEvent('a-longer-replacement'), sampleEvent('and-one-more')]);
    // Other reads see the log as it now is; the paused one stops, clearly.
    expect((await collect(reader.readAll())).map((e) => [e.position, e.stream])).toEqual([
      [1, 'session-a'],
      [2, 'session-a'],
      [3, 'session-a'],
      [4, 'session-b'],
      [5, 'session-b'],
    ]);
    expect(reader.warnings.map((w) => w.message)).toEqual([expect.stringContaining('from its line 4 (position 4)')]);
    const stopped = await paused.next().catch((e: unknown) => e);
    expect(isLogRewrittenError(stopped)).toBe(true);
    expect((stopped as Error).message).toMatch(/rewrote the log from position 4 while this read was under way .*read again\./);
    // A subscription from the end, which started before position 4 was rewritten, gets what replaced it.
    await vi.waitFor(() => expect(fromEnd).toEqual([4, 5]), { timeout: 5_000 });
  });

  it('reads a segment file through a symbolic link', async () => {
    const dir = await freshDir();
    const file = await writeThreeEvents(dir);
    const elsewhere = join(dirname(dir), 'kept-elsewhere.jsonl');
    await rename(file, elsewhere);
    await symlink(elsewhere, file);
    const reader = await openStore(dir, true);
    expect((await collect(reader.readAll())).map((e) => e.position)).toEqual([1, 2, 3]);
  });

  it('leaves a torn last line alone when read-only: the writer may still be writing it', async () => {
    const dir = await freshDir();
    const file = await writeThreeEvents(dir);
    await appendFile(file, '1234abcd {"position":4,"stream":"session-a","vers');
    const before = await readFile(file, 'utf8');
    const reader = await openStore(dir, true);
    expect((await collect(reader.readAll())).map((e) => e.position)).toEqual([1, 2, 3]);
    expect(await reader.headPosition()).toBe(3);
    expect(reader.warnings).toEqual([]);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('refuses to open a log whose middle line is not an event line', async () => {
    const dir = await freshDir();
    const file = await writeThreeEvents(dir);
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[1] = 'garbage';
    await writeFile(file, lines.join('\n'));
    const error = await openFileEventStore({ dir }).catch((e: unknown) => e);
    expect(isCorruptLogError(error)).toBe(true);
    expect((error as Error).message).toContain(`${file}:2`);
    expect(await readFile(file, 'utf8')).toBe(lines.join('\n'));
  });

  it('names the file and line of an event of an unknown type', async () => {
    const dir = await freshDir();
    const file = await writeThreeEvents(dir);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const event = JSON.parse(lines[1]!.slice(9)) as Record<string, unknown>;
    event.type = 'TaskZzzzz'; // as long as the type it replaces: the line stays where the index file has it
    lines[1] = checksummed(JSON.stringify(event)).trimEnd();
    await writeFile(file, `${lines.join('\n')}\n`);
    const store = await openStore(dir);
    const error = await collect(store.readAll()).catch((e: unknown) => e);
    // A line with a right checksum that is no valid event is damage to the log, named by file and line.
    expect(isCorruptLogError(error)).toBe(true);
    expect(isInvalidEventError((error as Error).cause)).toBe(true);
    expect((error as Error).message).toContain(`${file}:2`);
    expect((error as Error).message).toContain('unknown event type "TaskZzzzz"');
  });

  it('upcasts a version 1 TokenUsageRecorded event when it reads it', async () => {
    const dir = await freshDir();
    await writeThreeEvents(dir);
    const v1 = {
      position: 4,
      stream: 'session-a',
      version: 4,
      id: 'old-usage',
      type: 'TokenUsageRecorded',
      schemaVersion: 1,
      meta: { at: '2025-06-01T00:00:00.000Z' },
      data: { model: 'claude-sonnet-4-5', tokens: { input: 1200, output: 300 } },
    };
    await appendFile(join(dir, 'segment-000001.jsonl'), checksummed(JSON.stringify(v1)));
    const store = await openStore(dir);
    const [event] = await collect(store.readStream('session-a', { fromVersion: 4 }));
    expect(event).toMatchObject({
      type: 'TokenUsageRecorded',
      schemaVersion: 2,
      data: {
        model: 'claude-sonnet-4-5',
        inputTokens: 1200,
        outputTokens: 300,
        cacheCreationInputTokens: 0,
        cacheReadInputTokens: 0,
        main: true,
      },
    });
  });

  it('refuses the appends of a batch whose fsync fails, cuts their lines off, and goes on', async () => {
    const dir = await freshDir();
    const file = await writeThreeEvents(dir);
    const store = await openStore(dir);
    const probe = await open(join(dir, 'probe'), 'w');
    const fileHandle = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const failing = vi.spyOn(fileHandle, 'datasync').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    try {
      // One batch: two appends, then two whose answers rest on the first (an
      // empty append expecting it, an append conflicting with it). The batch
      // fails, so none of them may be answered as if it had been written.
      const outcomes = await Promise.allSettled([
        store.append('session-a', [sampleEvent('lost-1')]),
        store.append('session-b', [sampleEvent('lost-2')]),
        store.append('session-a', [], { expectedVersion: 4 }),
        store.append('session-a', [sampleEvent('lost-3')], { expectedVersion: 3 }),
      ]);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason as Error;
        expect(isStorageError(reason)).toBe(true);
        expect(reason.message).toMatch(/Cannot append to the event log in .*EIO/);
      }
    } finally {
      failing.mockRestore();
    }
    // Nothing of the failed batch is indexed or left in the file; the next append takes its place.
    expect(await store.headPosition()).toBe(3);
    expect((await readFile(file, 'utf8')).trimEnd().split('\n')).toHaveLength(3);
    const next = await store.append('session-a', [sampleEvent('t4')]);
    expect(next.events[0]).toMatchObject({ position: 4, version: 4 });
    await store.close();
    const reopened = await openStore(dir);
    expect(reopened.warnings).toEqual([]);
    expect((await collect(reopened.readAll())).map((e) => (e.data as { taskId: string }).taskId)).toEqual(['t1', 't2', 't3', 't4']);
  });

  it('answers an append that rests on an earlier one in its batch only once that one is durable', async () => {
    const dir = await freshDir();
    const store = await openStore(dir);
    const settled: string[] = [];
    const note = (name: string) => (result: unknown) => {
      settled.push(name);
      return result;
    };
    const [written, empty, conflicting] = await Promise.allSettled([
      store.append('session-a', [sampleEvent('t1')]).then(note('written')),
      store.append('session-a', [], { expectedVersion: 1 }).then(note('empty')),
      store.append('session-a', [sampleEvent('t2')], { expectedVersion: 0 }).catch((error: unknown) => {
        settled.push('conflicting');
        throw error;
      }),
    ]);
    expect(settled).toEqual(['written', 'empty', 'conflicting']);
    expect(written.status).toBe('fulfilled');
    expect(empty).toMatchObject({ status: 'fulfilled', value: { nextExpectedVersion: 1, events: [] } });
    expect(String((conflicting as PromiseRejectedResult).reason)).toMatch(/is at version 1/);
  });

  it('makes a new segment\'s name durable before anything is written to it, even when the first try fails', async () => {
    const dir = await freshDir();
    const store = await openFileEventStore({ dir, maxSegmentBytes: 600 });
    stores.push(store);
    await store.append('session-a', [sampleEvent('t1'), sampleEvent('t2')]); // fills the first segment
    const probe = await open(join(dir, 'probe'), 'w');
    const fileHandle = Object.getPrototypeOf(probe) as { sync: (this: FileHandle) => Promise<void> };
    await probe.close();
    const sync = fileHandle.sync;
    let folderSyncs = 0;
    const failing = vi.spyOn(fileHandle, 'sync').mockImplementation(async function (this: FileHandle) {
      // The folder syncs for the new segment's name (the sealed one's index file syncs the folder before it is made).
      const forNewSegment = (await this.stat()).isDirectory() && existsSync(join(dir, 'segment-000002.jsonl'));
      if (forNewSegment && ++folderSyncs === 1) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      return sync.call(this);
    });
    try {
      await expect(store.append('session-a', [sampleEvent('t3')])).rejects.toThrow(/Cannot append to the event log .*EIO/);
      expect(folderSyncs).toBe(1);
      const next = await store.append('session-a', [sampleEvent('t4')]);
      expect(folderSyncs).toBe(2); // tried again before the first line went to the new segment
      expect(next.events[0]).toMatchObject({ position: 3, version: 3 });
    } finally {
      failing.mockRestore();
    }
    expect((await readdir(dir)).filter((name) => name.endsWith('.jsonl'))).toEqual(['segment-000001.jsonl', 'segment-000002.jsonl']);
    expect((await collect(store.readAll())).map((e) => (e.data as { taskId: string }).taskId)).toEqual(['t1', 't2', 't4']);
  });

  it('keeps at most 16 segment files open for reading, however many segments it reads', async () => {
    const dir = await freshDir();
    const writer = await openFileEventStore({ dir, maxSegmentBytes: 400 });
    for (let i = 0; i < 60; i++) await writer.append(`session-${i % 3}`, [sampleEvent(`t${i}`)]);
    await writer.close();
    /** The descriptors this process has open on the log's segment files. */
    const openSegments = async (): Promise<number> => {
      let count = 0;
      for (const fd of await readdir('/proc/self/fd')) {
        const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
        if (target.startsWith(dir) && target.endsWith('.jsonl')) count++;
      }
      return count;
    };
    for (const readOnly of [false, true]) {
      const store = await openStore(dir, readOnly);
      const all = await collect(store.readAll());
      expect(all).toHaveLength(60);
      expect(new Set(all.map((e) => e.position)).size).toBe(60);
      expect(await openSegments()).toBeLessThanOrEqual(17); // 16 read handles, and the writer's
      await store.close();
    }
    expect((await readdir(dir)).filter((name) => name.endsWith('.jsonl')).length).toBeGreaterThan(30);
  });

  it('rolls over to a new segment when the current one is full, and reads across them', async () => {
    const dir = await freshDir();
    const store = await openFileEventStore({ dir, maxSegmentBytes: 1000 });
    stores.push(store);
    for (let i = 0; i < 20; i++) await store.append('session-a', [sampleEvent(`t${i}`)]);
    const segments = (await readdir(dir)).filter((name) => name.endsWith('.jsonl'));
    expect(segments.length).toBeGreaterThan(3);
    expect((await collect(store.readStream('session-a', { fromVersion: 5, toVersion: 15 }))).map((e) => e.version)).toEqual(
      [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    );
  });
});

describe('segment index files', () => {
  async function sealedLog(): Promise<string> {
    const dir = await freshDir();
    const store = await openFileEventStore({ dir, maxSegmentBytes: 1000 });
    for (let i = 0; i < 30; i++) await store.append(`session-${i % 3}`, [sampleEvent(`t${i}`)]);
    await store.close();
    return dir;
  }

  it('keeps an index beside each segment (the active one written on close), and reopens from them to the same log', async () => {
    const dir = await sealedLog();
    const names = await readdir(dir);
    const segments = names.filter((n) => n.endsWith('.jsonl')).sort();
    const indexes = names.filter((n) => n.endsWith('.idx')).sort();
    expect(segments.length).toBeGreaterThan(3);
    expect(indexes).toEqual(segments.map((n) => n.replace('.jsonl', '.idx')));
    const store = await openStore(dir);
    expect(await store.headPosition()).toBe(30);
    expect((await collect(store.readStream('session-1'))).map((e) => (e.data as { taskId: string }).taskId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `t${i * 3 + 1}`),
    );
    const next = await store.append('session-2', [sampleEvent()], { expectedVersion: 10 });
    expect(next.events[0]!.position).toBe(31);
  });

  it('scans only what was appended after the active segment was indexed', async () => {
    const dir = await sealedLog();
    const last = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort().at(-1)!;
    const lines = (await readFile(join(dir, last), 'utf8')).trimEnd().split('\n');
    const lastEvent = JSON.parse(lines.at(-1)!.slice(9)) as { position: number; version: number; stream: string };
    // Another writer appended (and crashed before writing an index): the index covers a prefix.
    const appended = { ...lastEvent, position: lastEvent.position + 1, version: 11, stream: 'session-0', id: 'late', type: 'TaskAdded', schemaVersion: 1, meta: { at: '2026-01-01T00:00:00.000Z' }, data: { taskId: 'late', title: 'Late' } };
    await appendFile(join(dir, last), checksummed(JSON.stringify(appended)));
    const store = await openStore(dir);
    expect(await store.headPosition()).toBe(31);
    expect(await store.streamVersion('session-0')).toBe(11);
  });

  it('refuses a segment rewritten under its index file, naming the first line that differs', async () => {
    const dir = await freshDir();
    const file = await writeThreeEvents(dir);
    const text = await readFile(file, 'utf8');
    const rewritten = text.replace('"t1"', '"a-longer-task-id"');
    await writeFile(file, rewritten);
    // The index file says what was written: the writer refuses to append to a segment that no longer holds it.
    const error = await openStore(dir).catch((e: unknown) => e);
    expect(isCorruptLogError(error)).toBe(true);
    expect((error as Error).message).toContain(`${file}:1: checksum mismatch`);
    const reader = await openStore(dir, true);
    const readError = await collect(reader.readAll()).catch((e: unknown) => e);
    expect((readError as Error).message).toContain(`${file}:1: checksum mismatch`);
    expect(await readFile(file, 'utf8')).toBe(rewritten);
  });

  it('refuses to open for writing when a line inside the last append is damaged, and changes nothing', async () => {
    const dir = await freshDir();
    const { file, text } = await logWithAppendOfThree(dir);
    // A crash: the active segment's index file was never written, and of the
    // last append, the last line and every line's end reached the disk but its
    // second line did not.
    await rm(file.replace(/\.jsonl$/, '.idx'));
    const damaged = text.replace('"x2"', '"y2"');
    expect(damaged).not.toBe(text);
    await writeFile(file, damaged);
    const error = await openStore(dir).catch((e: unknown) => e);
    expect(isCorruptLogError(error)).toBe(true);
    expect((error as Error).message).toContain(`${file}:3: checksum mismatch`);
    expect(await readFile(file, 'utf8')).toBe(damaged);
  });

  it('scans the segment of a damaged index file instead, says so, and keeps the file as it is', async () => {
    const dir = await sealedLog();
    const index = join(dir, 'segment-000001.idx');
    const bytes = await readFile(index);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    await writeFile(index, bytes);
    const store = await openStore(dir);
    expect(store.warnings.map((w) => w.code)).toEqual(['INDEX_FILE_UNREADABLE']);
    expect(store.warnings[0]!.message).toContain(`${index} cannot be read`);
    expect((await collect(store.readAll())).map((e) => e.position)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(await store.streamVersion('session-0')).toBe(10);
    await store.close();
    expect(await readFile(index)).toEqual(bytes);
  });
});

describe('file store writer lock', () => {
  it('takes the lock and names its owner in one step, so an old owner file in the way no longer matters', async () => {
    // The lock of earlier versions wrote writer.json after taking writer.lock, and had to let go when it could not.
    // writer.lock now holds its owner itself (linked into place whole): no lock without an owner can be left.
    const dir = await freshDir();
    await mkdir(join(dir, 'writer.json'), { recursive: true });
    const store = await openStore(dir);
    expect(await store.headPosition()).toBe(0);
    const owner = JSON.parse(await readFile(join(dir, 'writer.lock'), 'utf8')) as { pid: number };
    expect(owner.pid).toBe(process.pid);
    await store.close();
    expect((await readdir(dir)).filter((name) => name.startsWith('writer.lock'))).toEqual([]);
  });

  it('refuses a second writer in the same process with a clear message', async () => {
    const dir = await freshDir();
    await openStore(dir);
    const error = await openFileEventStore({ dir }).catch((e: unknown) => e);
    expect(isLogLockedError(error)).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`being written by another process \\(pid ${process.pid} on `));
  });

  it('refuses a writer while another process holds the lock, and lets it in once released', async () => {
    const dir = await freshDir();
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../fixtures/holdWriterLock.ts'), dir], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      child.on('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
    });
    const error = await openFileEventStore({ dir }).catch((e: unknown) => e);
    expect(isLogLockedError(error)).toBe(true);
    expect((error as Error).message).toContain(`pid ${child.pid}`);

    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.stdin.end();
    await exited;
    const store = await openStore(dir);
    await store.append('session-a', [sampleEvent()]);
    expect(await store.headPosition()).toBe(1);
  });

  it('gives a read-only store the same answers when several reads index it at once', async () => {
    const dir = await freshDir();
    const writer = await openFileEventStore({ dir, maxSegmentBytes: 50_000 });
    for (let i = 0; i < 600; i++) await writer.append(`session-${i % 3}`, [sampleEvent(`t${i}`)]);
    await writer.close();
    // Index files would spare the scans: without them every read scans.
    for (const name of await readdir(dir)) if (name.endsWith('.idx')) await rm(join(dir, name));
    const reader = await openStore(dir, true);
    const [all, v0, v1, stream2, head] = await Promise.all([
      collect(reader.readAll()),
      reader.streamVersion('session-0'),
      reader.streamVersion('session-1'),
      collect(reader.readStream('session-2')),
      reader.headPosition(),
    ]);
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    expect([v0, v1, stream2.length, head]).toEqual([200, 200, 200, 600]);
    expect(await reader.streamVersion('session-2')).toBe(200);
  });

  it('lets a read-only store follow a writer without taking the lock', async () => {
    const dir = await freshDir();
    const writer = await openStore(dir);
    await writer.append('session-a', [sampleEvent()]);
    const reader = await openStore(dir, true);
    expect(await reader.headPosition()).toBe(1);
    await writer.append('session-a', [sampleEvent(), sampleEvent()]);
    expect((await collect(reader.readStream('session-a'))).map((e) => e.version)).toEqual([1, 2, 3]);
    await expect(reader.append('session-a', [sampleEvent()])).rejects.toThrow(/read-only/);
  });

  it('lets a read-only store\'s subscription follow the writer live, each event once, until it is closed', async () => {
    const dir = await freshDir();
    const writer = await openStore(dir);
    await writer.append('session-a', [sampleEvent('t1')]);
    const reader = await openFileEventStore({ dir, readOnly: true, followIntervalMs: 20 });
    const everything: StoredEvent[] = [];
    const fromNow: StoredEvent[] = [];
    const onlyB: StoredEvent[] = [];
    let completed = false;
    reader.subscribe().subscribe({ next: (e) => everything.push(e), complete: () => (completed = true) });
    reader.subscribe({ fromPosition: 'end' }).subscribe((e) => fromNow.push(e));
    reader.subscribe({ stream: 'session-b' }).subscribe((e) => onlyB.push(e));
    await vi.waitFor(() => expect(everything).toHaveLength(1));
    await writer.append('session-a', [sampleEvent('t2'), sampleEvent('t3')]);
    await writer.append('session-b', [sampleEvent('t4')]);
    await vi.waitFor(() => expect(everything.map((e) => e.position)).toEqual([1, 2, 3, 4]), { timeout: 15_000 });
    await vi.waitFor(() => expect(fromNow.map((e) => e.position)).toEqual([2, 3, 4]), { timeout: 15_000 });
    await vi.waitFor(() => expect(onlyB.map((e) => e.position)).toEqual([4]), { timeout: 15_000 });
    await reader.close();
    expect(completed).toBe(true);
    await writer.append('session-a', [sampleEvent('t5')]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(everything).toHaveLength(4); // closed: it no longer looks
    await expect(openFileEventStore({ dir, readOnly: true, followIntervalMs: 0 })).rejects.toThrow(/followIntervalMs/);
  });
});
