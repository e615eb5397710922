import { fileStores } from './fileStoreBrand.js';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Observable } from 'rxjs';
import { LiveEvents } from './liveEvents.js';
import type { NewEvent, StoredEvent } from '../events/envelope.js';
import { StorageError, StoreClosedError } from '../errors.js';
import { ActiveSegment } from './activeSegment.js';
import { ACK_RECORD_NAME, AckRecordWriter } from './ackRecord.js';
import type {
  AppendOptions,
  AppendResult,
  ReadAllOptions,
  ReadStreamOptions,
  StreamInfo,
  SubscribeOptions,
} from './eventStore.js';
import type { Durability, FileEventStore, StoreWarning } from './fileEventStore.js';
import { FileLog } from './fileLog.js';
import type { ResolvedFileStoreOptions } from './fileStoreOptions.js';
import { GroupCommit } from './groupCommit.js';
import { indexFileOf } from './segmentIndexFile.js';
import { cutTornTail } from './openScan.js';
import { checkReadBounds } from './readBounds.js';
import { catchUpThenFollow } from './subscription.js';
import { acceptNewEvents } from './toStoredEvent.js';
import { acquireWriterLock, type WriterLock } from './writerLock.js';

/** How often the writer records what it acknowledged, in ms. */
const ACK_RECORD_MS = 1_000;

/**
 * The file store of the one process that writes the log: it holds the writer
 * lock, indexes the whole log on open (cutting off a torn tail a crash left,
 * refusing damage: see `openScan.ts`), appends by
 * group commit and tells its subscribers of each event as it becomes durable.
 * Everything it reads, it wrote or checked itself, so it never looks for
 * rewrites.
 */
export class FileEventStoreWriter implements FileEventStore {
  readonly dir: string;
  readonly durability: Durability;
  readonly readOnly = false;
  readonly upcasting: 'built-in' | 'custom';
  readonly warnings: StoreWarning[] = [];

  private readonly log: FileLog;
  private readonly active: ActiveSegment;
  private readonly commit: GroupCommit;
  private readonly live = new LiveEvents();
  private lock: WriterLock | undefined;
  private ackRecord: AckRecordWriter | undefined;
  private ackTimer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  /** Set when close() is called: appends are refused from then on, and every caller waits for the one close. */
  private closing: Promise<void> | undefined;

  /** Open (or create) the log in `options.dir` for writing: see `openFileEventStore`. */
  static async open(options: ResolvedFileStoreOptions): Promise<FileEventStoreWriter> {
    const store = new FileEventStoreWriter(options);
    await store.open();
    return store;
  }

  private constructor(private readonly options: ResolvedFileStoreOptions) {
    fileStores.add(this);
    this.dir = options.dir;
    this.durability = options.durability;
    this.upcasting = options.upcasting;
    this.log = new FileLog(options.dir, options.upcasters, {
      folderMayBeMissing: false,
      continuesLastBlock: true,
      lastSegmentGrows: false,
      sealedSegmentScanned: async (segmentIndex) => void (await this.log.catalog.saveIndexFile(segmentIndex)),
      tornTail: (segment, tail) => cutTornTail(segment, tail, (warning) => this.warn(warning)),
    });
    this.active = new ActiveSegment(this.log, options.maxSegmentBytes);
    this.commit = new GroupCommit(this.log, this.active, options.durability, (events) => {
      // Subscribers hear of each event; with none, the loop is skipped (rxjs does some work per next()).
      if (this.live.observed) for (const event of events) this.live.next(event);
    });
  }

  private async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true }).catch((error: unknown) => {
      throw new StorageError(`Cannot create the event log folder ${this.dir}: ${(error as Error).message}`, {
        cause: error,
      });
    });
    this.lock = await acquireWriterLock(this.dir, {
      waitMs: this.options.lockWaitMs,
      onCompromised: (error) => {
        const broken = new StorageError(`Lost the writer lock of ${this.dir}: ${error.message}`);
        this.commit.breakWith(broken);
        this.warn({ code: 'LOCK_COMPROMISED', message: broken.message });
      },
    });
    if (this.lock.tookOver !== undefined) this.warn({ code: 'LOCK_TAKEN_OVER', file: join(this.dir, 'writer.lock'), message: this.lock.tookOver });
    try {
      await this.log.catalog.discover();
      await this.log.readAcknowledged();
      await this.log.ensureIndexed();
      for (const segment of this.log.catalog.segments) {
        if (segment.indexFileUnreadable === undefined) continue;
        this.warn({
          code: 'INDEX_FILE_UNREADABLE',
          file: indexFileOf(segment.path),
          message:
            `The index file ${indexFileOf(segment.path)} cannot be read (${segment.indexFileUnreadable}): ${segment.name} was scanned instead, ` +
            'and the file is kept as it is (it may be evidence of what was written). `moai-session repair` rebuilds it.',
        });
      }
      await this.active.open();
      if (this.durability !== 'none') this.startAckRecord();
    } catch (error) {
      await this.release();
      throw error;
    }
  }

  append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    try {
      if (this.closed || this.closing !== undefined) throw new StoreClosedError();
      if (this.commit.broken !== undefined) throw this.commit.broken;
      // Validated and frozen now, so what was validated is what gets written.
      acceptNewEvents(stream, events);
      return this.commit.append(stream, events, options.expectedVersion ?? 'any');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<StoredEvent> {
    this.ensureOpen();
    checkReadBounds({ fromVersion: options.fromVersion, toVersion: options.toVersion });
    yield* this.log.readStream(stream, options);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
    for await (const batch of this.readAllBatches(options)) yield* batch;
  }

  async *readAllBatches(options: ReadAllOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    this.ensureOpen();
    checkReadBounds({ fromPosition: options.fromPosition, toPosition: options.toPosition });
    yield* this.log.readAllBatches(options);
  }

  async streamVersion(stream: string): Promise<number> {
    this.ensureOpen();
    await this.log.ensureIndexed();
    return this.log.index.versionOf(stream);
  }

  async listStreams(): Promise<StreamInfo[]> {
    this.ensureOpen();
    await this.log.ensureIndexed();
    return this.log.listStreams();
  }

  async headPosition(): Promise<number> {
    this.ensureOpen();
    await this.log.ensureIndexed();
    return this.log.index.count;
  }

  subscribe(options: SubscribeOptions = {}): Observable<StoredEvent> {
    this.ensureOpen();
    return catchUpThenFollow(options, (o) => this.readAll(o), this.live);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // What was appended before close() is written; nothing after it is taken.
      await this.commit.drain();
      this.closed = true;
      this.log.reader.refuseReads();
      this.live.complete();
      await this.release();
    })();
    return this.closing;
  }

  /**
   * Keep the durable record of what was acknowledged (`ackRecord.ts`) about
   * once a second while appends come: after a crash it tells damage from a
   * torn tail where no index file covers the lines yet.
   */
  private startAckRecord(): void {
    this.ackRecord = new AckRecordWriter(this.dir);
    this.ackTimer = setInterval(() => void this.recordAcknowledged(), ACK_RECORD_MS);
    this.ackTimer.unref();
  }

  private recordAcknowledged(): Promise<void> {
    const last = this.log.catalog.last;
    if (this.ackRecord === undefined || last === undefined || this.commit.broken !== undefined) return Promise.resolve();
    return this.ackRecord.write({ segment: last.number, position: this.log.index.count, size: last.size });
  }

  private async release(): Promise<void> {
    clearInterval(this.ackTimer);
    const { catalog } = this.log;
    const active = catalog.segments.length - 1;
    let indexed = false;
    if (this.active.isOpen && active >= 0 && this.commit.broken === undefined && catalog.segments[active]!.size > 0) {
      // Synced first (durability 'none' never synced it): an index file records only lines on disk, as evidence of what was written.
      await this.active.datasync();
      indexed = await catalog.saveIndexFile(active); // the next open scans only what is appended after this
    }
    if (this.ackRecord !== undefined) {
      // Closed cleanly, the index files record all that was acknowledged: the record is only for a crash.
      if (indexed || catalog.segments.every((segment) => segment.size === 0)) {
        await this.ackRecord.close();
        await rm(join(this.dir, ACK_RECORD_NAME), { force: true }).catch(() => undefined);
      } else {
        await this.recordAcknowledged();
        await this.ackRecord.close();
      }
      this.ackRecord = undefined;
    }
    await this.log.reader.closeHandles();
    await this.active.close();
    await this.lock?.release();
    this.lock = undefined;
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  private warn(warning: StoreWarning): void {
    this.warnings.push(warning);
    this.options.onWarning?.(warning);
  }
}
