// A crash tears only the unacknowledged end of the log; anything else that is
// wrong is damage. Damage is a CorruptLogError naming the file and line, and
// nothing on disk changes: no cut, no index file written over (issue 9,
// defects 1 to 3).
import { appendFile, copyFile, mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isCorruptLogError, openFileEventStore, repairLog, type EventStore, type StoredEvent } from '../../src/index.js';
import { sampleEvent } from '../../src/testing/index.js';

const stores: EventStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function freshDir(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'moai-damage-')), 'events');
}

/** `count` appends of one event each, closed cleanly (so every segment has its index file). */
async function cleanLog(dir: string, count: number, maxSegmentBytes?: number): Promise<void> {
  const store = await openFileEventStore({ dir, ...(maxSegmentBytes === undefined ? {} : { maxSegmentBytes }) });
  for (let i = 1; i <= count; i++) await store.append(`session-${i % 2}`, [sampleEvent(`t${i}`)]);
  await store.close();
}

/** Every file of the folder and its bytes, to show nothing changed. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    if (name === 'writer.lock') continue;
    files.set(name, (await readFile(join(dir, name))).toString('base64'));
  }
  return files;
}

async function collect(iterable: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

/** What opening for writing, and reading read-only, make of the folder: both must fail. */
async function writerAndReaderErrors(dir: string): Promise<{ writer: unknown; reader: unknown }> {
  const writer = await openFileEventStore({ dir }).then(
    async (store) => {
      stores.push(store);
      return store.append('session-0', [sampleEvent('after')]).then(() => 'appended', (e: unknown) => e);
    },
    (e: unknown) => e,
  );
  const reader = await openFileEventStore({ dir, readOnly: true }).then(
    (readStore) => {
      stores.push(readStore);
      return collect(readStore.readAll()).then(() => 'read', (e: unknown) => e);
    },
    (e: unknown) => e,
  );
  return { writer, reader };
}

function lineEnds(text: string): number[] {
  const ends: number[] = [];
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) ends.push(at + 1);
  return ends;
}

describe('damage to a committed log (defect 1: a damaged last line is not a torn tail)', () => {
  it('refuses a flipped byte in the last line of a cleanly closed log, naming file and line, and changes nothing', async () => {
    const dir = await freshDir();
    await cleanLog(dir, 3);
    const file = join(dir, 'segment-000001.jsonl');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"t3"', '"t9"'));
    const before = await snapshot(dir);
    const { writer, reader } = await writerAndReaderErrors(dir);
    for (const error of [writer, reader]) {
      expect(isCorruptLogError(error)).toBe(true);
      expect((error as Error).message).toContain(`${file}:3`);
      expect((error as Error).message).toContain('segment-000001.idx');
    }
    expect(await snapshot(dir)).toEqual(before);
  });

  it('still cuts a torn line after a crash (no index file covers it), and says so', async () => {
    const dir = await freshDir();
    await cleanLog(dir, 3);
    const file = join(dir, 'segment-000001.jsonl');
    await appendFile(file, '0a1b2c3d {"position":4,"stream":"sessi');
    const store = await openFileEventStore({ dir });
    stores.push(store);
    expect(store.warnings.map((w) => w.code)).toEqual(['TORN_TAIL_REPAIRED']);
    expect(await store.headPosition()).toBe(3);
  });

  it('refuses a sound last line whose position does not follow, rather than cutting it', async () => {
    const dir = await freshDir();
    await cleanLog(dir, 3);
    const file = join(dir, 'segment-000001.jsonl');
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    // A whole, checksummed line of ours that repeats position 2: not something a crash writes.
    await appendFile(file, `${lines[1]}\n`);
    const before = await snapshot(dir);
    const { writer } = await writerAndReaderErrors(dir);
    expect(isCorruptLogError(writer)).toBe(true);
    expect((writer as Error).message).toContain(`${file}:4`);
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('a truncated segment (defect 2)', () => {
  it('refuses a segment shorter than its index file says, naming the first missing line, and keeps the index file', async () => {
    const dir = await freshDir();
    await cleanLog(dir, 15);
    const file = join(dir, 'segment-000001.jsonl');
    const text = await readFile(file, 'utf8');
    await truncate(file, lineEnds(text)[6]!); // after its 7th line
    const before = await snapshot(dir);
    const { writer, reader } = await writerAndReaderErrors(dir);
    for (const error of [writer, reader]) {
      expect(isCorruptLogError(error)).toBe(true);
      expect((error as Error).message).toContain(`${file}:8`);
      expect((error as Error).message).toMatch(/15 lines/);
    }
    expect(await snapshot(dir)).toEqual(before);
  });

  it('refuses a sealed segment that ends before the next segment starts, even without index files', async () => {
    const dir = await freshDir();
    await cleanLog(dir, 30, 1000);
    const names = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort();
    expect(names.length).toBeGreaterThan(2);
    for (const name of await readdir(dir)) if (name.endsWith('.idx')) await rm(join(dir, name));
    const first = join(dir, names[0]!);
    const text = await readFile(first, 'utf8');
    const lines = lineEnds(text).length;
    await truncate(first, lineEnds(text)[1]!); // two lines left
    const before = await snapshot(dir);
    const { writer, reader } = await writerAndReaderErrors(dir);
    for (const error of [writer, reader]) {
      expect(isCorruptLogError(error)).toBe(true);
      expect((error as Error).message).toContain(`${first}:3`);
      expect((error as Error).message).toContain(`positions 3 to ${lines}`);
    }
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('a file that holds no line of ours (defect 3)', () => {
  it('refuses a junk last segment without a line end, naming it, and leaves its bytes', async () => {
    const dir = await freshDir();
    await cleanLog(dir, 3);
    const junk = join(dir, 'segment-000002.jsonl');
    await writeFile(junk, 'not ours at all');
    const before = await snapshot(dir);
    const { writer, reader } = await writerAndReaderErrors(dir);
    for (const error of [writer, reader]) {
      expect(isCorruptLogError(error)).toBe(true);
      expect((error as Error).message).toContain(`${junk}:1`);
      expect((error as Error).message).toContain('not a line of a moai-session event log');
    }
    expect(await readFile(junk, 'utf8')).toBe('not ours at all');
    expect(await snapshot(dir)).toEqual(before);
  });

  it('refuses junk after the last line of a segment, and a junk line with its end', async () => {
    for (const junk of ['garbage\n', 'garbage without end']) {
      const dir = await freshDir();
      await cleanLog(dir, 3);
      const file = join(dir, 'segment-000001.jsonl');
      await appendFile(file, junk);
      const before = await snapshot(dir);
      const { writer } = await writerAndReaderErrors(dir);
      expect(isCorruptLogError(writer)).toBe(true);
      expect((writer as Error).message).toContain(`${file}:4`);
      expect(await snapshot(dir)).toEqual(before);
    }
  });

  it('cuts a new segment that holds only the torn start of its first line (a crash just after the rollover)', async () => {
    const dir = await freshDir();
    await cleanLog(dir, 3);
    const torn = join(dir, 'segment-000002.jsonl');
    await writeFile(torn, '9f8e7d6c {"posit');
    const store = await openFileEventStore({ dir });
    stores.push(store);
    expect(store.warnings.map((w) => w.code)).toEqual(['TORN_TAIL_REPAIRED']);
    expect(await readFile(torn, 'utf8')).toBe('');
    expect((await store.append('session-0', [sampleEvent('t4')])).events[0]!.position).toBe(4);
  });
});

describe("the writer's durable record of what it acknowledged (writer.acked)", () => {
  /** A writer that acknowledged `count` appends, then "crashed": the disk as it was, no index file of this session, the record as last written. */
  async function crashedAfter(count: number): Promise<{ disk: string; file: string }> {
    const dir = await freshDir();
    const writer = await openFileEventStore({ dir });
    for (let i = 1; i <= count; i++) await writer.append('session-a', [sampleEvent(`t${i}`)]);
    await new Promise((resolve) => setTimeout(resolve, 1_300)); // the record is kept about once a second
    const disk = join(dir, '..', 'disk');
    await mkdir(disk, { recursive: true });
    for (const name of ['segment-000001.jsonl', 'writer.acked']) await copyFile(join(dir, name), join(disk, name));
    await writer.close();
    return { disk, file: join(disk, 'segment-000001.jsonl') };
  }

  it('makes a damaged last line that no index file covers damage, not a torn tail, once the record shows it acknowledged', async () => {
    const { disk, file } = await crashedAfter(3);
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"t3"', '"t8"'));
    const before = await snapshot(disk);
    const { writer, reader } = await writerAndReaderErrors(disk);
    // A reader too: the record says the line was acknowledged, so no writer can still be writing it.
    for (const error of [writer, reader]) {
      expect(isCorruptLogError(error)).toBe(true);
      expect((error as Error).message).toContain(`${file}:3`);
      expect((error as Error).message).toContain('writer.acked');
    }
    expect(await snapshot(disk)).toEqual(before);
  });

  it('makes a log that ends before the last acknowledged position damage, even cut at a line end', async () => {
    const { disk, file } = await crashedAfter(5);
    const text = await readFile(file, 'utf8');
    await truncate(file, lineEnds(text)[2]!);
    const before = await snapshot(disk);
    const { writer } = await writerAndReaderErrors(disk);
    expect(isCorruptLogError(writer)).toBe(true);
    expect((writer as Error).message).toContain(`${file}:4`);
    expect((writer as Error).message).toMatch(/acknowledged events up to position 5: positions 4 to 5 are missing/);
    expect(await snapshot(disk)).toEqual(before);
  });

  it('still cuts a torn line after the last acknowledged one', async () => {
    const { disk, file } = await crashedAfter(3);
    await appendFile(file, '0a1b2c3d {"position":4,"str');
    const store = await openFileEventStore({ dir: disk });
    stores.push(store);
    expect(store.warnings.map((w) => w.code)).toEqual(['TORN_TAIL_REPAIRED']);
    expect(await store.headPosition()).toBe(3);
  });
});

describe('a segment gone from the middle of the log', () => {
  it('is named by the positions missing before the next segment, and repair fills them with EventLost lines, moving nothing', async () => {
    const dir = await freshDir();
    await cleanLog(dir, 30, 1000);
    const names = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort();
    expect(names.length).toBeGreaterThan(3);
    const firstLines = (await readFile(join(dir, names[0]!), 'utf8')).trimEnd().split('\n').length;
    const secondLines = (await readFile(join(dir, names[1]!), 'utf8')).trimEnd().split('\n').length;
    await rm(join(dir, names[1]!));
    await rm(join(dir, names[1]!.replace('.jsonl', '.idx')));
    const before = await snapshot(dir);
    const { writer, reader } = await writerAndReaderErrors(dir);
    for (const error of [writer, reader]) {
      expect(isCorruptLogError(error)).toBe(true);
      expect((error as Error).message).toContain(`${join(dir, names[0]!)}:${firstLines + 1}`);
      expect((error as Error).message).toContain(`positions ${firstLines + 1} to ${firstLines + secondLines} are missing`);
    }
    expect(await snapshot(dir)).toEqual(before);
    const report = await repairLog({ dir, repairRoot: join(dir, '..', 'repair'), lockWaitMs: 0 });
    const lost = Array.from({ length: secondLines }, (_, i) => firstLines + 1 + i);
    expect(report.lostPositions).toEqual(lost);
    const store = await openFileEventStore({ dir });
    stores.push(store);
    expect(await store.headPosition()).toBe(30);
    const events = [];
    for await (const event of store.readAll()) events.push(event);
    expect(events.filter((e) => e.type === 'EventLost').map((e) => e.position)).toEqual(lost);
  });
});

describe('a segment file gone, its index file left', () => {
  it('is damage naming the missing segment, and repair reports the positions its index file recorded', async () => {
    const dir = await freshDir();
    await cleanLog(dir, 30, 1000);
    const names = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort();
    const last = names.at(-1)!;
    const lastLines = (await readFile(join(dir, last), 'utf8')).trimEnd().split('\n').length;
    await rm(join(dir, last));
    const before = await snapshot(dir);
    const { writer, reader } = await writerAndReaderErrors(dir);
    for (const error of [writer, reader]) {
      expect(isCorruptLogError(error)).toBe(true);
      expect((error as Error).message).toContain(`${join(dir, last)}:1: the segment file is missing`);
    }
    expect(await snapshot(dir)).toEqual(before);
    const report = await repairLog({ dir, repairRoot: join(dir, '..', 'repair'), lockWaitMs: 0 });
    const lost = Array.from({ length: lastLines }, (_, i) => 30 - lastLines + 1 + i);
    expect(report.missing.map((m) => m.positions)).toEqual([lost]);
    const store = await openFileEventStore({ dir });
    stores.push(store);
    // The positions it recorded hold EventLost lines (in the streams its index file names): none is used again.
    expect(await store.headPosition()).toBe(30);
    const events = [];
    for await (const event of store.readAll({ fromPosition: lost[0]! })) events.push(event);
    expect(events.map((e) => e.type)).toEqual(lost.map(() => 'EventLost'));
  });
});
