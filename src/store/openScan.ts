import { open } from 'node:fs/promises';
import type { StoredEvent } from '../events/envelope.js';
import type { UpcasterRegistry } from '../events/upcasters.js';
import { parseLoggedEvent } from './loggedEvent.js';
import { CorruptLogError } from '../errors.js';
import type { StoreWarning } from './fileEventStore.js';
import { asciiTextOf, checksumMatches, decodeLine, readLineHeader, type LineHeader, type LinesText } from './lineCodec.js';
import type { LogIndex } from './logIndex.js';
import { ACK_RECORD_NAME, type AckRecord } from './ackRecord.js';
import type { Segment, SegmentCatalog } from './segmentCatalog.js';
import type { SegmentReader } from './segmentReader.js';
import { readLineChunks } from './segmentLines.js';

/*
 * The open scan: reads a segment the index does not cover yet, checks every
 * line and indexes it, an append at a time. What the scan finds at the end
 * of the last segment (a torn line, an append whose last line is missing) is
 * handed to the side's {@link TailPolicy}: a writer cuts it off, a reader
 * leaves it for the writer to finish.
 */

/** Lines a scan decodes as one text. */
const TEXT_LINES = 256;

/** Where a torn or unfinished tail starts, and why it is one (undefined: a line with no end). */
export interface TornTail {
  /** The file offset the tail starts at. */
  offset: number;
  /** The segment's line it starts at, from 1. */
  line: number;
  reason: string | undefined;
}

/** What a side of the log does with the end of its last segment. */
export interface TailPolicy {
  /** True when the last segment may still grow after a scan reached its end (another process writes it). */
  readonly lastSegmentGrows: boolean;
  /** The last segment ends in a torn line or an unfinished append, already forgotten by the index. */
  tornTail(segment: Segment, tail: TornTail): Promise<void>;
}

/** What a scan works on: the log's catalog and index, a reader for the last line, and what to do with a torn tail. */
export interface ScanContext {
  readonly catalog: SegmentCatalog;
  readonly index: LogIndex;
  readonly reader: SegmentReader;
  readonly upcasters: UpcasterRegistry;
  readonly tail: TailPolicy;
  /** What the writer's durable record (`writer.acked`) says it acknowledged, read when the log was opened. */
  readonly acknowledged: AckRecord | undefined;
}

/** A line of an append whose last line a scan has not read yet. */
interface OpenLine {
  header: LineHeader;
  line: number;
  offset: number;
  length: number;
}

/**
 * Scan a segment from its indexed size to its end, indexing each line (an
 * append's lines together, once its last line is read). With
 * `decode`, every line is also checked and parsed, and the events are
 * yielded: a replay reads and indexes in one pass. Without it, only each
 * line's header is read (and, in the last segment, all of the last line).
 *
 * In the last segment, a bad or partial last line is a torn write, and an
 * append whose last line is missing was cut short: the tail policy decides
 * (see {@link TailPolicy}). Anywhere else they are corruption. Scans may
 * overlap (two readers of one store): a line another scan indexed first is
 * checked against the index, not added twice. With `stopAt`, the scan stops
 * once it has indexed that position and no append is open, rather than at the
 * end of the segment.
 */
export async function* scanSegment(
  context: ScanContext,
  segmentIndex: number,
  decode: boolean,
  stopAt = Number.POSITIVE_INFINITY,
): AsyncGenerator<StoredEvent[]> {
  const { catalog, index } = context;
  const segment = catalog.segments[segmentIndex]!;
  const isLast = segmentIndex === catalog.segments.length - 1;
  if (segment.size === 0) segment.firstPosition = index.count + 1;
  let line = index.count - segment.firstPosition + 1; // lines before where this scan starts
  let bad: { line: number; offset: number; reason: string } | undefined;
  let partialBytes = 0;
  // The append still open after the lines read so far (its first line's offset and position),
  // and as it was before the last line read.
  let openAppend: { offset: number; position: number } | undefined;
  let openBeforeLast: typeof openAppend;
  // The lines of the open append, read and checked but not indexed: an append
  // enters the index whole, when its last line is read, so no read of this
  // store ever sees part of one, however this scan ends.
  let openLines: OpenLine[] = [];
  for await (const chunk of readLineChunks(segment.path, segment.size)) {
    partialBytes = chunk.partialBytes;
    const events: StoredEvent[] = [];
    let text: LinesText | undefined;
    for (let i = 0; i < chunk.starts.length; i++) {
      if (bad !== undefined) throw new CorruptLogError(segment.path, bad.line, bad.reason);
      const start = chunk.starts[i]!;
      const end = chunk.ends[i]!;
      const offset = chunk.offset + start;
      line++;
      if (decode && i % TEXT_LINES === 0) {
        const last = Math.min(chunk.starts.length, i + TEXT_LINES) - 1;
        text = asciiTextOf(chunk.buffer, start, chunk.ends[last]!);
      }
      const read = decode
        ? decodeLineAt(chunk.buffer, text, start, end, segment.path, line, context.upcasters)
        : headerAt(chunk.buffer, start, end);
      if ('reason' in read) {
        bad = { line, offset, reason: read.reason };
        continue;
      }
      const { continues, position } = read;
      openBeforeLast = openAppend;
      openLines.push({ header: read, line, offset, length: end - start });
      if (continues) {
        openAppend ??= { offset, position };
        continue;
      }
      // The append is whole: index its lines, in order.
      openAppend = undefined;
      const whole: StoredEvent[] = [];
      for (const open of openLines) {
        const { header } = open;
        const reason = indexChecked(context, header.position, header.stream, header.version, segmentIndex, open.offset, open.length);
        if (reason !== undefined) {
          // A sound line (its checksum holds) out of sequence: no crash writes one. Damage, never a tail to cut.
          if (open.line === 1 && header.position > index.count + 1) catalog.positionsDoNotFollow(segmentIndex, header.position, 'its first line says');
          throw new CorruptLogError(segment.path, open.line, reason);
        }
        if (decode) whole.push((header as LineHeader & { event: StoredEvent }).event);
      }
      events.push(...whole);
      openLines = [];
    }
    if (events.length > 0) yield events;
    // Far enough for the caller, between two appends: the rest is read when it is wanted.
    if (index.count >= stopAt && openAppend === undefined) return;
  }
  let cut: { offset: number; position: number; line: number; reason: string } | undefined;
  if (bad !== undefined) cut = { offset: bad.offset, position: index.count + 1, line: bad.line, reason: bad.reason };
  if (bad === undefined && openAppend === undefined && !decode && isLast && segment.size > 0 && index.count >= segment.firstPosition) {
    // The last line is where a crash tears: check all of it, not only its header.
    const last = index.count;
    const decoded = await context.reader.readLine(last);
    if (!decoded.ok) {
      cut = { offset: index.offset(last), position: last, line: last - segment.firstPosition + 1, reason: decoded.reason };
      openAppend = openBeforeLast;
    }
  }
  if (openAppend !== undefined && (cut === undefined || openAppend.offset < cut.offset)) {
    cut = {
      offset: openAppend.offset,
      position: openAppend.position,
      line: openAppend.position - segment.firstPosition + 1,
      reason: 'an append whose last line is missing (cut short by a crash)',
    };
  }
  if (!isLast) {
    if (cut !== undefined) throw new CorruptLogError(segment.path, cut.line, cut.reason);
    if (partialBytes > 0) throw new CorruptLogError(segment.path, line + 1, 'the line has no end');
  }
  if (cut === undefined && partialBytes === 0) {
    segment.scanned = !isLast || !context.tail.lastSegmentGrows;
    return;
  }
  const from = cut ?? { offset: segment.size, line: line + 1 };
  // What an index file recorded was acknowledged: never a torn tail.
  if (segment.acknowledgedLines !== undefined && from.line <= segment.acknowledgedLines) {
    throw new CorruptLogError(segment.path, from.line, `${cut?.reason ?? 'the line has no end'}, but the segment's index file records this line as written`);
  }
  // The writer's own record of what it acknowledged: bytes below it are no torn tail.
  const ack = context.acknowledged;
  if (ack !== undefined && ack.segment === segment.number && from.offset < ack.size) {
    throw new CorruptLogError(
      segment.path,
      from.line,
      `${cut?.reason ?? 'the line has no end'}, but the writer's record (${ACK_RECORD_NAME}) shows this segment held ${ack.size} bytes of acknowledged lines ` +
        `(to position ${ack.position}): this line was acknowledged`,
    );
  }
  // A crash leaves the torn start of our own lines: bytes that are not are someone else's, never cut.
  const stranger = await notOursFrom(segment.path, from.offset);
  if (stranger !== undefined) {
    throw new CorruptLogError(
      segment.path,
      from.line + stranger,
      'holds bytes that are not a line of a moai-session event log (nor the torn start of one); it was not cut. ' +
        'If the file is not part of the log, move it out of the folder',
    );
  }
  // What follows the cut is not part of the log (yet): forget it.
  if (cut !== undefined) {
    index.truncate(cut.position - 1);
    segment.blocks.truncate(cut.position - segment.firstPosition);
    segment.size = cut.offset;
  }
  await context.tail.tornTail(segment, { offset: cut?.offset ?? segment.size, line: cut?.line ?? line + 1, reason: cut?.reason });
}

/** The longest tail a scan reads back to check it is ours: far more than a torn write leaves. */
const MAX_TAIL_CHECK_BYTES = 64 << 20;
/** The start of every line of ours: 8 hex digits, the append mark, then `{"position":` and a digit. */
const LINE_START = '00000000 {"position":0';

/**
 * The tail of a segment from `offset`, line by line: the number (from 0) of
 * the first piece that is neither the start of a line of ours (however short)
 * nor all zero bytes (what a power cut can leave), or undefined when every
 * piece is one of them.
 */
async function notOursFrom(path: string, offset: number): Promise<number | undefined> {
  const handle = await open(path, 'r');
  let bytes: Buffer;
  try {
    const { size } = await handle.stat();
    if (size - offset > MAX_TAIL_CHECK_BYTES) return 0;
    bytes = Buffer.alloc(size - offset);
    await handle.read(bytes, 0, bytes.length, offset);
  } finally {
    await handle.close();
  }
  let piece = 0;
  for (let start = 0; start < bytes.length; piece++) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline === -1 ? bytes.length : newline;
    if (!looksLikeOurStart(bytes, start, end)) return piece;
    start = end + 1;
  }
  return undefined;
}

/** True when the bytes from `start` to `end` could be the torn start of a line of ours (or zeros a crash left). */
export function looksLikeOurStart(bytes: Buffer, start: number, end: number): boolean {
  let zeros = true;
  for (let i = start; i < end && zeros; i++) zeros = bytes[i] === 0;
  if (zeros) return true;
  for (let i = 0; i < LINE_START.length && start + i < end; i++) {
    const c = bytes[start + i]!;
    const ok =
      i < 8 ? (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) : i === 8 ? c === 0x20 || c === 0x2b : i === LINE_START.length - 1 ? c >= 0x31 && c <= 0x39 : c === LINE_START.charCodeAt(i);
    if (!ok) return false;
  }
  return true;
}

/**
 * A writer's {@link TailPolicy.tornTail}: cut the torn tail off the file
 * (synced, so it cannot come back), report it, and count the segment scanned.
 */
export async function cutTornTail(segment: Segment, tail: TornTail, warn: (warning: StoreWarning) => void): Promise<void> {
  const handle = await open(segment.path, 'r+');
  try {
    await handle.truncate(tail.offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
  segment.size = tail.offset;
  warn({
    code: 'TORN_TAIL_REPAIRED',
    file: segment.path,
    line: tail.line,
    message:
      `Cut off a torn last line at ${segment.path}:${tail.line} ` +
      `(${tail.reason ?? 'no line end'}; likely a crash mid-write, the event was never acknowledged).`,
  });
  segment.scanned = true;
}

/**
 * A line's header, or why it is not a sound event line. Its checksum is
 * checked too (not its JSON): a scan never indexes a damaged line, so one
 * inside the last append is found before anything is appended after it.
 */
function headerAt(buffer: Buffer, start: number, end: number): LineHeader | { reason: string } {
  const header = readLineHeader(buffer, start, end);
  if (header === undefined) return { reason: 'not a moai-session event line' };
  return checksumMatches(buffer, start, end) ? header : { reason: 'checksum mismatch' };
}

/** A line decoded, checked and parsed, or why it cannot be. */
function decodeLineAt(
  buffer: Buffer,
  text: LinesText | undefined,
  start: number,
  end: number,
  file: string,
  line: number,
  upcasters: UpcasterRegistry,
): (LineHeader & { event: StoredEvent }) | { reason: string } {
  const decoded = decodeLine(buffer, start, end, text);
  if (!decoded.ok) return { reason: decoded.reason };
  // Parsed afresh for this reader alone: no need to freeze what nobody shares.
  const event = parseLoggedEvent(decoded.value, file, line, upcasters);
  return { position: event.position, stream: event.stream, version: event.version, continues: decoded.continues, event };
}

/**
 * Index a line if it continues the log (next position, next version of its
 * stream). A line another scan has indexed already must be where the index
 * has it. Returns why the line is bad, or undefined.
 */
function indexChecked(
  { catalog, index }: ScanContext,
  position: number,
  stream: string,
  version: number,
  segmentIndex: number,
  offset: number,
  length: number,
): string | undefined {
  if (position <= index.count) {
    const same = index.segment(position) === segmentIndex && index.offset(position) === offset && index.stream(position) === stream;
    return same ? undefined : `position ${position} appears twice in the log`;
  }
  const expectedPosition = index.count + 1;
  if (position !== expectedPosition) return `position ${position} where ${expectedPosition} was expected`;
  const expectedVersion = index.versionOf(stream) + 1;
  if (version !== expectedVersion) return `${stream} version ${version} where ${expectedVersion} was expected`;
  index.add(stream, segmentIndex, offset, length);
  catalog.segments[segmentIndex]!.size = offset + length + 1;
  return undefined;
}
