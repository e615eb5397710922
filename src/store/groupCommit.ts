import type { NewEvent, StoredEvent } from '../events/envelope.js';
import { StorageError } from '../errors.js';
import type { ActiveSegment } from './activeSegment.js';
import type { AppendResult, ExpectedVersion } from './eventStore.js';
import { checkExpectedVersion } from './expectedVersion.js';
import type { Durability } from './fileEventStore.js';
import type { FileLog } from './fileLog.js';
import { LineEncoder } from './lineCodec.js';
import { toStoredEvent } from './toStoredEvent.js';

/*
 * Group commit: appends wait in a queue; those that arrive in one turn of
 * the event loop (and all that arrive while an fdatasync is in flight) share
 * one write and one fdatasync. Expected versions are decided inside the
 * batch, against the versions as the batch leaves them. A batch whose write
 * or fdatasync fails is rolled back: its lines are cut off (the cut synced),
 * the index and block checksums forget them, and every append of it is refused.
 */

/** Bytes a batch is planned to hold at most, counted at 512 an event; one append always goes in whole. */
const MAX_BATCH_BYTES = 8 << 20;

/** An append waiting for its batch. */
interface PendingAppend {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly expectedVersion: ExpectedVersion;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
  /** Its answer once its batch has taken it, given when the batch is durable. */
  result: AppendResult | undefined;
}

/** The writer's append queue and its batched, durable writes. */
export class GroupCommit {
  private queue: PendingAppend[] = [];
  /** Every batch is encoded into the one buffer it keeps: batches are written one at a time. */
  private readonly encoder = new LineEncoder();
  private flushing = false;
  private flushScheduled = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  private brokenBy: Error | undefined;

  /**
   * @param publish hears of every append's events once they are durable, in position order
   */
  constructor(
    private readonly log: FileLog,
    private readonly active: ActiveSegment,
    private readonly durability: Durability,
    private readonly publish: (events: readonly StoredEvent[]) => void,
  ) {}

  /** Why appends can no longer be taken (a lost lock, a rollback that failed), if they cannot. */
  get broken(): Error | undefined {
    return this.brokenBy;
  }

  /** Refuse every append from now on with `error`. */
  breakWith(error: Error): void {
    this.brokenBy = error;
  }

  /** Queue an append of accepted (validated, frozen) events; it resolves once they are as durable as asked. */
  append(stream: string, events: readonly NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ stream, events, expectedVersion, resolve, reject, result: undefined });
      this.scheduleFlush();
    });
  }

  /** Wait until every append queued so far is written (or refused). */
  async drain(): Promise<void> {
    while (this.flushing || this.flushScheduled || this.queue.length > 0) await this.idle;
  }

  // Appends that arrive in the same turn of the event loop (and all that arrive
  // during an fsync) share one write and one fsync.
  private scheduleFlush(): void {
    if (this.flushing || this.flushScheduled) return;
    this.flushScheduled = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.durability === 'always' ? this.queue.splice(0, 1) : this.takeBatch();
        try {
          await this.writeBatch(batch);
        } catch (error) {
          // writeBatch settles every append it accepts; this is a bug's last line of defence.
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.flushing = false;
      this.markIdle();
    }
  }

  private takeBatch(): PendingAppend[] {
    const queue = this.queue;
    let bytes = 0;
    let count = 0;
    while (count < queue.length && (count === 0 || bytes < MAX_BATCH_BYTES)) {
      bytes += queue[count]!.events.length * 512;
      count++;
    }
    if (count < queue.length) return queue.splice(0, count);
    this.queue = []; // the whole queue, as nearly always: taken as it is, not copied
    return queue;
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    if (this.brokenBy !== undefined) {
      for (const pending of batch) pending.reject(this.brokenBy);
      return;
    }
    const { index, catalog } = this.log;
    const encoder = this.encoder;
    encoder.reset();
    // Decide every append of the batch against the versions as they will be,
    // so two appends in one batch with the same expected version conflict.
    const versions = new Map<string, number>();
    let position = index.count;
    const countBefore = position;
    const accepted: PendingAppend[] = []; // each with its result
    // Answers that rest on appends earlier in this batch (a conflict with one, an
    // empty append after one) are given once the batch is durable; should it
    // fail, they fail with it.
    const dependent: { pending: PendingAppend; answer: () => void }[] = [];
    for (const pending of batch) {
      const inBatch = versions.get(pending.stream);
      const current = inBatch ?? index.versionOf(pending.stream);
      try {
        checkExpectedVersion(pending.stream, pending.expectedVersion, current);
      } catch (error) {
        if (inBatch === undefined) pending.reject(error);
        else dependent.push({ pending, answer: () => pending.reject(error) });
        continue;
      }
      const count = pending.events.length;
      if (count === 0) {
        const answer = () => pending.resolve({ stream: pending.stream, nextExpectedVersion: current, events: [] });
        if (inBatch === undefined) answer();
        else dependent.push({ pending, answer });
        continue;
      }
      const stored: StoredEvent[] = [];
      for (let i = 0; i < count; i++) {
        const event = toStoredEvent(pending.events[i]!, pending.stream, current + i + 1, ++position);
        stored.push(event);
        encoder.add(event, i === count - 1);
      }
      versions.set(pending.stream, current + count);
      pending.result = { stream: pending.stream, nextExpectedVersion: current + count, events: stored };
      accepted.push(pending);
    }
    if (accepted.length === 0) return; // and so nothing depends on the batch

    const buffer = encoder.finish();
    const lengths = encoder.lengths;
    try {
      const segmentIndex = await this.active.segmentFor(buffer.length);
      const segment = catalog.segments[segmentIndex]!;
      this.active.write(buffer);
      // The fdatasync that waits for the disk runs off-thread; meanwhile the
      // lines are checksummed by the block for readers.
      const syncing = this.durability === 'none' ? undefined : this.active.datasync();
      syncing?.catch(() => {}); // awaited below: this only keeps it handled should plan() throw first
      const blocks = segment.blocks.plan(buffer, lengths, countBefore + 1 - segment.firstPosition);
      await syncing;
      // Durable: keep the blocks, index the lines, and only then count the bytes
      // as the segment's (a rollback cuts the file back to its size before).
      segment.blocks.apply(blocks);
      let offset = segment.size;
      let line = 0;
      for (const { stream, events } of accepted) {
        for (let i = 0; i < events.length; i++, line++) {
          const length = lengths[line]!;
          index.add(stream, segmentIndex, offset, length);
          offset += length + 1;
        }
      }
      segment.size = offset;
    } catch (error) {
      await this.rollBack(countBefore);
      const failure = new StorageError(`Cannot append to the event log in ${catalog.dir}: ${(error as Error).message}`, {
        cause: error,
      });
      for (const pending of accepted) pending.reject(failure);
      for (const { pending } of dependent) pending.reject(failure);
      return;
    }
    for (const pending of accepted) pending.resolve(pending.result!);
    for (const { answer } of dependent) answer();
    for (const pending of accepted) this.publish(pending.result!.events);
  }

  /** After a failed write, cut the segment back to its last good line. */
  private async rollBack(count: number): Promise<void> {
    const { index, catalog } = this.log;
    index.truncate(count);
    const segment = catalog.last;
    if (segment === undefined || !this.active.isOpen) return;
    segment.blocks.truncate(count - segment.firstPosition + 1);
    try {
      // Synced, so the refused lines cannot come back after a crash.
      await this.active.truncate(segment.size, this.durability !== 'none');
    } catch (error) {
      this.brokenBy = new StorageError(
        `The event log in ${catalog.dir} could not be rolled back after a failed write (${(error as Error).message}); ` +
          'reopen it to repair the tail.',
      );
    }
  }
}
