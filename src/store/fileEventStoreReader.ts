import { fileStores } from './fileStoreBrand.js';
import type { Observable } from 'rxjs';
import type { StoredEvent } from '../events/envelope.js';
import { StorageError, StoreClosedError } from '../errors.js';
import type { AppendResult, ReadAllOptions, ReadStreamOptions, StreamInfo, SubscribeOptions } from './eventStore.js';
import type { Durability, FileEventStore, StoreWarning } from './fileEventStore.js';
import { FileLog } from './fileLog.js';
import type { ResolvedFileStoreOptions } from './fileStoreOptions.js';
import { LiveFollower, pollEvery } from './liveFollower.js';
import { partitionedLogFrom } from './logSnapshot.js';
import { offerPartitionedLog } from './partitionedLog.js';
import { checkReadBounds } from './readBounds.js';
import { TailWatch } from './tailWatch.js';

/**
 * A read-only file store, for inspecting a log while another process writes
 * it. It takes no lock and never repairs: an unfinished tail is left alone
 * (the writer may be finishing it). It opens lazily, indexing a segment when
 * a read first needs it; before each read its {@link TailWatch} notes what
 * the writer appended and whether it rewrote what was read. Its
 * subscriptions follow the writer with a {@link LiveFollower} that looks
 * every `followIntervalMs`.
 */
export class FileEventStoreReader implements FileEventStore {
  readonly dir: string;
  readonly durability: Durability;
  readonly readOnly = true;
  readonly upcasting: 'built-in' | 'custom';
  readonly warnings: StoreWarning[] = [];

  private readonly log: FileLog;
  private readonly tail: TailWatch;
  private readonly follower: LiveFollower;
  private closed = false;
  private closing: Promise<void> | undefined;

  /** Open the log in `options.dir` for reading: see `openFileEventStore`. */
  static async open(options: ResolvedFileStoreOptions): Promise<FileEventStoreReader> {
    const store = new FileEventStoreReader(options);
    await store.log.catalog.discover();
    await store.log.readAcknowledged();
    return store;
  }

  private constructor(private readonly options: ResolvedFileStoreOptions) {
    fileStores.add(this);
    this.dir = options.dir;
    this.durability = options.durability;
    this.upcasting = options.upcasting;
    this.log = new FileLog(options.dir, options.upcasters, {
      folderMayBeMissing: true,
      continuesLastBlock: false,
      // The writer may be writing the last segment, and finishing its tail, right now.
      lastSegmentGrows: true,
      sealedSegmentScanned: async () => {},
      tornTail: async () => {},
    });
    this.tail = new TailWatch(this.log, (warning) => this.warn(warning));
    this.follower = new LiveFollower({
      readFrom: (fromPosition) => this.readAllBatches({ fromPosition }),
      headPosition: () => this.headPosition(),
      watch: pollEvery(options.followIntervalMs),
      rewrites: this.tail,
    });
    // A replay reads a long log in shares, one per thread (engine/parallelReplay.ts): indexed to its end now, read inside the tail guard.
    offerPartitionedLog(this, async () => {
      this.ensureOpen();
      await this.tail.refresh();
      await this.log.ensureIndexed();
      return partitionedLogFrom(this.log, this.upcasting === 'built-in', (read) => this.tail.guard(read));
      // Likely long enough for two threads when a segment is sealed (their workers start while the log is indexed).
    }, () => this.upcasting === 'built-in' && this.log.catalog.segments.length > 1);
  }

  /** Refused: a reader never writes. */
  append(): Promise<AppendResult> {
    if (this.closed || this.closing !== undefined) return Promise.reject(new StoreClosedError());
    return Promise.reject(new StorageError(`The event log in ${this.dir} was opened read-only; it cannot be appended to.`));
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<StoredEvent> {
    this.ensureOpen();
    checkReadBounds({ fromVersion: options.fromVersion, toVersion: options.toVersion });
    await this.tail.refresh();
    yield* this.tail.guard(this.log.readStream(stream, options));
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
    for await (const batch of this.readAllBatches(options)) yield* batch;
  }

  async *readAllBatches(options: ReadAllOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    this.ensureOpen();
    checkReadBounds({ fromPosition: options.fromPosition, toPosition: options.toPosition });
    await this.tail.refresh();
    yield* this.tail.guard(this.log.readAllBatches(options));
  }

  async streamVersion(stream: string): Promise<number> {
    await this.indexed();
    return this.log.index.versionOf(stream);
  }

  async listStreams(): Promise<StreamInfo[]> {
    await this.indexed();
    return this.log.listStreams();
  }

  async headPosition(): Promise<number> {
    await this.indexed();
    return this.log.index.count;
  }

  /** Catches up, then looks for the writer's new appends every `followIntervalMs` until unsubscribed or closed (then it completes). */
  subscribe(options: SubscribeOptions = {}): Observable<StoredEvent> {
    this.ensureOpen();
    return this.follower.follow(options);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.log.reader.refuseReads();
      this.follower.completeAll();
      await this.log.reader.closeHandles();
    })();
    return this.closing;
  }

  /** Index all the writer has written so far (what a query answers from). */
  private async indexed(): Promise<void> {
    this.ensureOpen();
    await this.tail.refresh();
    await this.log.ensureIndexed();
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  private warn(warning: StoreWarning): void {
    this.warnings.push(warning);
    this.options.onWarning?.(warning);
  }
}
