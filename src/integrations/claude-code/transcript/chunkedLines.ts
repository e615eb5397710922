// Splits a file read in large chunks into lines and hands each complete line
// to the decoder. Memory is one buffer of `chunkSize` bytes, grown only while
// a single line is longer than that, whatever the file's size.

import type { TranscriptLineDecoder } from './lineDecoder.js';
import type { ScanEndRecord, TranscriptRecord } from './types.js';

/** The default read size: large enough that per-read costs vanish, small enough that a chunk stays in the CPU cache while its lines are searched (256 KiB measured faster than 1 MiB and 4 MiB here). */
export const DEFAULT_CHUNK_SIZE = 1 << 18;

/** Where a scan starts: a byte offset at a line start (or, with `midLine`, inside a line) and the lines before it. */
export interface ScanStart {
  offset: number;
  line: number;
  /** The file's size when the scan starts: once the reads reach it, the last lines are looked at for the last timestamp. */
  size: number;
  unterminated?: boolean;
  midLine?: boolean;
}

/** Where the next read goes: the caller reads into `buffer[offset, offset + length)` from file `position`. */
export interface ReadTarget {
  buffer: Buffer;
  offset: number;
  length: number;
  position: number;
}

/**
 * The read loop of one scan, independent of how bytes are read (sync in a
 * worker, async on the main thread): `target()` says where to read, `consume(n)`
 * decodes the complete lines those bytes finish, `finish()` ends the scan.
 */
export class ChunkedLines {
  private buffer: Buffer;
  /** Bytes held in `buffer` (the unfinished line carried from the last read first). */
  private held = 0;
  /** The file offset of `buffer[0]`. */
  private bufferOffset: number;
  /** The file offset of the next read. */
  private readPosition: number;
  /** Lines fully read so far (the number of the last one). */
  private line: number;
  /** Whether the newline that ended the line before the first one read must be skipped (an earlier scan read a last line that had none). */
  private skipLeadingNewline: boolean;
  /** Whether the scan starts inside a line, whose rest is skipped. */
  private midLine: boolean;
  private readonly size: number;
  /** The timestamp of the last line that has one, once the reads have reached the end. */
  private lastTimestamp: string | undefined;
  private bytesRead = 0;

  constructor(
    private readonly decoder: TranscriptLineDecoder,
    start: ScanStart,
    chunkSize = DEFAULT_CHUNK_SIZE,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.max(4096, chunkSize));
    this.bufferOffset = start.offset;
    this.readPosition = start.offset;
    this.line = start.line;
    this.skipLeadingNewline = start.unterminated === true;
    this.midLine = start.midLine === true;
    this.size = start.size;
  }

  /** Where to read next. */
  target(): ReadTarget {
    if (this.held === this.buffer.length) {
      // One line fills the buffer: grow it (the only way memory grows, and only with the longest line).
      const grown = Buffer.allocUnsafe(this.buffer.length * 2);
      this.buffer.copy(grown, 0, 0, this.held);
      this.buffer = grown;
    }
    return { buffer: this.buffer, offset: this.held, length: this.buffer.length - this.held, position: this.readPosition };
  }

  /** Decode the complete lines after a read of `n` bytes into the last target; `n === 0` means the end of the file. */
  consume(n: number, out: TranscriptRecord[]): void {
    this.readPosition += n;
    this.bytesRead += n;
    const end = this.held + n;
    // A view of the held bytes only, so searches never run into stale bytes past them.
    const view = this.buffer.subarray(0, end);
    let s = 0;
    if (this.skipLeadingNewline && end > 0) {
      this.skipLeadingNewline = false;
      if (view[0] === 0x0a) s = 1;
    }
    if (this.midLine) {
      const nl = view.indexOf(0x0a);
      if (nl >= 0 || n === 0) {
        this.midLine = false;
        this.line++;
        const lineEnd = nl >= 0 ? nl + 1 : end;
        out.push({ kind: 'skipped', line: this.line, endOffset: this.bufferOffset + lineEnd, file: this.decoder.file, reason: 'the scan started inside this line (the resume offset is not at a line start): its rest is skipped' });
        s = lineEnd;
      }
    }
    const decoder = this.decoder;
    for (;;) {
      const nl = view.indexOf(0x0a, s);
      if (nl < 0) break;
      this.line++;
      decoder.decodeLine(view, s, nl, this.line, this.bufferOffset + nl + 1, out);
      s = nl + 1;
    }
    if (n === 0) {
      this.atEnd(view, s, end, out);
      return;
    }
    // At the end of the file (as it was), before the lines are written over: the last timestamp among them.
    if (s > 0 && this.readPosition >= this.size) this.lastTimestamp = decoder.timestampBefore(view, s) ?? this.lastTimestamp;
    if (this.midLine) {
      // Still inside the skipped line: drop what was read of it.
      this.bufferOffset += end;
      this.held = 0;
      return;
    }
    // Carry the unfinished line to the front for the next read.
    if (s > 0) {
      this.buffer.copy(this.buffer, 0, s, end);
      this.bufferOffset += s;
    }
    this.held = end - s;
  }

  private atEnd(view: Buffer, s: number, end: number, out: TranscriptRecord[]): void {
    let consumedEnd = s;
    let unterminated = false;
    if (s < end) {
      // A last line without a newline: read it if it is whole, else leave it for the next scan.
      if (this.decoder.decodeUnterminated(view, s, end, this.line + 1, this.bufferOffset + end, out)) {
        this.line++;
        consumedEnd = end;
        unterminated = true;
      }
    }
    if (unterminated) this.lastTimestamp = this.decoder.timestampBefore(view, consumedEnd) ?? this.lastTimestamp;
    // Lines read whole give a last timestamp too, when the file's last lines have none.
    const lastTimestamp = this.lastTimestamp ?? this.decoder.lastTimestamp;
    const offset = this.bufferOffset + consumedEnd;
    const checkpoint = this.decoder.checkpoint(offset, this.line);
    if (unterminated) checkpoint.unterminated = true;
    const record: ScanEndRecord = {
      kind: 'end',
      line: this.line,
      endOffset: offset,
      file: this.decoder.file,
      checkpoint,
      summaryLeavesFound: [...this.decoder.leavesFound],
      bytesRead: this.bytesRead,
    };
    if (this.decoder.firstTimestamp !== undefined) record.firstTimestamp = this.decoder.firstTimestamp;
    if (lastTimestamp !== undefined) record.lastTimestamp = lastTimestamp;
    out.push(record);
  }
}
