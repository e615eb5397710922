import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../errors.js';
import { LineBlocks } from './lineBlocks.js';
import type { LineHeader } from './lineCodec.js';
import type { LogIndex } from './logIndex.js';
import { readSegmentIndex, writeSegmentIndex } from './segmentIndexFile.js';

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
}

const SEGMENT_PATTERN = /^segment-(\d{6,})\.jsonl$/;

/** The file name of segment `n`: `segment-000001.jsonl`, ... */
export const segmentName = (n: number): string => `segment-${String(n).padStart(6, '0')}.jsonl`;

/** Reads a line's header where an index file says its last line is: the catalog's only need of a segment reader. */
export type SoundHeaderAt = (segment: Segment, offset: number, length: number) => Promise<LineHeader | undefined>;

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
    for (const entry of entries) {
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
    return numbers.sort((a, b) => a - b);
  }

  /**
   * Index a segment from its index file (all of it, or with `prefix` its
   * start); false when there is no valid one. With `continueLastBlock` (a
   * writer reopening its active segment), the block the file ends with is
   * reopened so the next appends extend it.
   */
  async loadIndexFile(segmentIndex: number, prefix: boolean, continueLastBlock: boolean, soundHeaderAt: SoundHeaderAt): Promise<boolean> {
    const segment = this.segments[segmentIndex]!;
    const saved = await readSegmentIndex(segment.path, prefix);
    if (saved === undefined || saved.firstPosition !== this.index.count + 1) return false;
    // The file must still hold, where the index says, the last line it indexed.
    const lastAt = saved.offsets.length - 1;
    if (lastAt >= 0) {
      const header = await soundHeaderAt(segment, saved.offsets[lastAt]!, saved.lengths[lastAt]!);
      if (header?.position !== saved.firstPosition + lastAt) return false;
    }
    // Another read may have indexed this segment while the file was read.
    if (saved.firstPosition !== this.index.count + 1 || segment.size !== 0) return false;
    segment.firstPosition = saved.firstPosition;
    this.index.addRun(segmentIndex, saved.streams, saved.streamOf, saved.offsets, saved.lengths);
    segment.blocks = new LineBlocks(saved.blocks);
    const lastBlock = saved.blocks.at(-1);
    const count = saved.offsets.length;
    if (prefix && continueLastBlock && lastBlock !== undefined && lastBlock.firstLine + lastBlock.lineCount === count) {
      // The writer's next appends may follow the last block: let them extend it.
      segment.blocks.reopenLast(saved.offsets[count - 1]! + saved.lengths[count - 1]! + 1 - saved.offsets[lastBlock.firstLine]!);
    }
    segment.size = saved.segmentSize;
    segment.scanned = !prefix;
    return true;
  }

  /** Write a segment's index file from the log index; a failure only costs a scan next time. */
  async saveIndexFile(segmentIndex: number): Promise<void> {
    const segment = this.segments[segmentIndex]!;
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
    await writeSegmentIndex(segment.path, {
      segmentSize: segment.size,
      firstPosition: segment.firstPosition,
      streams: [...streams.keys()],
      streamOf,
      offsets,
      lengths,
      blocks: segment.blocks.all(),
    }).catch(() => undefined);
  }
}
