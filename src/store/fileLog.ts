import type { StoredEvent } from '../events/envelope.js';
import type { UpcasterRegistry } from '../events/upcasters.js';
import type { ReadAllOptions, ReadStreamOptions, StreamInfo } from './eventStore.js';
import { LogIndex } from './logIndex.js';
import { ACK_RECORD_NAME, readAckRecord, type AckRecord } from './ackRecord.js';
import { CorruptLogError } from '../errors.js';
import { scanSegment, type ScanContext, type TailPolicy } from './openScan.js';
import { SegmentCatalog } from './segmentCatalog.js';
import { SegmentReader } from './segmentReader.js';

/*
 * The log as both sides see it: one index, the segment catalog over it, the
 * segment reader through it, and the reads every file store answers. What
 * differs between the writer and a reader (who repairs a torn tail, who
 * writes index files, whether the last segment may still grow) is its
 * {@link LogSide}, given once, instead of a flag asked everywhere.
 */

/** What one side of the log (the writer, or a reader in another process) does where the two differ. */
export interface LogSide extends TailPolicy {
  /** A reader may look before any writer made the folder: that is an empty log, not an error. */
  readonly folderMayBeMissing: boolean;
  /** A writer reopening its active segment extends the block its index file ended with. */
  readonly continuesLastBlock: boolean;
  /** A sealed segment had no valid index file and was scanned: a writer writes one for next time. */
  sealedSegmentScanned(segmentIndex: number): Promise<void>;
}

/** The segments, index and reads of one log folder, shared by the writer and the reader types. */
export class FileLog implements ScanContext {
  readonly index = new LogIndex();
  readonly catalog: SegmentCatalog;
  readonly reader: SegmentReader;
  /** What the writer's durable record said it had acknowledged, when the log was opened (see `ackRecord.ts`). */
  acknowledged: AckRecord | undefined;

  constructor(
    dir: string,
    readonly upcasters: UpcasterRegistry,
    readonly tail: LogSide,
  ) {
    this.catalog = new SegmentCatalog(dir, this.index, tail.folderMayBeMissing);
    this.reader = new SegmentReader(this.catalog, this.index, upcasters);
  }

  /** Read the writer's durable record of what it acknowledged (at open, before the first scan). */
  async readAcknowledged(): Promise<void> {
    this.acknowledged = await readAckRecord(this.catalog.dir);
  }

  /** Index a segment from its index file (all of it, or with `prefix` its start); false when it has no valid one. */
  loadIndexFile(segmentIndex: number, prefix: boolean): Promise<boolean> {
    return this.catalog.loadIndexFile(segmentIndex, prefix, this.tail.continuesLastBlock, (segment, offset, length) =>
      this.reader.soundHeaderAt(segment, offset, length),
    );
  }

  /**
   * Index every segment not scanned to its end yet (a reader's last segment
   * may have grown). A sealed segment is read from its index file when it has
   * a valid one; one that had to be scanned is told to the side (a writer
   * writes its index file for next time).
   */
  async ensureIndexed(): Promise<void> {
    const segments = this.catalog.segments;
    const scannedSealed: number[] = [];
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      if (segment.scanned) continue;
      const sealed = i < segments.length - 1;
      // The active segment's index may cover only its start: the rest is scanned.
      if (segment.size === 0 && (await this.loadIndexFile(i, !sealed)) && sealed) continue;
      for await (const _ of scanSegment(this, i, false));
      if (sealed) scannedSealed.push(i);
    }
    const ack = this.acknowledged;
    if (ack !== undefined && this.index.count < ack.position) {
      const last = segments.at(-1);
      throw new CorruptLogError(
        last?.path ?? this.catalog.dir,
        last === undefined ? 0 : this.index.count - last.firstPosition + 2,
        `the log ends at position ${this.index.count}, but the writer's record (${ACK_RECORD_NAME}) shows it acknowledged events up to position ${ack.position}: ` +
          `positions ${this.index.count + 1} to ${ack.position} are missing`,
      );
    }
    // Only once the whole log was found sound: an index file never records a segment a later one shows damaged.
    for (const i of scannedSealed) await this.tail.sealedSegmentScanned(i);
  }

  /** The events of one stream in version order. */
  async *readStream(stream: string, options: ReadStreamOptions): AsyncIterable<StoredEvent> {
    await this.ensureIndexed();
    const positions = this.index.streams.get(stream)?.positions;
    if (positions === undefined) return;
    const from = Math.max(1, options.fromVersion ?? 1);
    const to = Math.min(positions.length, options.toVersion ?? positions.length);
    if (from > to) return;
    for await (const batch of this.reader.readPositions(to - from + 1, (i) => positions.at(from - 1 + i))) yield* batch;
  }

  /** Every event in position order, in batches, indexing what is not indexed yet on the way. */
  async *readAllBatches(options: ReadAllOptions): AsyncIterable<readonly StoredEvent[]> {
    const segments = this.catalog.segments;
    const last = options.toPosition ?? Number.POSITIVE_INFINITY;
    let next = Math.max(1, options.fromPosition ?? 1); // the first position not handed out yet
    // What is indexed is read by position; what is not (a reader opens lazily)
    // is indexed from the segment's index file where it has a valid one, or
    // else read, checked and indexed in one pass. Reads of one store may
    // overlap (and a consumer may pause between batches): after every wait,
    // whatever another read indexed meanwhile is handed out first.
    let i = 0;
    for (;;) {
      const indexedTo = Math.min(this.index.count, last);
      if (next <= indexedTo) {
        const first = next;
        next = indexedTo + 1;
        yield* this.reader.readPositions(indexedTo - first + 1, (k) => first + k);
        continue;
      }
      if (this.index.count >= last) return;
      while (i < segments.length && segments[i]!.scanned) i++;
      if (i === segments.length) return;
      const segment = segments[i]!;
      if (segment.size === 0) {
        const loaded = await this.loadIndexFile(i, i === segments.length - 1);
        if (loaded || segment.size !== 0 || segment.scanned) continue; // indexed, by this read or another
      }
      for await (const batch of scanSegment(this, i, true, last)) {
        const wanted = batch.filter((event) => event.position >= next && event.position <= last);
        if (wanted.length > 0) {
          next = wanted.at(-1)!.position + 1;
          yield wanted;
        }
      }
      i++; // as far as this read can go in it (a reader leaves an unfinished tail for later)
    }
  }

  /** Every stream indexed, in the order of its first event. */
  listStreams(): StreamInfo[] {
    return [...this.index.streams]
      .map(([stream, { positions }]) => ({
        stream,
        version: positions.length,
        firstPosition: positions.at(0),
        lastPosition: positions.at(positions.length - 1),
      }))
      .sort((a, b) => a.firstPosition - b.firstPosition);
  }
}
