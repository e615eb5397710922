import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isInvalidArgumentError, openFileEventStore } from '../../src/index.js';
import { LogIndex } from '../../src/store/logIndex.js';

describe('LogIndex', () => {
  it('keeps every line where it was put across pages, and forgets a cut tail', () => {
    const index = new LogIndex();
    const lines = 150_000; // more than two pages of 65,536
    for (let i = 0; i < lines; i++) index.add(`s${i % 3}`, i >> 16, i * 300, 250 + (i % 50));
    expect(index.count).toBe(lines);
    for (const position of [1, 65_536, 65_537, 131_073, lines]) {
      const i = position - 1;
      expect([index.segment(position), index.offset(position), index.length(position), index.stream(position)]).toEqual([i >> 16, i * 300, 250 + (i % 50), `s${i % 3}`]);
    }
    expect(index.versionOf('s1')).toBe(50_000);
    index.truncate(65_000);
    expect(index.count).toBe(65_000);
    expect(index.versionOf('s0')).toBe(21_667);
    index.add('s9', 7, 123, 45);
    expect([index.segment(65_001), index.offset(65_001), index.length(65_001), index.stream(65_001)]).toEqual([7, 123, 45, 's9']);
    expect(index.streams.get('s9')?.positions.at(0)).toBe(65_001);
    index.truncate(65_536); // nothing to forget past a page's end: the index had only 65,001
    index.truncate(0);
    index.add('s0', 3, 77, 66);
    expect([index.count, index.segment(1), index.offset(1), index.length(1), index.stream(1)]).toEqual([1, 3, 77, 66, 's0']);
  });

  it('writes over a page boundary again after a cut at it', () => {
    const index = new LogIndex();
    for (let i = 0; i < 65_540; i++) index.add('s', 0, i, 1);
    index.truncate(65_536);
    index.add('t', 1, 5, 9);
    expect([index.count, index.segment(65_537), index.offset(65_537), index.length(65_537), index.stream(65_537)]).toEqual([65_537, 1, 5, 9, 't']);
    expect(index.offset(65_536)).toBe(65_535);
  });

  it('indexes a run of lines of a stream a cut had emptied', () => {
    const index = new LogIndex();
    index.add('a', 0, 0, 10);
    index.add('b', 0, 11, 10);
    index.truncate(1); // b had only the cut line
    expect(index.streams.has('b')).toBe(false);
    index.addRun(1, ['b', 'c'], Uint32Array.of(0, 1, 0), Uint32Array.of(0, 20, 40), Uint32Array.of(19, 19, 19));
    expect(index.count).toBe(4);
    expect(index.versionOf('b')).toBe(2);
    expect([index.streams.get('b')!.positions.at(0), index.streams.get('b')!.positions.at(1)]).toEqual([2, 4]);
    expect([index.stream(3), index.offset(3), index.segment(3)]).toEqual(['c', 20, 1]);
  });

  it('holds offsets up to 4 GiB, as segment index files do', () => {
    const index = new LogIndex();
    index.add('s', 0, 2 ** 32 - 1000, 999);
    expect(index.offset(1)).toBe(2 ** 32 - 1000);
  });
});

describe('file store segment size', () => {
  it('refuses a segment size its 32-bit offsets cannot reach, naming the limit', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'moai-index-')), 'events');
    const error = await openFileEventStore({ dir, maxSegmentBytes: 8 * 2 ** 30 }).catch((e: unknown) => e);
    expect(isInvalidArgumentError(error)).toBe(true);
    expect((error as Error).message).toContain('maxSegmentBytes must be a whole number of bytes from 1 to 2147483648 (2 GiB)');
    const largest = await openFileEventStore({ dir, maxSegmentBytes: 2 ** 31 });
    await largest.close();
  });
});
