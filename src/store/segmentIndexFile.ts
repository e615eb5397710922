import { open, readFile, rename, stat } from 'node:fs/promises';
import { writeFileSynced } from './syncedFiles.js';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import type { LineBlock } from './lineBlocks.js';

/*
 * The index of a segment, kept beside it as `segment-NNNNNN.idx` so a writer
 * opening a long log reads a few megabytes of index instead of scanning every
 * line: written when a segment is sealed, and for the active segment when the
 * writer closes (then only the lines appended after it are scanned). A
 * missing or unreadable index file is ignored and the segment scanned. A
 * sound one is also evidence: its writer had written and synced every line
 * it lists, so a segment shorter than it says, or a line not where it says,
 * is damage, never a torn tail to cut (see `SegmentCatalog.loadIndexFile`).
 *
 * Layout, little-endian: "MOAIIDX1", u32 format version, f64 segment size,
 * f64 first position, u32 line count, u32 stream count, then each stream name
 * (u16 byte length, UTF-8 bytes), then per line a u32 stream number, a u32
 * offset and a u32 length, then (format 2) a u32 block count and per block
 * (see `lineBlocks.ts`) a u32 first line, a u32 line count and a u32 CRC-32,
 * then a u32 CRC-32 of everything before it. Format 1 files, which have no
 * blocks, are still read.
 */

const MAGIC = Buffer.from('MOAIIDX1', 'latin1');
const FORMAT = 2;

/** The lines of one sealed segment, as its index file holds them. */
export interface SegmentIndex {
  segmentSize: number;
  firstPosition: number;
  streams: string[];
  streamOf: Uint32Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
  /** Checksums of runs of its lines; lines in no block are checked one by one. */
  blocks: LineBlock[];
}

/** The index file's path for a segment file's path. */
export const indexFileOf = (segmentPath: string): string => segmentPath.replace(/\.jsonl$/, '.idx');

/** Write a segment's index next to it (to a temporary file, then renamed into place). */
export async function writeSegmentIndex(segmentPath: string, index: SegmentIndex): Promise<void> {
  const count = index.offsets.length;
  const names = index.streams.map((name) => Buffer.from(name, 'utf8'));
  const size = MAGIC.length + 4 + 8 + 8 + 4 + 4 + names.reduce((sum, n) => sum + 2 + n.length, 0) + count * 12 + 4 + index.blocks.length * 12 + 4;
  const buffer = Buffer.alloc(size);
  let at = MAGIC.copy(buffer, 0);
  at = buffer.writeUInt32LE(FORMAT, at);
  at = buffer.writeDoubleLE(index.segmentSize, at);
  at = buffer.writeDoubleLE(index.firstPosition, at);
  at = buffer.writeUInt32LE(count, at);
  at = buffer.writeUInt32LE(names.length, at);
  for (const name of names) {
    at = buffer.writeUInt16LE(name.length, at);
    at += name.copy(buffer, at);
  }
  for (const array of [index.streamOf, index.offsets, index.lengths]) {
    at += Buffer.from(array.buffer, array.byteOffset, count * 4).copy(buffer, at);
  }
  at = buffer.writeUInt32LE(index.blocks.length, at);
  for (const block of index.blocks) {
    at = buffer.writeUInt32LE(block.firstLine, at);
    at = buffer.writeUInt32LE(block.lineCount, at);
    at = buffer.writeUInt32LE(block.crc, at);
  }
  buffer.writeUInt32LE(crc32(buffer.subarray(0, at)), at);
  const path = indexFileOf(segmentPath);
  const temporary = `${path}.${process.pid}.tmp`;
  // Synced before the rename, and the folder after: a power cut never leaves an empty or partial index
  // file in place (which would then be kept as evidence, and every open would scan the segment).
  await writeFileSynced(temporary, buffer);
  await rename(temporary, path);
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } catch {
    // a folder that cannot be synced (some file systems): the index is still whole, only its name may be lost
  } finally {
    await folder.close();
  }
}

/** What is beside a segment as its index file: none, one that cannot be read, or a sound one (and the segment's size now). */
export type IndexFileRead =
  | { status: 'missing' }
  | { status: 'unreadable'; why: string }
  | { status: 'sound'; index: SegmentIndex; fileSize: number };

/**
 * A segment's index, or undefined when there is none it can trust. With
 * `prefix`, an index of the first part of a segment that has grown since (the
 * active segment, indexed when the writer last closed) is accepted: the lines
 * after it are scanned.
 */
export async function readSegmentIndex(segmentPath: string, prefix = false): Promise<SegmentIndex | undefined> {
  const read = await readIndexFile(segmentPath);
  if (read.status !== 'sound') return undefined;
  // A sealed segment never changes; a size that differs means the index is stale: scan.
  const { segmentSize } = read.index;
  return (prefix ? segmentSize <= read.fileSize : segmentSize === read.fileSize) ? read.index : undefined;
}

/**
 * The index file beside a segment, as it is: missing, unreadable (its
 * checksum or layout is wrong), or sound, with the segment file's size now.
 * A sound one is evidence of what its writer wrote: the caller compares it
 * with the segment (see `SegmentCatalog.loadIndexFile`).
 */
export async function readIndexFile(segmentPath: string): Promise<IndexFileRead> {
  let buffer: Buffer;
  let fileSize: number;
  try {
    buffer = await readFile(indexFileOf(segmentPath));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { status: 'missing' } : { status: 'unreadable', why: (error as Error).message };
  }
  try {
    ({ size: fileSize } = await stat(segmentPath));
  } catch {
    return { status: 'missing' };
  }
  const index = parseSegmentIndex(buffer);
  return index === undefined ? { status: 'unreadable', why: 'its checksum or layout is wrong' } : { status: 'sound', index, fileSize };
}

/** The index file of a segment whose file is gone, if it is a sound one: what the lost segment held. */
export async function readOrphanIndexFile(segmentPath: string): Promise<SegmentIndex | undefined> {
  const buffer = await readFile(indexFileOf(segmentPath)).catch(() => undefined);
  return buffer === undefined ? undefined : parseSegmentIndex(buffer);
}

/** The index an index file's bytes hold, or undefined when they are not a sound one. */
function parseSegmentIndex(buffer: Buffer): SegmentIndex | undefined {
  try {
    if (buffer.length < MAGIC.length + 32 || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    if (crc32(buffer.subarray(0, buffer.length - 4)) !== buffer.readUInt32LE(buffer.length - 4)) return undefined;
    let at = MAGIC.length;
    const format = buffer.readUInt32LE(at);
    if (format !== 1 && format !== FORMAT) return undefined;
    at += 4;
    const indexedSize = buffer.readDoubleLE(at);
    at += 8;
    const firstPosition = buffer.readDoubleLE(at);
    at += 8;
    const count = buffer.readUInt32LE(at);
    at += 4;
    const streamCount = buffer.readUInt32LE(at);
    at += 4;
    const streams: string[] = [];
    for (let i = 0; i < streamCount; i++) {
      const length = buffer.readUInt16LE(at);
      streams.push(buffer.toString('utf8', at + 2, at + 2 + length));
      at += 2 + length;
    }
    // Copied out (aligned) in one go each; the format is little-endian, like every machine Node runs on here.
    const column = (): Uint32Array => {
      const bytes = buffer.subarray(at, at + count * 4);
      at += count * 4;
      const aligned = new Uint8Array(count * 4);
      aligned.set(bytes);
      return new Uint32Array(aligned.buffer);
    };
    const arrays = [column(), column(), column()] as const;
    const blocks: LineBlock[] = [];
    const blockCount = format === 1 ? 0 : buffer.readUInt32LE(at);
    at += format === 1 ? 0 : 4;
    for (let i = 0; i < blockCount; i++, at += 12) {
      const block = { firstLine: buffer.readUInt32LE(at), lineCount: buffer.readUInt32LE(at + 4), crc: buffer.readUInt32LE(at + 8) };
      // A block must lie within the indexed lines; one that does not makes the whole index suspect.
      if (block.lineCount === 0 || block.firstLine + block.lineCount > count) return undefined;
      blocks.push(block);
    }
    if (at !== buffer.length - 4) return undefined;
    return { segmentSize: indexedSize, firstPosition, streams, streamOf: arrays[0], offsets: arrays[1], lengths: arrays[2], blocks };
  } catch {
    return undefined;
  }
}
