import { isLogRewrittenError, LogRewrittenError, StorageError } from '../errors.js';
import type { StoreWarning } from './fileEventStore.js';
import type { FileLog } from './fileLog.js';
import type { LogRewrites } from './liveFollower.js';
import type { Segment } from './segmentCatalog.js';

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
    const last = catalog.last;
    if (last !== undefined) {
      last.scanned = false;
      await this.forgetTailIfRewritten(catalog.segments.length - 1);
    }
    await catalog.discover();
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
      // Whatever went wrong reading lines that changed under the read is the rewrite's doing.
      if (this.count !== rewrites && !isLogRewrittenError(error)) throw new LogRewrittenError(this.log.catalog.dir, this.from);
      throw error;
    }
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
