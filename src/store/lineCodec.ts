import { crc32 } from 'node:zlib';
import type { StoredEvent } from '../events/envelope.js';

/*
 * One event a line: `<crc32 of the JSON, 8 hex digits> <JSON envelope>\n`.
 * The envelope's keys come in a fixed order (position, stream, version first)
 * so the open scan can index a line without parsing all of it.
 */

const HEX = 8;
const NEWLINE = 0x0a;

const HEX_CODES = Buffer.from('0123456789abcdef', 'latin1');
const PLACEHOLDER = '00000000';

/** Write `crc` as 8 lowercase hex digits into `buffer` at `at`. */
function writeHex(buffer: Buffer, at: number, crc: number): void {
  for (let i = 0; i < HEX; i++) buffer[at + i] = HEX_CODES[(crc >>> (28 - 4 * i)) & 15]!;
}

/** Lines encoded together: the bytes to write and each line's length without its newline. */
export interface EncodedBatch {
  buffer: Buffer;
  lengths: number[];
}

/**
 * Serialise stored events as log lines, one buffer for the lot. Each event must
 * have its keys in log order (position, stream, version first), as
 * `toStoredEvent` builds it: the open scan reads those three without a parse.
 * The JSON is encoded to UTF-8 once; each checksum is computed over those bytes
 * and written into the line's place for it.
 */
export function encodeLines(events: readonly StoredEvent[]): EncodedBatch {
  let text = '';
  for (const event of events) text += `${PLACEHOLDER} ${JSON.stringify(event)}\n`;
  const buffer = Buffer.from(text, 'utf8');
  const lengths: number[] = [];
  let start = 0;
  for (let i = 0; i < events.length; i++) {
    // JSON escapes newlines inside strings, so every newline byte ends a line.
    const end = buffer.indexOf(NEWLINE, start);
    writeHex(buffer, start, crc32(buffer.subarray(start + HEX + 1, end)));
    lengths.push(end - start);
    start = end + 1;
  }
  return { buffer, lengths };
}

/** One event as one log line (see {@link encodeLines}). */
export function encodeLine(event: StoredEvent): string {
  return encodeLines([event]).buffer.toString('utf8');
}

/** Why a line could not be decoded, or the JSON value it holds. */
export type DecodedLine = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * Decode the line in `buffer[start, end)` (without its newline): check the
 * checksum, then parse the JSON.
 */
export function decodeLine(buffer: Buffer, start: number, end: number): DecodedLine {
  if (end - start < HEX + 3 || buffer[start + HEX] !== 0x20) return { ok: false, reason: 'not a checksummed event line' };
  const expected = Number.parseInt(buffer.toString('latin1', start, start + HEX), 16);
  const body = buffer.subarray(start + HEX + 1, end);
  if (Number.isNaN(expected) || crc32(body) !== expected) return { ok: false, reason: 'checksum mismatch' };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch (error) {
    return { ok: false, reason: `invalid JSON (${(error as Error).message})` };
  }
}

/** The fields the index needs, read from the start of a line. */
export interface LineHeader {
  position: number;
  stream: string;
  version: number;
}

const HEADER = /^[0-9a-f]{8} \{"position":(\d+),"stream":"([A-Za-z0-9._:-]+)","version":(\d+),/;

/** Read the position, stream and version of the line in `buffer[start, end)`, without a full parse. */
export function readLineHeader(buffer: Buffer, start: number, end: number): LineHeader | undefined {
  const match = HEADER.exec(buffer.toString('latin1', start, Math.min(end, start + 320)));
  if (match === null) return undefined;
  return { position: Number(match[1]), stream: match[2]!, version: Number(match[3]) };
}

/**
 * Call `onLine(start, end)` for each complete line in `buffer[from, to)`;
 * returns the offset just after the last newline (where a partial line starts).
 */
export function forEachLine(
  buffer: Buffer,
  from: number,
  to: number,
  onLine: (start: number, end: number) => void,
): number {
  let start = from;
  for (;;) {
    const newline = buffer.indexOf(NEWLINE, start);
    if (newline === -1 || newline >= to) return start;
    onLine(start, newline);
    start = newline + 1;
  }
}
