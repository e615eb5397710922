import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { basename } from 'node:path';
import { CorruptLogError, StorageError } from '../errors.js';
import { LineBlocks } from './lineBlocks.js';
import { decodeLine, readLineHeader, type LineHeader } from './lineCodec.js';
import type { LogIndex } from './logIndex.js';
import { indexFileOf, readIndexFile, writeSegmentIndex, type SegmentIndex } from './segmentIndexFile.js';
import { readLineChunks } from './segmentLines.js';

/*
 * The segment catalog: which segment files the log has, what is known of
 * each, and their index files (`segment-NNNNNN.idx`, see
 * `segmentIndexFile.ts`). Writer and reader keep one each, over the same
 * shared {@link LogIndex}.
 */

/** One segment file of the log and how much of it is indexed. */
export interface Segment {
  readonly number: number;
  readonly name: string;
  readonly path: string;
  /** The position of its first line; set when its scan starts. */
  firstPosition: number;
  /** Bytes of complete, indexed lines. */
  size: number;
  /** True when indexed to the end of the file as last seen. */
  scanned: boolean;
  /** Checksums of runs of its lines (from its index file, and as its writer appends). */
  blocks: LineBlocks;
  /**
   * Lines a sound index file recorded: written and synced by a writer, so
   * acknowledged. A scan never cuts them off as a torn tail.
   */
  acknowledgedLines?: number;
  /** Its index file could not be read: kept as it is (evidence), never written over by the store. */
  indexFileUnreadable?: string;
}

const SEGMENT_PATTERN = /^segment-(\d{6,})\.jsonl$/;
const INDEX_PATTERN = /^segment-(\d{6,})\.idx$/;

/** The file name of segment `n`: `segment-000001.jsonl`, ... */
export const segmentName = (n: number): string => `segment-${String(n).padStart(6, '0')}.jsonl`;

/** Reads a line's header where an index file says its last line is, or why it is not sound there: the catalog's only need of a segment reader. */
export type SoundHeaderAt = (segment: Segment, offset: number, length: number) => Promise<LineHeader | { reason: string }>;

/** The segments of one log folder, in order, and their index files. */
export class SegmentCatalog {
  /** Every segment known, oldest first; a segment's place in it is the number the index keeps. */
  readonly segments: Segment[] = [];

  /**
   * @param dir the log folder
   * @param index the log index the segments' lines go into
   * @param missingFolderIsEmpty a reader may look before any writer made the folder; a writer made it
   */
  constructor(
    readonly dir: string,
    private readonly index: LogIndex,
    private readonly missingFolderIsEmpty: boolean,
  ) {}

  /** The last (active) segment, if there is one. */
  get last(): Segment | undefined {
    return this.segments.at(-1);
  }

  /** Add the segment files not known yet; they are scanned when first needed. */
  async discover(): Promise<void> {
    const known = this.last?.number ?? 0;
    for (const number of await this.listSegmentNumbers()) {
      if (number <= known) continue;
      const name = segmentName(number);
      this.segments.push({ number, name, path: join(this.dir, name), firstPosition: 0, size: 0, scanned: false, blocks: new LineBlocks() });
    }
  }

  /** A new, empty segment after the last, for the lines from the next position on; not known until {@link add}ed. */
  nextSegment(): Segment {
    const number = (this.last?.number ?? 0) + 1;
    const name = segmentName(number);
    return { number, name, path: join(this.dir, name), firstPosition: this.index.count + 1, size: 0, scanned: true, blocks: new LineBlocks() };
  }

  /** Know `segment` (from {@link nextSegment}) as the last one. */
  add(segment: Segment): void {
    this.segments.push(segment);
  }

  /** The segment files in the folder, in order; none when a reader's folder does not exist. */
  private async listSegmentNumbers(): Promise<number[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && this.missingFolderIsEmpty) return [];
      throw new StorageError(`Cannot read the event log folder ${this.dir}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const numbers: number[] = [];
    const indexed: number[] = [];
    for (const entry of entries) {
      const indexFile = INDEX_PATTERN.exec(entry.name)?.[1];
      if (indexFile !== undefined) indexed.push(Number(indexFile));
      const number = SEGMENT_PATTERN.exec(entry.name)?.[1];
      if (number === undefined) continue;
      // Skipping it would hide part of the log: say what is in the way. (A link to a file is a file.)
      const isFile = entry.isFile() || (entry.isSymbolicLink() && (await stat(join(this.dir, entry.name)).then((s) => s.isFile(), () => false)));
      if (!isFile) {
        throw new StorageError(
          `${join(this.dir, entry.name)} is not a file: a segment of the event log must be one. Move it out of ${this.dir}, or put the segment back.`,
        );
      }
      numbers.push(Number(number));
    }
    // An index file is written only after its segment: one without its segment is a segment lost.
    const orphan = indexed.filter((n) => !numbers.includes(n)).sort((a, b) => a - b)[0];
    if (orphan !== undefined) {
      const name = segmentName(orphan);
      throw new CorruptLogError(
        join(this.dir, name),
        1,
        `the segment file is missing, but its index file ${indexFileOf(name)} is there: the segment and the acknowledged events in it were deleted or moved`,
      );
    }
    return numbers.sort((a, b) => a - b);
  }

  /**
   * Index a segment from its index file (all of it, or with `prefix` its
   * start); false when there is none to use (missing or unreadable, or a
   * sealed segment that grew after it was written: then it is scanned). With
   * `continueLastBlock` (a writer reopening its active segment), the block
   * the file ends with is reopened so the next appends extend it.
   *
   * A sound index file is evidence of what was acknowledged: a segment
   * shorter than it says, its last line not sound where it says, or a first
   * position that does not follow the segment before, is a
   * {@link CorruptLogError}, never a tail to cut.
   */
  async loadIndexFile(segmentIndex: number, prefix: boolean, continueLastBlock: boolean, soundHeaderAt: SoundHeaderAt): Promise<boolean> {
    const segment = this.segments[segmentIndex]!;
    const read = await readIndexFile(segment.path);
    // Another read may have indexed this segment while the file was read.
    if (segment.size !== 0 || segment.scanned) return false;
    if (read.status !== 'sound') {
      if (read.status === 'unreadable') segment.indexFileUnreadable = read.why;
      return false;
    }
    const saved = read.index;
    const count = saved.offsets.length;
    const indexName = basename(indexFileOf(segment.path));
    const recorded = `its index file ${indexName} records ${count} ${count === 1 ? 'line' : 'lines'} (${saved.segmentSize} bytes)`;
    if (saved.segmentSize > read.fileSize) {
      let whole = 0;
      while (whole < count && saved.offsets[whole]! + saved.lengths[whole]! + 1 <= read.fileSize) whole++;
      const first = await firstLineUnlikeIndex(segment.path, saved);
      if (first !== undefined && first.line <= whole) throw new CorruptLogError(segment.path, first.line, `${first.reason} (${recorded}, written and acknowledged)`);
      throw new CorruptLogError(
        segment.path,
        whole + 1,
        `the segment is ${read.fileSize} bytes, but ${recorded}: it was cut short after line ${whole}, and ` +
          (whole === count - 1
            ? `the acknowledged event at position ${saved.firstPosition + whole} is missing`
            : `the acknowledged events at positions ${saved.firstPosition + whole} to ${saved.firstPosition + count - 1} are missing`),
      );
    }
    const expectedFirst = this.index.count + 1;
    if (saved.firstPosition !== expectedFirst) this.positionsDoNotFollow(segmentIndex, saved.firstPosition, `${indexName} says`);
    // The file must still hold, where the index says, the last line it indexed.
    const lastAt = count - 1;
    if (lastAt >= 0) {
      const header = await soundHeaderAt(segment, saved.offsets[lastAt]!, saved.lengths[lastAt]!);
      const reason = 'reason' in header ? header.reason : header.position !== saved.firstPosition + lastAt ? `it holds position ${header.position}` : undefined;
      if (reason !== undefined) {
        // The damage may start before the last line (a line rewritten to another length): name the first line that differs.
        const first = (await firstLineUnlikeIndex(segment.path, saved)) ?? { line: count, reason };
        throw new CorruptLogError(segment.path, first.line, `${first.reason} (${recorded}, written and acknowledged)`);
      }
    }
    if (segment.size !== 0 || segment.scanned) return false; // indexed by another read meanwhile
    // A sealed segment that grew after its index was written: scanned whole instead (every line checked).
    if (!prefix && saved.segmentSize !== read.fileSize) return false;
    segment.firstPosition = saved.firstPosition;
    segment.acknowledgedLines = count;
    this.index.addRun(segmentIndex, saved.streams, saved.streamOf, saved.offsets, saved.lengths);
    segment.blocks = new LineBlocks(saved.blocks);
    const lastBlock = saved.blocks.at(-1);
    if (prefix && continueLastBlock && lastBlock !== undefined && lastBlock.firstLine + lastBlock.lineCount === count) {
      // The writer's next appends may follow the last block: let them extend it.
      segment.blocks.reopenLast(saved.offsets[count - 1]! + saved.lengths[count - 1]! + 1 - saved.offsets[lastBlock.firstLine]!);
    }
    segment.size = saved.segmentSize;
    segment.scanned = !prefix;
    return true;
  }

  /**
   * Segment `segmentIndex` starts at `firstPosition` (as `source` says),
   * which does not follow the lines indexed before it: lines are missing
   * from the segment before (or the log's start), or two segments overlap.
   */
  positionsDoNotFollow(segmentIndex: number, firstPosition: number, source: string): never {
    const segment = this.segments[segmentIndex]!;
    const expected = this.index.count + 1;
    const previous = this.segments[segmentIndex - 1];
    if (firstPosition > expected && previous !== undefined) {
      const lines = expected - previous.firstPosition;
      throw new CorruptLogError(
        previous.path,
        lines + 1,
        `the segment ends after line ${lines} (position ${expected - 1}), but the next one, ${segment.name}, starts at position ${firstPosition} (${source}): ` +
          `positions ${expected} to ${firstPosition - 1} are missing`,
      );
    }
    throw new CorruptLogError(
      segment.path,
      1,
      firstPosition > expected
        ? `the log's first segment starts at position ${firstPosition} (${source}): positions ${expected} to ${firstPosition - 1} are missing`
        : `the segment starts at position ${firstPosition} (${source}), which the segment before already holds (the log goes to ${expected - 1} before it)`,
    );
  }

  /** Write a segment's index file from the log index (never over one it could not read); false when it was not written (a failure only costs a scan next time). */
  async saveIndexFile(segmentIndex: number): Promise<boolean> {
    const segment = this.segments[segmentIndex]!;
    if (segment.indexFileUnreadable !== undefined) return false; // evidence of what was written: only a repair replaces it
    const next = this.segments[segmentIndex + 1];
    const last = next !== undefined && next.firstPosition > 0 ? next.firstPosition - 1 : this.index.count;
    const count = last - segment.firstPosition + 1;
    const streams = new Map<string, number>();
    const streamOf = new Uint32Array(count);
    const offsets = new Uint32Array(count);
    const lengths = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const position = segment.firstPosition + i;
      const stream = this.index.stream(position);
      let id = streams.get(stream);
      if (id === undefined) streams.set(stream, (id = streams.size));
      streamOf[i] = id;
      offsets[i] = this.index.offset(position);
      lengths[i] = this.index.length(position);
    }
    return writeSegmentIndex(segment.path, {
      segmentSize: segment.size,
      firstPosition: segment.firstPosition,
      streams: [...streams.keys()],
      streamOf,
      offsets,
      lengths,
      blocks: segment.blocks.all(),
    }).then(
      () => true,
      () => false,
    );
  }
}

/**
 * The first line of a segment that is not what its index file recorded (not
 * sound, or not where and as long as the index says, or not the position it
 * should hold), and why; undefined when every recorded line is as recorded.
 */
export async function firstLineUnlikeIndex(path: string, saved: SegmentIndex): Promise<{ line: number; reason: string } | undefined> {
  const count = saved.offsets.length;
  let line = 0;
  for await (const chunk of readLineChunks(path, 0)) {
    for (let i = 0; i < chunk.starts.length && line < count; i++, line++) {
      const start = chunk.starts[i]!;
      const end = chunk.ends[i]!;
      const decoded = decodeLine(chunk.buffer, start, end);
      if (!decoded.ok) return { line: line + 1, reason: decoded.reason };
      const position = readLineHeader(chunk.buffer, start, end)?.position;
      if (position !== saved.firstPosition + line) return { line: line + 1, reason: `it holds position ${position} where ${saved.firstPosition + line} was written` };
      if (chunk.offset + start !== saved.offsets[line] || end - start !== saved.lengths[line]) {
        return { line: line + 1, reason: 'it is not the line that was written there (its place or length differs: the file was rewritten)' };
      }
    }
    if (line >= count) return undefined;
  }
  return line < count ? { line: line + 1, reason: 'the file ends before it' } : undefined;
}
