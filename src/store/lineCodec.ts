import { isAscii } from 'node:buffer';
import { crc32 } from 'node:zlib';
import type { StoredEvent } from '../events/envelope.js';

/*
 * One event a line: `<crc32 of the JSON, 8 hex digits><mark><JSON envelope>\n`.
 * The mark is a space on the last line of an append and `+` on the lines
 * before it, so an append cut short by a crash is recognised and dropped
 * whole: an append is all of its events or none. The envelope's keys come in a
 * fixed order (position, stream, version first) so the open scan can index a
 * line without parsing all of it.
 */

const HEX = 8;
const NEWLINE = 0x0a;
const LAST_OF_APPEND = 0x20; // ' '
const MORE_OF_APPEND = 0x2b; // '+'

const HEX_CODES = Buffer.from('0123456789abcdef', 'latin1');

/** Write `crc` as 8 lowercase hex digits into `buffer` at `at`. */
function writeHex(buffer: Buffer, at: number, crc: number): void {
  for (let i = 0; i < HEX; i++) buffer[at + i] = HEX_CODES[(crc >>> (28 - 4 * i)) & 15]!;
}

/** The 8 hex digits at `at` as a number, or -1 when they are not hex digits. */
function readHex(buffer: Buffer, at: number): number {
  let value = 0;
  for (let i = 0; i < HEX; i++) {
    const c = buffer[at + i]!;
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit === -1) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** Lines encoded together: the bytes to write and each line's length without its newline. */
export interface EncodedBatch {
  buffer: Buffer;
  lengths: number[];
}

/** The buffer a {@link LineEncoder} starts with, and the most it keeps between batches. */
const ENCODER_START_BYTES = 64 << 10;
const ENCODER_KEEP_BYTES = 1 << 20;
const CHECKSUM_PLACE = '00000000';

/**
 * Serialises stored events as log lines into one buffer it keeps from batch
 * to batch: the writer's group commit encodes every batch with one.
 *
 * What it costs is mostly calls into native code and allocations, so it
 * makes few of both: each event is stringified once into one text for the
 * batch, the text is written into the kept buffer with one call, and each
 * line's checksum is then computed over its bytes and written into the
 * place left for it. Where the batch is all ASCII (a byte a character, as
 * nearly every log is) each line's end is known from the text; otherwise it
 * is found in the bytes.
 *
 * Each event must have its keys in log order (position, stream, version
 * first), as `toStoredEvent` builds it: the open scan reads those three
 * without a parse.
 */
export class LineEncoder {
  private buffer = Buffer.allocUnsafe(ENCODER_START_BYTES);
  private text = '';
  /** Where each line's newline is in `text`. */
  private readonly newlines: number[] = [];
  /** Each line's length without its newline, in order; complete once {@link finish} is called. */
  readonly lengths: number[] = [];

  /** Start a new batch. The bytes of the last one may be written over from now on. */
  reset(): void {
    // A huge append grew the buffer: let it go rather than hold it for good.
    if (this.buffer.length > ENCODER_KEEP_BYTES) this.buffer = Buffer.allocUnsafe(ENCODER_START_BYTES);
    this.text = '';
    this.newlines.length = 0;
    this.lengths.length = 0;
  }

  /** Add the line of `event`; `lastOfAppend` says whether it ends its append. */
  add(event: StoredEvent, lastOfAppend: boolean): void {
    // JSON escapes newlines inside strings, so the line's only newline is its end.
    this.text += `${CHECKSUM_PLACE}${lastOfAppend ? ' ' : '+'}${JSON.stringify(event)}\n`;
    this.newlines.push(this.text.length - 1);
  }

  /** Encode the lines added since {@link reset}: their bytes, valid until the next reset. */
  finish(): Buffer {
    const { text, newlines, lengths } = this;
    // At most 3 bytes of UTF-8 per UTF-16 code unit.
    if (text.length * 3 > this.buffer.length) this.buffer = Buffer.allocUnsafe(Math.max(text.length * 3, this.buffer.length * 2));
    const buffer = this.buffer;
    const size = buffer.write(text, 0, 'utf8');
    const ascii = size === text.length;
    this.text = ''; // not held until the next batch
    let start = 0;
    for (let i = 0; i < newlines.length; i++) {
      const end = ascii ? newlines[i]! : buffer.indexOf(NEWLINE, start);
      writeHex(buffer, start, crc32(buffer.subarray(start + HEX + 1, end)));
      lengths.push(end - start);
      start = end + 1;
    }
    return buffer.subarray(0, size);
  }
}

/**
 * Serialise stored events as log lines, one buffer for the lot (see
 * {@link LineEncoder}). `lastOfAppend[i]` says whether event `i` ends its
 * append (every event does when it is left out).
 */
export function encodeLines(events: readonly StoredEvent[], lastOfAppend?: readonly boolean[]): EncodedBatch {
  const encoder = new LineEncoder();
  for (let i = 0; i < events.length; i++) encoder.add(events[i]!, lastOfAppend === undefined || lastOfAppend[i] === true);
  return { buffer: encoder.finish(), lengths: [...encoder.lengths] };
}

/** One event as one log line (see {@link encodeLines}). */
export function encodeLine(event: StoredEvent): string {
  return encodeLines([event]).buffer.toString('utf8');
}

/** Why a line could not be decoded, or the JSON value it holds and whether its append goes on. */
export type DecodedLine = { ok: true; value: unknown; continues: boolean } | { ok: false; reason: string };

/** The text of `buffer[at, at + text.length)`, decoded at once for the lines in it. */
export interface LinesText {
  text: string;
  at: number;
}

/**
 * The longest span decoded as one text: well under 128 KB, past which a string
 * is born in V8's large-object space and lives until a full collection.
 */
const MAX_TEXT_SPAN = 96 << 10;

/**
 * The text of `buffer[start, end)` (whole lines), decoded once for all of
 * them, when its bytes are all ASCII (as nearly every log's are) and the span
 * is short enough to die young: then each line's JSON is a slice of it, at its
 * bytes' offsets. Undefined otherwise; each line is then decoded from UTF-8 on
 * its own.
 */
export function asciiTextOf(buffer: Buffer, start: number, end: number): LinesText | undefined {
  if (end - start > MAX_TEXT_SPAN) return undefined;
  const bytes = buffer.subarray(start, end);
  return isAscii(bytes) ? { text: bytes.toString('latin1'), at: start } : undefined;
}

/**
 * Decode the line in `buffer[start, end)` (without its newline): check the
 * checksum, then parse the JSON. `text` is {@link asciiTextOf} a span of the
 * same buffer that holds the line, when the caller has it. `blockChecked` says
 * the line's bytes were already verified with the checksum of a block of lines
 * around it, so its own is not computed again (its mark and hex digits are
 * still checked).
 */
export function decodeLine(buffer: Buffer, start: number, end: number, text?: LinesText, blockChecked = false): DecodedLine {
  const mark = buffer[start + HEX];
  if (end - start < HEX + 3 || (mark !== LAST_OF_APPEND && mark !== MORE_OF_APPEND)) {
    return { ok: false, reason: 'not a checksummed event line' };
  }
  const expected = readHex(buffer, start);
  if (expected === -1) return { ok: false, reason: 'checksum mismatch' };
  if (!blockChecked && crc32(buffer.subarray(start + HEX + 1, end)) !== expected) return { ok: false, reason: 'checksum mismatch' };
  try {
    const json =
      text === undefined ? buffer.toString('utf8', start + HEX + 1, end) : text.text.slice(start + HEX + 1 - text.at, end - text.at);
    return { ok: true, value: JSON.parse(json), continues: mark === MORE_OF_APPEND };
  } catch (error) {
    return { ok: false, reason: `invalid JSON (${(error as Error).message})` };
  }
}

/** True when the line in `buffer[start, end)` holds the checksum of its JSON (the JSON is not parsed). */
export function checksumMatches(buffer: Buffer, start: number, end: number): boolean {
  const expected = readHex(buffer, start);
  return expected !== -1 && end - start > HEX + 1 && crc32(buffer.subarray(start + HEX + 1, end)) === expected;
}

/** The fields the index needs, read from the start of a line. */
export interface LineHeader {
  position: number;
  stream: string;
  version: number;
  /** True when more lines of the same append follow this one. */
  continues: boolean;
}

const POSITION_KEY = Buffer.from('{"position":', 'latin1');
const STREAM_KEY = Buffer.from(',"stream":"', 'latin1');
const VERSION_KEY = Buffer.from('","version":', 'latin1');
const QUOTE = 0x22;

/** True when `buffer` holds `key` at `at`. */
function hasKey(buffer: Buffer, at: number, key: Buffer): boolean {
  for (let i = 0; i < key.length; i++) if (buffer[at + i] !== key[i]) return false;
  return true;
}

/** The decimal number at `at`, and where it ends; undefined when there is none. */
function readNumber(buffer: Buffer, at: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  let i = at;
  for (; i < end; i++) {
    const digit = buffer[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return i === at || i - at > 15 ? undefined : { value, next: i };
}

/**
 * Read the position, stream and version of the line in `buffer[start, end)`
 * from its bytes, without decoding or parsing it: the open scan does this for
 * every line of the log.
 */
export function readLineHeader(buffer: Buffer, start: number, end: number): LineHeader | undefined {
  const mark = buffer[start + HEX];
  if (mark !== LAST_OF_APPEND && mark !== MORE_OF_APPEND) return undefined;
  let i = start + HEX + 1;
  if (end - i < 40 || !hasKey(buffer, i, POSITION_KEY)) return undefined;
  const position = readNumber(buffer, i + POSITION_KEY.length, end);
  if (position === undefined || !hasKey(buffer, position.next, STREAM_KEY)) return undefined;
  i = position.next + STREAM_KEY.length;
  const quote = buffer.indexOf(QUOTE, i);
  if (quote === -1 || quote >= end || quote - i > 200) return undefined;
  const stream = buffer.toString('latin1', i, quote);
  if (!hasKey(buffer, quote, VERSION_KEY)) return undefined;
  const version = readNumber(buffer, quote + VERSION_KEY.length, end);
  if (version === undefined || buffer[version.next] !== 0x2c) return undefined;
  return { position: position.value, stream, version: version.value, continues: mark === MORE_OF_APPEND };
}
