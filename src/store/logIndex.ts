/*
 * The in-memory index of a file event log: where each position's line is
 * (segment, byte offset, byte length) and which positions belong to each
 * stream. Typed arrays keep a million events in about 24 megabytes.
 */

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
}

/** Positions, line locations and streams of a log, growing as it is scanned or appended. */
export class LogIndex {
  private segmentOf = new Int32Array(1024);
  private offsetOf = new Float64Array(1024);
  private lengthOf = new Int32Array(1024);
  private streamOf = new Int32Array(1024);
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
    if (this.count === this.segmentOf.length) this.grow();
    const i = this.count++;
    this.segmentOf[i] = segment;
    this.offsetOf[i] = offset;
    this.lengthOf[i] = length;
    let id = this.streamIds.get(stream);
    if (id === undefined) {
      id = this.streamNames.length;
      this.streamNames.push(stream);
      this.streamIds.set(stream, id);
    }
    this.streamOf[i] = id;
    let entry = this.streams.get(stream);
    if (entry === undefined) {
      entry = { positions: new PositionList() };
      this.streams.set(stream, entry);
    }
    entry.positions.push(i + 1);
  }

  /**
   * Index a run of lines of one segment at once (from its index file):
   * `streamOf[i]` numbers a name in `streams`.
   */
  addRun(segment: number, streams: readonly string[], streamOf: Uint32Array, offsets: Uint32Array, lengths: Uint32Array): void {
    const count = offsets.length;
    while (this.count + count > this.segmentOf.length) this.grow();
    const first = this.count;
    this.segmentOf.fill(segment, first, first + count);
    this.offsetOf.set(offsets, first);
    this.lengthOf.set(lengths, first);
    const ids = streams.map((stream) => {
      let id = this.streamIds.get(stream);
      if (id === undefined) {
        id = this.streamNames.length;
        this.streamNames.push(stream);
        this.streamIds.set(stream, id);
        this.streams.set(stream, { positions: new PositionList() });
      }
      return id;
    });
    const lists = streams.map((stream) => this.streams.get(stream)!.positions);
    for (let i = 0; i < count; i++) {
      const local = streamOf[i]!;
      this.streamOf[first + i] = ids[local]!;
      lists[local]!.push(first + i + 1);
    }
    this.count += count;
  }

  /** The stream of the event at `position`. */
  stream(position: number): string {
    return this.streamNames[this.streamOf[position - 1]!]!;
  }

  /** Forget every event after `count` (a torn line cut off, a failed write rolled back). */
  truncate(count: number): void {
    this.count = Math.min(this.count, count);
    for (const [stream, entry] of this.streams) {
      let keep = entry.positions.length;
      while (keep > 0 && entry.positions.at(keep - 1) > count) keep--;
      entry.positions.truncate(keep);
      if (keep === 0) this.streams.delete(stream);
    }
  }

  segment(position: number): number {
    return this.segmentOf[position - 1]!;
  }

  offset(position: number): number {
    return this.offsetOf[position - 1]!;
  }

  length(position: number): number {
    return this.lengthOf[position - 1]!;
  }

  private grow(): void {
    const size = this.segmentOf.length * 2;
    const segmentOf = new Int32Array(size);
    segmentOf.set(this.segmentOf);
    const offsetOf = new Float64Array(size);
    offsetOf.set(this.offsetOf);
    const lengthOf = new Int32Array(size);
    lengthOf.set(this.lengthOf);
    const streamOf = new Int32Array(size);
    streamOf.set(this.streamOf);
    this.segmentOf = segmentOf;
    this.offsetOf = offsetOf;
    this.lengthOf = lengthOf;
    this.streamOf = streamOf;
  }
}
