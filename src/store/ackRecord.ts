import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/*
 * The writer's durable record of what it acknowledged: `writer.acked` in the
 * log folder, 36 bytes, rewritten in place (and fdatasynced) about once a
 * second while appends are acknowledged, off the append path. It says: the
 * log held at least `position` acknowledged events, the last of them in
 * segment `segment`, which was then at least `size` bytes. After a crash, a
 * scan that would cut into those bytes, or a log that ends before that
 * position, has found damage, not a torn write. A record that cannot be read
 * (missing, or torn by a crash of its own write) says nothing.
 *
 * Layout, little-endian: "MOAIACK1", u32 segment number, f64 position,
 * f64 segment size, u32 format (1), u32 CRC-32 of the 32 bytes before it.
 */

const MAGIC = Buffer.from('MOAIACK1', 'latin1');
const SIZE = 36;
/** The record's file name in the log folder. */
export const ACK_RECORD_NAME = 'writer.acked';

/** What the writer had acknowledged when it last wrote its record. */
export interface AckRecord {
  /** The number of the segment the last acknowledged line is in (`segment-NNNNNN.jsonl`). */
  segment: number;
  /** The last acknowledged position. */
  position: number;
  /** That segment's size in bytes with every acknowledged line in it. */
  size: number;
}

/** The record in log folder `dir`, or undefined when there is none that can be read. */
export async function readAckRecord(dir: string): Promise<AckRecord | undefined> {
  const bytes = await readFile(join(dir, ACK_RECORD_NAME)).catch(() => undefined);
  if (bytes === undefined || bytes.length !== SIZE || !bytes.subarray(0, 8).equals(MAGIC)) return undefined;
  if (crc32(bytes.subarray(0, SIZE - 4)) !== bytes.readUInt32LE(SIZE - 4) || bytes.readUInt32LE(28) !== 1) return undefined;
  return { segment: bytes.readUInt32LE(8), position: bytes.readDoubleLE(12), size: bytes.readDoubleLE(20) };
}

/** Keeps the writer's record: {@link AckRecordWriter.write} rewrites it in place and syncs it. */
export class AckRecordWriter {
  private handle: FileHandle | undefined;
  private last: string | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string) {}

  /** Record `record` (when it differs from the last one written); failures cost only evidence, never an append. */
  write(record: AckRecord): Promise<void> {
    const key = `${record.segment}:${record.position}:${record.size}`;
    if (key === this.last) return this.writing;
    this.writing = this.writing.then(async () => {
      try {
        // Opened without truncating: until the first write succeeds, the last writer's record still stands.
        this.handle ??= await open(join(this.dir, ACK_RECORD_NAME), 'r+').catch(() => open(join(this.dir, ACK_RECORD_NAME), 'w'));
        const bytes = Buffer.alloc(SIZE);
        MAGIC.copy(bytes, 0);
        bytes.writeUInt32LE(record.segment, 8);
        bytes.writeDoubleLE(record.position, 12);
        bytes.writeDoubleLE(record.size, 20);
        bytes.writeUInt32LE(1, 28);
        bytes.writeUInt32LE(crc32(bytes.subarray(0, SIZE - 4)), SIZE - 4);
        await this.handle.write(bytes, 0, SIZE, 0);
        await this.handle.datasync();
        this.last = key;
      } catch {
        // a record not written says less after a crash; the log itself is unharmed
      }
    });
    return this.writing;
  }

  /** Close the record's file (after a last write). */
  async close(): Promise<void> {
    await this.writing;
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }
}
