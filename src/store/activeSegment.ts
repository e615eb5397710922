import { writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { syncFolder as syncDirectory } from './syncedFiles.js';
import type { FileLog } from './fileLog.js';

/*
 * The writer's end of the log: the append handle of the last segment, and
 * the rollover to a new one once it is full. A new segment's name is made
 * durable (the folder fsynced) before any line goes into it.
 */

/** The segment the writer appends to, and its rollover. */
export class ActiveSegment {
  private handle: FileHandle | undefined;
  /** A segment was created and the folder's fsync that makes its name durable has not succeeded yet. */
  private nameUnsynced = false;

  constructor(
    private readonly log: FileLog,
    private readonly maxSegmentBytes: number,
  ) {}

  /** True while a segment is open for appending. */
  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  /** Open the last segment of the log for appending, if it has one (a new log gets its first on the first append). */
  async open(): Promise<void> {
    const last = this.log.catalog.last;
    if (last !== undefined) this.handle = await open(last.path, 'a');
  }

  /** The segment (its place in the catalog) the next `bytes` go to, starting a new one when the current one is full. */
  async segmentFor(bytes: number): Promise<number> {
    const { catalog } = this.log;
    if (this.nameUnsynced) {
      // The last new segment's name is not durable yet: nothing is written to it until it is.
      await syncDirectory(catalog.dir);
      this.nameUnsynced = false;
    }
    const current = catalog.last;
    if (current !== undefined && (current.size === 0 || current.size + bytes <= this.maxSegmentBytes)) {
      return catalog.segments.length - 1;
    }
    if (this.handle !== undefined) {
      await this.handle.sync();
      await this.handle.close();
      this.handle = undefined;
      await catalog.saveIndexFile(catalog.segments.length - 1); // sealed: index it for the next open
    }
    const segment = catalog.nextSegment();
    this.handle = await open(segment.path, 'a');
    // Known before anything can fail, so a rollback truncates this segment, not the one before.
    catalog.add(segment);
    this.nameUnsynced = true;
    await syncDirectory(catalog.dir);
    this.nameUnsynced = false;
    return catalog.segments.length - 1;
  }

  /**
   * Write `buffer` at the end of the segment. Done in place, not on the
   * thread pool: the write only reaches the page cache, and a round trip per
   * batch costs more than it.
   */
  write(buffer: Buffer): void {
    const fd = this.handle!.fd;
    let written = 0;
    while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written);
  }

  /** fdatasync the segment (off-thread). */
  datasync(): Promise<void> {
    return this.handle!.datasync();
  }

  /** Cut the segment back to `size` bytes, synced unless `sync` is false. */
  async truncate(size: number, sync: boolean): Promise<void> {
    await this.handle!.truncate(size);
    if (sync) await this.handle!.datasync();
  }

  /** Close the append handle. */
  async close(): Promise<void> {
    if (this.handle !== undefined) {
      await this.handle.close();
      this.handle = undefined;
    }
  }
}

