import { open } from 'node:fs/promises';
import { StorageError } from '../errors.js';

/** The complete lines of one read of a segment file. */
export interface LineChunk {
  /** Valid only until the next chunk is asked for: its memory is reused. */
  buffer: Buffer;
  /** The file offset of `buffer[0]`. */
  offset: number;
  /** Each line's start and end (exclusive, without the newline) in `buffer`. */
  starts: number[];
  ends: number[];
  /** Bytes after the last newline read so far: a line still being written, or torn. */
  partialBytes: number;
}

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;

/**
 * Read a segment file from `fromOffset` to its end, a megabyte at a time,
 * split into complete lines. The next megabyte is read while the caller works
 * on the current one, into one of two buffers used in turn: a scan of a whole
 * log allocates two megabytes, not one per megabyte read. A line that spans
 * two reads is handed over on its own.
 */
export async function* readLineChunks(path: string, fromOffset: number): AsyncGenerator<LineChunk> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw new StorageError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  });
  const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
  let turn = 0;
  const readAt = (at: number) =>
    handle.read(buffers[turn++ % 2]!, 0, CHUNK_BYTES, at).catch((error: unknown) => {
      throw new StorageError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
    });
  let carry: Buffer = Buffer.alloc(0); // the start of a line the last read cut, copied out
  let carryOffset = fromOffset;
  let readOffset = fromOffset;
  let next = readAt(readOffset);
  try {
    for (;;) {
      const { bytesRead, buffer: whole } = await next;
      if (bytesRead === 0) break;
      const chunkOffset = readOffset;
      readOffset += bytesRead;
      next = readAt(readOffset); // into the other buffer
      const buffer = whole.subarray(0, bytesRead);
      let start = 0;
      const firstNewline = buffer.indexOf(NEWLINE);
      if (carry.length > 0) {
        if (firstNewline === -1) {
          carry = Buffer.concat([carry, buffer]);
          yield { buffer, offset: chunkOffset, starts: [], ends: [], partialBytes: carry.length };
          continue;
        }
        const spanning = Buffer.concat([carry, buffer.subarray(0, firstNewline)]);
        yield { buffer: spanning, offset: carryOffset, starts: [0], ends: [spanning.length], partialBytes: 0 };
        start = firstNewline + 1;
        carry = Buffer.alloc(0);
      }
      const starts: number[] = [];
      const ends: number[] = [];
      for (let end = buffer.indexOf(NEWLINE, start); end !== -1; end = buffer.indexOf(NEWLINE, start)) {
        starts.push(start);
        ends.push(end);
        start = end + 1;
      }
      carry = Buffer.from(buffer.subarray(start)); // copied: this buffer is reused two reads on
      carryOffset = chunkOffset + start;
      yield { buffer, offset: chunkOffset, starts, ends, partialBytes: carry.length };
    }
  } finally {
    await next.catch(() => undefined); // a read still in flight when the caller stopped early
    await handle.close();
  }
}
