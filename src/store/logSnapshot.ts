import type { StoredEvent } from '../events/envelope.js';
import { UpcasterRegistry } from '../events/upcasters.js';
import type { ReadStreamOptions } from './eventStore.js';
import type { FileLog } from './fileLog.js';
import { LineBlocks } from './lineBlocks.js';
import { LogIndex } from './logIndex.js';
import type { LogSnapshot, PartitionedLog } from './partitionedLog.js';
import { SegmentCatalog } from './segmentCatalog.js';
import { SegmentReader } from './segmentReader.js';

/*
 * The two sides of a log read in shares (see `partitionedLog.ts`): the
 * store's own log as the calling thread reads it, and a snapshot of it
 * opened in a worker thread.
 */

/**
 * The partitioned form of a file log, indexed as far as it is now; reads of
 * it go through `guard` (the reader's tail watch: a rewritten tail stops
 * them instead of mixing old lines with new).
 */
export function partitionedLogFrom(
  log: FileLog,
  builtInUpcasting: boolean,
  guard: (read: AsyncIterable<StoredEvent[]>) => AsyncIterable<StoredEvent[]>,
): PartitionedLog {
  const { index, catalog, reader } = log;
  const count = index.count;
  return {
    count,
    streamNames: index.streamNames.slice(),
    builtInUpcasting,
    streamStats: () => {
      const streams = index.streamNames.length;
      const bytes = new Float64Array(streams);
      const first = new Int32Array(streams);
      const last = new Int32Array(streams);
      for (let position = 1; position <= count; position++) {
        const stream = index.streamId(position);
        bytes[stream]! += index.length(position) + 1;
        if (first[stream] === 0) first[stream] = position;
        last[stream] = position;
      }
      return { bytes, first, last };
    },
    snapshot: () => ({
      dir: catalog.dir,
      index: index.snapshot(count),
      // All of them, in order: the index knows a segment by its place in the list.
      segments: catalog.segments.map(({ number, name, path, firstPosition, size, blocks }) => ({ number, name, path, firstPosition, size, blocks: blocks.all() })),
    }),
    readOwned: (owned, from, to, progress, stop) => guard(reader.readOwned(Math.max(1, from), Math.min(count, to), owned, progress, stop)),
  };
}

/** A reader of a {@link LogSnapshot}, in the thread it was sent to: its index, its segments, and a segment reader over them. */
export interface SnapshotReader {
  readonly index: LogIndex;
  readonly reader: SegmentReader;
  /** The events of one stream up to the snapshot's end, in version order (what a fork's base is read with). */
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<StoredEvent>;
  /** Close the reader's file handles. */
  close(): Promise<void>;
}

/**
 * Open a {@link LogSnapshot} for reading in this thread. Its events are
 * upcast by the built-in upcasters (a log read in shares has no others).
 */
export function openSnapshot(snapshot: LogSnapshot): SnapshotReader {
  const index = LogIndex.fromSnapshot(snapshot.index);
  const catalog = new SegmentCatalog(snapshot.dir, index, true);
  for (const segment of snapshot.segments) {
    catalog.segments.push({
      number: segment.number,
      name: segment.name,
      path: segment.path,
      firstPosition: segment.firstPosition,
      size: segment.size,
      scanned: true,
      blocks: new LineBlocks(segment.blocks),
    });
  }
  const reader = new SegmentReader(catalog, index, new UpcasterRegistry());
  async function* readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<StoredEvent> {
    // A read by position needs no stream lists; the first read of a stream makes them all, in one pass.
    index.indexStreams();
    const positions = index.streams.get(stream)?.positions;
    if (positions === undefined) return;
    const from = Math.max(1, options.fromVersion ?? 1);
    const to = Math.min(positions.length, options.toVersion ?? positions.length);
    if (from > to) return;
    for await (const batch of reader.readPositions(to - from + 1, (i) => positions.at(from - 1 + i))) yield* batch;
  }
  return { index, reader, readStream, close: () => reader.closeHandles() };
}
