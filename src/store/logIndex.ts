/*
 * The in-memory index of a file event log: where each position's line is
 * (segment, byte offset, byte length) and which positions belong to each
 * stream. Typed arrays keep a million events in about 20 megabytes.
 */

/**
 * What a replay's worker thread needs of the index to read the lines of the
 * log up to `count`: the pages themselves (shared, not copied, where
 * SharedArrayBuffer exists) and the stream names the pages number.
 */
export interface LogIndexSnapshot {
  readonly count: number;
  readonly pages: readonly Uint32Array[];
  readonly streamNames: readonly string[];
}

/** A page's memory: shared between threads where the runtime can, so a worker reads the index without a copy. */
const pageMemory = (bytes: number): ArrayBufferLike =>
  typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);

/** A growable list of positions in a typed array: 4 bytes an entry. */
class PositionList {
  private items = new Int32Array(16);
  length = 0;

  push(position: number): void {
    if (this.length === this.items.length) {
      const grown = new Int32Array(this.items.length * 2);
      grown.set(this.items);
      this.items = grown;
    }
    this.items[this.length++] = position;
  }

  /** The position at `index` (0-based, so version `index + 1`). */
  at(index: number): number {
    return this.items[index]!;
  }

  /** Drop the positions after `count`. */
  truncate(count: number): void {
    this.length = Math.min(this.length, count);
  }
}

/** One stream's positions, in version order (version n is `positions.at(n - 1)`). */
export interface IndexedStream {
  readonly positions: PositionList;
  /** The number the index's pages know the stream by. */
  readonly id: number;
}

/** Lines a page of the index holds: a page is one typed array, 16 bytes a line. */
const PAGE_BITS = 16;
const PAGE_LINES = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_LINES - 1;
// A line's four numbers, side by side in its page.
const SEGMENT = 0;
const OFFSET = 1;
const LENGTH = 2;
const STREAM = 3;

/**
 * Positions, line locations and streams of a log, growing as it is scanned or
 * appended. Lines are kept in pages of 65,536 that are added as the log grows
 * and never copied: a long log costs what its lines need, without the spike
 * (and the slack) of doubling one array. Offsets are 32-bit, as in the segment
 * index files: a segment stays under 4 GiB (see `maxSegmentBytes`).
 */
export class LogIndex {
  private readonly pages: Uint32Array[] = [];
  /** The number of events indexed; also the head position. */
  count = 0;
  readonly streams = new Map<string, IndexedStream>();
  /** Stream names by the number the index gives them, in order of first appearance. */
  readonly streamNames: string[] = [];
  private readonly streamIds = new Map<string, number>();

  /** The current version of `stream`; 0 when it has no events. */
  versionOf(stream: string): number {
    return this.streams.get(stream)?.positions.length ?? 0;
  }

  /** Index the line of the event at `this.count + 1`. */
  add(stream: string, segment: number, offset: number, length: number): void {
    // One lookup for a stream seen before: this runs for every event appended.
    const entry = this.streams.get(stream) ?? this.addStream(stream);
    this.put(this.count, segment, offset, length, entry.id);
    this.count++;
    entry.positions.push(this.count);
  }

  /** The entry of a stream with no positions yet; a stream a cut emptied keeps its number. */
  private addStream(stream: string): IndexedStream {
    let id = this.streamIds.get(stream);
    if (id === undefined) {
      id = this.streamNames.length;
      this.streamNames.push(stream);
      this.streamIds.set(stream, id);
    }
    const entry = { positions: new PositionList(), id };
    this.streams.set(stream, entry);
    return entry;
  }

  /**
   * Index a run of lines of one segment at once (from its index file):
   * `streamOf[i]` numbers a name in `streams`.
   */
  addRun(segment: number, streams: readonly string[], streamOf: Uint32Array, offsets: Uint32Array, lengths: Uint32Array): void {
    const entries = streams.map((stream) => this.streams.get(stream) ?? this.addStream(stream));
    const ids = entries.map((entry) => entry.id);
    const lists = entries.map((entry) => entry.positions);
    for (let i = 0; i < offsets.length; i++) {
      const local = streamOf[i]!;
      this.put(this.count, segment, offsets[i]!, lengths[i]!, ids[local]!);
      this.count++;
      lists[local]!.push(this.count);
    }
  }

  /** The stream of the event at `position`. */
  stream(position: number): string {
    return this.streamNames[this.field(position, STREAM)]!;
  }

  /** The number the index knows the stream of the event at `position` by (an index into {@link streamNames}). */
  streamId(position: number): number {
    return this.field(position, STREAM);
  }

  /**
   * The index up to `count` (at most {@link count}), for a worker thread: the
   * pages are handed over as they are (shared memory where there is some), the
   * lines up to `count` never change while the log only grows.
   */
  snapshot(count = this.count): LogIndexSnapshot {
    const upTo = Math.min(count, this.count);
    return { count: upTo, pages: this.pages.slice(0, Math.ceil(upTo / PAGE_LINES)), streamNames: this.streamNames.slice() };
  }

  /**
   * An index of the lines a {@link snapshot} holds, for reading them in
   * another thread. Its streams' positions are only worked out when
   * {@link indexStreams} is called (a read by position needs none).
   */
  static fromSnapshot(snapshot: LogIndexSnapshot): LogIndex {
    const index = new LogIndex();
    index.pages.push(...snapshot.pages);
    index.count = snapshot.count;
    for (const stream of snapshot.streamNames) {
      index.streamIds.set(stream, index.streamNames.length);
      index.streamNames.push(stream);
    }
    return index;
  }

  /** Fill {@link streams} from the pages, for an index made {@link fromSnapshot} (one pass over its lines). */
  indexStreams(): void {
    if (this.streams.size > 0 || this.count === 0) return;
    const entries: IndexedStream[] = [];
    for (let position = 1; position <= this.count; position++) {
      const id = this.field(position, STREAM);
      let entry = entries[id];
      if (entry === undefined) {
        entry = { positions: new PositionList(), id };
        entries[id] = entry;
        this.streams.set(this.streamNames[id]!, entry);
      }
      entry.positions.push(position);
    }
  }

  /** Forget every event after `count` (a torn line cut off, a failed write rolled back). */
  truncate(count: number): void {
    // Pages stay: the lines after `count` are written over as the log grows again.
    this.count = Math.min(this.count, count);
    for (const [stream, entry] of this.streams) {
      let keep = entry.positions.length;
      while (keep > 0 && entry.positions.at(keep - 1) > count) keep--;
      entry.positions.truncate(keep);
      if (keep === 0) this.streams.delete(stream);
    }
  }

  segment(position: number): number {
    return this.field(position, SEGMENT);
  }

  offset(position: number): number {
    return this.field(position, OFFSET);
  }

  length(position: number): number {
    return this.field(position, LENGTH);
  }

  private field(position: number, field: number): number {
    const i = position - 1;
    return this.pages[i >>> PAGE_BITS]![((i & PAGE_MASK) << 2) + field]!;
  }

  /** Write the line at index `i` (position `i + 1`), adding a page when it starts one. */
  private put(i: number, segment: number, offset: number, length: number, stream: number): void {
    const pageIndex = i >>> PAGE_BITS;
    while (pageIndex >= this.pages.length) this.pages.push(new Uint32Array(pageMemory(PAGE_LINES * 4 * Uint32Array.BYTES_PER_ELEMENT)));
    const page = this.pages[pageIndex]!;
    const at = (i & PAGE_MASK) << 2;
    page[at + SEGMENT] = segment;
    page[at + OFFSET] = offset;
    page[at + LENGTH] = length;
    page[at + STREAM] = stream;
  }
}
