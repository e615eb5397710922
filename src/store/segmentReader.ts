import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { StoredEvent } from '../events/envelope.js';
import type { UpcasterRegistry } from '../events/upcasters.js';
import { parseLoggedEvent } from './loggedEvent.js';
import { CorruptLogError, StorageError, StoreClosedError } from '../errors.js';
import { asciiTextOf, decodeLine, readLineHeader, type DecodedLine, type LineHeader, type LinesText } from './lineCodec.js';
import type { LogIndex } from './logIndex.js';
import type { Segment, SegmentCatalog } from './segmentCatalog.js';

/*
 * The segment reader: index-guided reads of lines the log index knows, through
 * a small pool of read handles, and their decoding into checked, parsed,
 * upcast events. Writer and reader share it as they share the index.
 */

/**
 * Read handles kept open at most: a long log has many segments, and one
 * handle each would run a process out of file descriptors. A handle in use is
 * never closed, so more may be open for a moment while many reads overlap.
 */
const MAX_READ_HANDLES = 16;

const NEWLINE = 0x0a;
const READ_CHUNK_BYTES = 1 << 20;
/** Events handed to a reader at a time: enough to save the awaits, few enough to die young. */
const EVENTS_PER_BATCH = 256;

/** An open (or opening) read handle of a segment and how many reads are using it. */
interface ReadHandle {
  readonly handle: Promise<FileHandle>;
  users: number;
}

interface ReadRange {
  /** The indexes (into the positions being read) this range covers: [from, to). */
  from: number;
  to: number;
  segment: Segment;
  /** The file offset of `bytes`. */
  start: number;
  bytes: Promise<Buffer>;
  /** The whole blocks in the range, each to be checked with its own checksum. */
  blocks: RangeBlock[];
}

/** A whole block of lines within a read range. */
interface RangeBlock {
  /** The indexes (into the positions being read) it covers: [from, to). */
  from: number;
  to: number;
  /** Its bytes in the range's buffer: [start, end). */
  start: number;
  end: number;
  crc: number;
}

/** A range of one segment that {@link SegmentReader.readOwned} reads: the positions `first` to `next - 1`. */
interface OwnedRange {
  first: number;
  next: number;
  segment: Segment;
  /** The file offset of `bytes`. */
  start: number;
  /** Not read when none of its lines is wanted. */
  bytes: Promise<Buffer> | undefined;
  /** The wanted positions, in order. */
  wanted: number[];
  /** The whole blocks that hold a wanted line; `from` and `to` index into `wanted`. */
  blocks: RangeBlock[];
}

/** The longest span of lines decoded as one text (lineCodec's own bound, which strings die young under). */
const MAX_TEXT_SPAN = 96 << 10;

/** Reads indexed lines of a log's segments and decodes them into events. */
export class SegmentReader {
  /** Open read handles by segment number, least recently used first (see {@link MAX_READ_HANDLES}). */
  private readonly readHandles = new Map<number, ReadHandle>();
  private refused = false;

  constructor(
    private readonly catalog: SegmentCatalog,
    private readonly index: LogIndex,
    private readonly upcasters: UpcasterRegistry,
  ) {}

  /** From now on every read is refused with `StoreClosedError` (the store is closing); handles are closed by {@link closeHandles}. */
  refuseReads(): void {
    this.refused = true;
  }

  /** Close every read handle. */
  async closeHandles(): Promise<void> {
    for (const { handle } of this.readHandles.values()) await handle.then((h) => h.close()).catch(() => {});
    this.readHandles.clear();
  }

  /**
   * Read the events at `positionAt(0 .. count - 1)`, in that order.
   * Neighbouring lines are read together, up to a megabyte at a time, and the
   * next range is read while the current one is decoded. A block of lines
   * (see `lineBlocks.ts`) wanted whole is checked with its one checksum;
   * other lines are checked one by one.
   */
  async *readPositions(count: number, positionAt: (i: number) => number): AsyncIterable<StoredEvent[]> {
    const index = this.index;
    const buffers = [Buffer.allocUnsafe(0), Buffer.allocUnsafe(0)];
    let turn = 0;
    const lineEnd = (position: number): number => index.offset(position) + index.length(position) + 1;
    const planRange = (from: number): ReadRange => {
      const first = positionAt(from);
      const segmentIndex = index.segment(first);
      const segment = this.catalog.segments[segmentIndex]!;
      const start = index.offset(first);
      const blocks: RangeBlock[] = [];
      let to = from;
      let end = start;
      while (to < count) {
        const position = positionAt(to);
        if (index.segment(position) !== segmentIndex) break;
        // Positions only ever increase, so a block is wanted whole when its last line is wanted where it would be.
        const found = segment.blocks.startingAt(position - segment.firstPosition);
        const block =
          found !== undefined && to + found.lineCount <= count && positionAt(to + found.lineCount - 1) === position + found.lineCount - 1 ? found : undefined;
        const lines = block?.lineCount ?? 1;
        const rangeEnd = lineEnd(position + lines - 1);
        if (to > from && rangeEnd - start > READ_CHUNK_BYTES) break;
        if (block !== undefined) blocks.push({ from: to, to: to + lines, start: index.offset(position) - start, end: rangeEnd - start, crc: block.crc });
        to += lines;
        end = rangeEnd;
      }
      // Two buffers used in turn: one being decoded, one being read into.
      const size = end - start;
      const slot = turn++ % 2;
      if (buffers[slot]!.length < size) buffers[slot] = Buffer.allocUnsafe(Math.max(size, READ_CHUNK_BYTES));
      const bytes = this.readRange(segment, start, end, buffers[slot]!.subarray(0, size));
      bytes.catch(() => undefined); // read ahead: a reader that stops early never awaits it
      return { from, to, segment, start, bytes, blocks };
    };
    let range: ReadRange | undefined = count > 0 ? planRange(0) : undefined;
    while (range !== undefined) {
      const buffer = await range.bytes;
      const current = range;
      range = current.to < count ? planRange(current.to) : undefined;
      // A block that does not match its checksum is checked line by line: the error names the line.
      const checked = current.blocks.filter((block) => crc32(buffer.subarray(block.start, block.end)) === block.crc);
      let nextChecked = 0;
      const lineStart = (position: number): number => index.offset(position) - current.start;
      for (let k = current.from; k < current.to; k += EVENTS_PER_BATCH) {
        const upTo = Math.min(current.to, k + EVENTS_PER_BATCH);
        const lastOfBatch = positionAt(upTo - 1);
        const text = asciiTextOf(buffer, lineStart(positionAt(k)), lineStart(lastOfBatch) + index.length(lastOfBatch));
        const events: StoredEvent[] = new Array(upTo - k);
        for (let j = k; j < upTo; j++) {
          while (nextChecked < checked.length && checked[nextChecked]!.to <= j) nextChecked++;
          const blockChecked = nextChecked < checked.length && checked[nextChecked]!.from <= j;
          const position = positionAt(j);
          const offset = lineStart(position);
          try {
            events[j - k] = this.decodeAt(current.segment, position, buffer, offset, offset + index.length(position), text, blockChecked);
          } catch (error) {
            throw await this.explainUnreadable(current.segment, position, error);
          }
        }
        yield events;
      }
    }
  }

  /**
   * Read the events at positions `from` to `to` whose stream the index numbers
   * `s` with `owned[s] === 1`, in position order: one thread's share of a log
   * whose streams are split between threads (the parallel replay). The lines
   * of every range read are all read, as {@link readPositions} reads them, and
   * each whole block that holds a wanted line is checked with its one checksum
   * (the lines of other streams are neither decoded nor parsed); a wanted line
   * outside such a block is checked on its own. A range with no wanted line is
   * not read at all.
   *
   * `progress.position` is the position being read when the read fails, so a
   * caller comparing the failures of several threads knows which came first;
   * the read stops before a batch that starts after `stop[0]` (another
   * thread's failure there makes whatever follows it moot).
   */
  async *readOwned(
    from: number,
    to: number,
    owned: Uint8Array,
    progress: { position: number },
    stop?: Int32Array,
  ): AsyncIterable<StoredEvent[]> {
    const index = this.index;
    const buffers = [Buffer.allocUnsafe(0), Buffer.allocUnsafe(0)];
    let turn = 0;
    const lineEnd = (position: number): number => index.offset(position) + index.length(position) + 1;
    const planRange = (first: number): OwnedRange => {
      const segmentIndex = index.segment(first);
      const segment = this.catalog.segments[segmentIndex]!;
      const start = index.offset(first);
      const wanted: number[] = [];
      const blocks: RangeBlock[] = [];
      let next = first;
      let end = start;
      while (next <= to && index.segment(next) === segmentIndex) {
        const found = segment.blocks.startingAt(next - segment.firstPosition);
        const block = found !== undefined && next + found.lineCount - 1 <= to ? found : undefined;
        const lines = block?.lineCount ?? 1;
        const unitEnd = lineEnd(next + lines - 1);
        if (next > first && unitEnd - start > READ_CHUNK_BYTES) break;
        const wantedBefore = wanted.length;
        for (let position = next; position < next + lines; position++) if (owned[index.streamId(position)] === 1) wanted.push(position);
        // A block is checked only for a thread that decodes one of its lines.
        if (block !== undefined && wanted.length > wantedBefore) {
          blocks.push({ from: wantedBefore, to: wanted.length, start: index.offset(next) - start, end: unitEnd - start, crc: block.crc });
        }
        next += lines;
        end = unitEnd;
      }
      let bytes: Promise<Buffer> | undefined;
      if (wanted.length > 0) {
        const size = end - start;
        const slot = turn++ % 2;
        if (buffers[slot]!.length < size) buffers[slot] = Buffer.allocUnsafe(Math.max(size, READ_CHUNK_BYTES));
        bytes = this.readRange(segment, start, end, buffers[slot]!.subarray(0, size));
        bytes.catch(() => undefined); // read ahead: a reader that stops early never awaits it
      }
      return { first, next, segment, start, bytes, wanted, blocks };
    };
    let range: OwnedRange | undefined = from <= to ? planRange(from) : undefined;
    while (range !== undefined) {
      const current = range;
      progress.position = current.first;
      if (stop !== undefined && current.first > Atomics.load(stop, 0)) return;
      const buffer = current.bytes === undefined ? undefined : await current.bytes;
      range = current.next <= to ? planRange(current.next) : undefined;
      if (buffer === undefined) continue;
      const { wanted, segment } = current;
      const checked = current.blocks.filter((block) => crc32(buffer.subarray(block.start, block.end)) === block.crc);
      let nextChecked = 0;
      const lineStart = (position: number): number => index.offset(position) - current.start;
      // The text the lines are sliced from: decoded once for a run of wanted lines a short span holds.
      let text: LinesText | undefined;
      let textUpTo = -1; // the last index into `wanted` the text (or its absence) covers
      for (let k = 0; k < wanted.length; k += EVENTS_PER_BATCH) {
        if (stop !== undefined && wanted[k]! > Atomics.load(stop, 0)) return;
        const upTo = Math.min(wanted.length, k + EVENTS_PER_BATCH);
        const events: StoredEvent[] = new Array(upTo - k);
        for (let j = k; j < upTo; j++) {
          const position = wanted[j]!;
          progress.position = position;
          const offset = lineStart(position);
          const lineEndAt = offset + index.length(position);
          if (j > textUpTo) {
            let last = j;
            while (last + 1 < upTo && lineStart(wanted[last + 1]!) + index.length(wanted[last + 1]!) - offset <= MAX_TEXT_SPAN) last++;
            text = asciiTextOf(buffer, offset, lineStart(wanted[last]!) + index.length(wanted[last]!));
            textUpTo = last;
          }
          while (nextChecked < checked.length && checked[nextChecked]!.to <= j) nextChecked++;
          const blockChecked = nextChecked < checked.length && checked[nextChecked]!.from <= j;
          try {
            events[j - k] = this.decodeAt(segment, position, buffer, offset, lineEndAt, text, blockChecked);
          } catch (error) {
            throw await this.explainUnreadable(segment, position, error);
          }
        }
        yield events;
      }
    }
  }

  /** The line of `position`, decoded (checked and parsed, not validated). */
  async readLine(position: number): Promise<DecodedLine> {
    const segment = this.catalog.segments[this.index.segment(position)]!;
    const offset = this.index.offset(position);
    const length = this.index.length(position);
    return decodeLine(await this.readRange(segment, offset, offset + length), 0, length);
  }

  /** The header of the line at `offset`, `length` bytes long, when it is there whole (its newline after it) and sound; else why not. */
  async soundHeaderAt(segment: Segment, offset: number, length: number): Promise<LineHeader | { reason: string }> {
    const bytes = await this.readRange(segment, offset, offset + length + 1).catch(() => undefined);
    if (bytes === undefined) return { reason: 'the file ends inside it' };
    if (bytes[length] !== NEWLINE) return { reason: 'the line does not end where it should' };
    const decoded = decodeLine(bytes, 0, length);
    if (!decoded.ok) return { reason: decoded.reason };
    return readLineHeader(bytes, 0, length) ?? { reason: 'not a moai-session event line' };
  }

  /** The bytes of `segment` in `[start, end)`, into `into` (that long) when given. */
  private async readRange(segment: Segment, start: number, end: number, into?: Buffer): Promise<Buffer> {
    if (this.refused) throw new StoreClosedError();
    const entry = this.readHandle(segment);
    entry.users++;
    try {
      const handle = await entry.handle;
      const buffer = into ?? Buffer.allocUnsafe(end - start);
      let read = 0;
      while (read < buffer.length) {
        const { bytesRead } = await handle.read(buffer, read, buffer.length - read, start + read).catch((error: unknown) => {
          throw new StorageError(`Cannot read ${segment.path}: ${(error as Error).message}`, { cause: error });
        });
        if (bytesRead === 0) throw new CorruptLogError(segment.path, 0, 'the file is shorter than its index');
        read += bytesRead;
      }
      return buffer;
    } finally {
      entry.users--;
      this.closeIdleReadHandles();
    }
  }

  /** The read handle of a segment, opened on first use and kept (segments only ever grow), now the most recently used. */
  private readHandle(segment: Segment): ReadHandle {
    let entry = this.readHandles.get(segment.number);
    if (entry === undefined) {
      const handle = open(segment.path, 'r').catch((error: unknown) => {
        throw new StorageError(`Cannot read ${segment.path}: ${(error as Error).message}`, { cause: error });
      });
      entry = { handle, users: 0 };
      const opened = entry;
      handle.catch(() => {
        if (this.readHandles.get(segment.number) === opened) this.readHandles.delete(segment.number);
      });
    } else {
      this.readHandles.delete(segment.number); // to the end: the most recently used
    }
    this.readHandles.set(segment.number, entry);
    return entry;
  }

  /** Close the least recently used read handles no read is using, down to {@link MAX_READ_HANDLES}. */
  private closeIdleReadHandles(): void {
    for (const [number, entry] of this.readHandles) {
      if (this.readHandles.size <= MAX_READ_HANDLES) return;
      if (entry.users > 0) continue;
      this.readHandles.delete(number);
      void entry.handle.then((handle) => handle.close()).catch(() => {});
    }
  }

  /**
   * The error to give for the line of `position` that could not be read at
   * the offset and length the index recorded (`error`). When the bytes there
   * fail their checksum, the line that actually starts at that offset is read
   * to its newline: when it is itself sound, it was not damaged but moved (two
   * sound lines swapped, say), and the error says which position it holds —
   * and, when the next line holds `position`, that the two are out of order —
   * instead of calling a good line a checksum mismatch.
   */
  private async explainUnreadable(segment: Segment, position: number, error: unknown): Promise<unknown> {
    if (!(error instanceof CorruptLogError) || error.reason !== 'checksum mismatch') return error;
    try {
      const offset = this.index.offset(position);
      const found = await this.soundLineAt(segment, offset);
      if (found === undefined || found.header.position === position) return error;
      const line = error.line;
      const next = await this.soundLineAt(segment, offset + found.length + 1);
      const reason =
        next !== undefined && next.header.position === position
          ? `line ${line} holds position ${found.header.position} and line ${line + 1} position ${position}: out of order ` +
            '(both lines are sound, their checksums hold; they are not where the index file recorded them)'
          : `line ${line} holds position ${found.header.position} where ${position} was expected ` +
            '(the line is sound, its checksum holds; it is not where the index file recorded it)';
      return new CorruptLogError(segment.path, line, reason, { cause: error });
    } catch {
      return error;
    }
  }

  /** The sound line that starts at `offset` of `segment` (read up to its newline), with its length; undefined when there is none. */
  private async soundLineAt(segment: Segment, offset: number): Promise<{ header: LineHeader; length: number } | undefined> {
    let size = 64 << 10;
    for (;;) {
      const bytes = await this.readUpTo(segment, offset, size);
      const newline = bytes.indexOf(NEWLINE);
      if (newline !== -1) {
        const decoded = decodeLine(bytes, 0, newline);
        if (!decoded.ok) return undefined;
        const header = readLineHeader(bytes, 0, newline);
        return header === undefined ? undefined : { header, length: newline };
      }
      if (bytes.length < size || size >= 64 << 20) return undefined;
      size *= 4;
    }
  }

  /** Up to `size` bytes of `segment` from `start` (fewer at the end of the file). */
  private async readUpTo(segment: Segment, start: number, size: number): Promise<Buffer> {
    const handle = await open(segment.path, 'r');
    try {
      const buffer = Buffer.allocUnsafe(size);
      const { bytesRead } = await handle.read(buffer, 0, size, start);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  /** The event of the line at `buffer[start, end)`, checked against the index: the line of `position` must hold it. */
  private decodeAt(
    segment: Segment,
    position: number,
    buffer: Buffer,
    start: number,
    end: number,
    text: LinesText | undefined,
    blockChecked: boolean,
  ): StoredEvent {
    const line = position - segment.firstPosition + 1;
    const decoded = decodeLine(buffer, start, end, text, blockChecked);
    if (!decoded.ok) throw new CorruptLogError(segment.path, line, decoded.reason);
    const event = parseLoggedEvent(decoded.value, segment.path, line, this.upcasters);
    if (event.position !== position || event.stream !== this.index.stream(position)) {
      throw new CorruptLogError(
        segment.path,
        line,
        `holds ${event.stream} at position ${event.position} where the index has ${this.index.stream(position)} at ${position}`,
      );
    }
    return event;
  }
}
