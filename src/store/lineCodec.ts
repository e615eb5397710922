import { crc32 } from 'node:zlib';
import type { StoredEvent } from '../events/envelope.js';

/*
 * One event a line: `<crc32 of the JSON, 8 hex digits> <JSON envelope>\n`.
 * The envelope's keys come in a fixed order (position, stream, version first)
 * so the open scan can index a line without parsing all of it.
 */

const HEX = 8;
const NEWLINE = 0x0a;

/** Serialise a stored event as one log line, checksum included. */
export function encodeLine(event: StoredEvent): string {
  const json = JSON.stringify({
    position: event.position,
    stream: event.stream,
    version: event.version,
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    meta: event.meta,
    data: event.data,
  });
  return `${crc32(json).toString(16).padStart(HEX, '0')} ${json}\n`;
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
