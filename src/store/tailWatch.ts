import { isLogRewrittenError, LogRewrittenError, StorageError } from '../errors.js';
import type { StoreWarning } from './fileEventStore.js';
import type { FileLog } from './fileLog.js';
import type { LogRewrites } from './liveFollower.js';
import type { Segment } from './segmentCatalog.js';
import { readRepairMark, type RepairMark } from './repairMark.js';

/*
 * A reader's watch on the tail of a log another process writes. It reads
 * what the writer has written, which can be a batch ahead of what is
 * durable; should the writer's fdatasync fail and that batch be rolled back
 * and written over, the reader's index no longer fits the file. Before each
 * read, one small read tells (the last line it indexed must still be where
 * it was); the rewritten part is forgotten and read again, and reads under
 * way stop with `LogRewrittenError` rather than mix old lines with new.
 */

/** Notices new segments, grown tails and rewritten tails of a log another process writes. */
export class TailWatch implements LogRewrites {
  /** How many times this reader forgot a rewritten tail. */
  count = 0;
  /** The first position it forgot the last time. */
  from = 0;
  /** The repair mark as first seen (null: not looked at yet). */
  private repairMark: string | undefined | null = null;

  constructor(
    private readonly log: FileLog,
    private readonly warn: (warning: StoreWarning) => void,
  ) {}

  /**
   * Note what the writer may have appended since the last look: new
   * segments, and more lines in the last one, after checking the lines
   * already indexed there are still there. Nothing is read until it is needed.
   */
  async refresh(): Promise<void> {
    const { catalog } = this.log;
    await this.checkNotRepaired();
    try {
      const last = catalog.last;
      if (last !== undefined) {
        last.scanned = false;
        await this.forgetTailIfRewritten(catalog.segments.length - 1);
      }
      await catalog.discover();
    } catch (error) {
      await this.checkNotRepaired(); // files a repair replaced while this look read them: say that, not "corrupt"
      throw error;
    }
  }

  /**
   * Hand over what `read` yields, unless a look (this read's or another's)
   * found meanwhile that the writer rewrote lines (a rolled-back write): then
   * the read stops with an error saying to read again, rather than handing
   * over a mix of old lines and new, or calling the log corrupt.
   */
  async *guard<T>(read: AsyncIterable<T>): AsyncIterable<T> {
    const rewrites = this.count;
    try {
      for await (const item of read) {
        if (this.count !== rewrites) throw new LogRewrittenError(this.log.catalog.dir, this.from);
        yield item;
      }
    } catch (error) {
      await this.checkNotRepaired();
      // Whatever went wrong reading lines that changed under the read is the rewrite's doing.
      if (this.count !== rewrites && !isLogRewrittenError(error)) throw new LogRewrittenError(this.log.catalog.dir, this.from);
      throw error;
    }
  }

  /** A repair that put rewritten segments in place since this reader first looked: it stops with an error saying so. */
  private async checkNotRepaired(): Promise<void> {
    const mark = await readRepairMark(this.log.catalog.dir);
    if (this.repairMark === null) {
      this.repairMark = mark;
      return;
    }
    if (mark === this.repairMark) return;
    let said: Partial<RepairMark> = {};
    try {
      said = JSON.parse(mark ?? '{}') as RepairMark;
    } catch {
      // being written: the change is what counts
    }
    throw new StorageError(
      `The event log in ${this.log.catalog.dir} was repaired${said.at === undefined ? '' : ` at ${said.at}`} while this reader was reading it ` +
        `(segment files replaced${said.report === undefined ? '' : `; report: ${said.report}`}): start reading again. ` +
        'Positions did not change: a follower can resume after the last position it delivered.',
    );
  }

  /** A read stopped by a rewrite only has to be started again. */
  isRewriteError(error: unknown): boolean {
    return isLogRewrittenError(error);
  }

  /** What a live subscription that had handed out rewritten events is stopped with. */
  deliveredRewritten(from: number, delivered: number): Error {
    return new StorageError(
      `The writer of ${this.log.catalog.dir} rewrote the log from position ${from} after this subscription had delivered events ` +
        `up to ${delivered} (a rolled-back write): subscribe again from position ${from}.`,
    );
  }

  /** If the writer rewrote lines this reader indexed in segment `segmentIndex`, forget them from the first one that changed. */
  private async forgetTailIfRewritten(segmentIndex: number): Promise<void> {
    const { index, catalog } = this.log;
    const segment = catalog.segments[segmentIndex]!;
    const last = index.count;
    if (segment.size === 0 || last < segment.firstPosition || index.segment(last) !== segmentIndex) return;
    if (await this.stillThere(segment, last)) return;
    // A rollback cuts and then appends: the lines before the first changed one are
    // all still there, those from it on are not. Find it, and forget only from there.
    let low = segment.firstPosition; // the first changed line is at or after low...
    let high = last; // ...and at or before high
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (await this.stillThere(segment, middle)) low = middle + 1;
      else high = middle;
    }
    const from = low;
    this.count++;
    this.from = from;
    segment.size = index.offset(from);
    index.truncate(from - 1);
    segment.blocks.truncate(from - segment.firstPosition);
    this.warn({
      code: 'TAIL_REWRITTEN',
      file: segment.path,
      message:
        `The writer rewrote ${segment.path} from its line ${from - segment.firstPosition + 1} (position ${from}) after this reader had read it ` +
        `(a rolled-back write): ${last - from + 1} indexed line(s) are read again.`,
    });
  }

  /** True when the line this reader indexed for `position` is still where the index says, whole and unchanged. */
  private async stillThere(segment: Segment, position: number): Promise<boolean> {
    const { index, reader } = this.log;
    const header = await reader.soundHeaderAt(segment, index.offset(position), index.length(position));
    return !('reason' in header) && header.position === position && header.stream === index.stream(position);
  }
}
