/*
 * The in-memory index of a file event log: where each position's line is
 * (segment, byte offset, byte length) and which positions belong to each
 * stream. Typed arrays keep a million events in a few tens of megabytes.
 */

/** One stream's positions, in version order (version n is `positions[n - 1]`). */
export interface IndexedStream {
  positions: number[];
}

/** Positions, line locations and streams of a log, growing as it is scanned or appended. */
export class LogIndex {
  private segmentOf = new Int32Array(1024);
  private offsetOf = new Float64Array(1024);
  private lengthOf = new Int32Array(1024);
  /** The number of events indexed; also the head position. */
  count = 0;
  readonly streams = new Map<string, IndexedStream>();

  /** The version the next event of `stream` must have, minus one. */
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
    let entry = this.streams.get(stream);
    if (entry === undefined) {
      entry = { positions: [] };
      this.streams.set(stream, entry);
    }
    entry.positions.push(i + 1);
  }

  /** Forget every event after `count` (used when a write is rolled back). */
  truncate(count: number): void {
    this.count = Math.min(this.count, count);
    for (const [stream, entry] of this.streams) {
      while (entry.positions.length > 0 && entry.positions[entry.positions.length - 1]! > count) entry.positions.pop();
      if (entry.positions.length === 0) this.streams.delete(stream);
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
    this.segmentOf = segmentOf;
    this.offsetOf = offsetOf;
    this.lengthOf = lengthOf;
  }
}
