import { writeSync, type Dirent } from 'node:fs';
import { crc32 } from 'node:zlib';
import { mkdir, open, readdir, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { lock } from 'proper-lockfile';
import { Observable, Subject } from 'rxjs';
import type { NewEvent, StoredEvent } from '../events/envelope.js';
import { UpcasterRegistry } from '../events/upcasters.js';
import { parseStoredEvent } from '../events/validate.js';
import { CorruptLogError, InvalidArgumentError, isLogRewrittenError, LogLockedError, LogRewrittenError, StorageError, StoreClosedError } from '../errors.js';
import { checkReadBounds } from './readBounds.js';
import { acceptNewEvents, toStoredEvent } from './toStoredEvent.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedVersion,
  ReadAllOptions,
  ReadStreamOptions,
  StreamInfo,
  SubscribeOptions,
} from './eventStore.js';
import { checkExpectedVersion } from './expectedVersion.js';
import { asciiTextOf, checksumMatches, decodeLine, encodeLines, readLineHeader, type LineHeader, type LinesText } from './lineCodec.js';
import { LineBlocks } from './lineBlocks.js';
import { readSegmentIndex, writeSegmentIndex } from './segmentIndexFile.js';
import { readLineChunks } from './segmentLines.js';
import { LogIndex } from './logIndex.js';
import { catchUpThenFollow } from './subscription.js';

/**
 * When an append is acknowledged:
 * - `always`: after its own write and fsync;
 * - `batch` (default): after an fsync shared with the appends that arrived meanwhile (group commit);
 * - `none`: after the write, without fsync (a crash of the machine may lose the last appends).
 */
export type Durability = 'always' | 'batch' | 'none';

/** Something the store repaired or noticed on open, reported instead of thrown. */
export interface StoreWarning {
  code: 'TORN_TAIL_REPAIRED' | 'LOCK_COMPROMISED' | 'TAIL_REWRITTEN';
  message: string;
  file?: string;
  line?: number;
}

/** Options of {@link openFileEventStore}. */
export interface FileEventStoreOptions {
  /** The folder of the log, e.g. `.moai/events`. Created if missing (unless read-only). */
  dir: string;
  /** Defaults to `batch`. */
  durability?: Durability;
  /**
   * Open without the writer lock, for inspection while another process writes.
   * A read-only store sees that process's appends on each read; it never repairs.
   * Its `subscribe()` catches up, then looks for the writer's new appends
   * every `followIntervalMs` while subscribed.
   * It reads what the writer has written, which can be one batch ahead of
   * what is durable; should the writer's fsync then fail and that batch be
   * rolled back and written over, the reader's next read notices, reads the
   * segment again and warns (`TAIL_REWRITTEN`); what it had handed out of the
   * rolled-back batch cannot be taken back.
   */
  readOnly?: boolean;
  /** How often a read-only store's subscriptions look for the writer's new appends, in ms. Defaults to 200. */
  followIntervalMs?: number;
  /** Start a new segment file when the current one would pass this size. Defaults to 64 MiB; at most 2 GiB (offsets are 32-bit). */
  maxSegmentBytes?: number;
  /** How long to wait for another writer to release the lock; defaults to 0 (fail at once). */
  lockWaitMs?: number;
  /** Upcasters for events stored at older schema versions. */
  upcasters?: UpcasterRegistry;
  /** Called for each repair or warning, as well as kept in `warnings`. */
  onWarning?: (warning: StoreWarning) => void;
}

/** The file store: an {@link EventStore} with what it repaired and where it lives. */
export interface FileEventStore extends EventStore {
  readonly dir: string;
  readonly durability: Durability;
  readonly readOnly: boolean;
  /** Whether old schema versions are upcast by the built-in upcasters or by ones the embedder gave. */
  readonly upcasting: 'built-in' | 'custom';
  /** What was repaired or noticed since open (a torn last line cut off, a lost lock). */
  readonly warnings: readonly StoreWarning[];
}

interface Segment {
  number: number;
  name: string;
  path: string;
  /** The position of its first line; set when its scan starts. */
  firstPosition: number;
  /** Bytes of complete, indexed lines. */
  size: number;
  /** True when indexed to the end of the file as last seen. */
  scanned: boolean;
  /** Checksums of runs of its lines (from its index file, and as its writer appends). */
  blocks: LineBlocks;
}

interface ReadRange {
  /** The indexes (into the positions being read) this range covers: [from, to). */
  from: number;
  to: number;
  segment: Segment;
  /** The file offset of `bytes`. */
  start: number;
  bytes: Promise<Buffer>;
  /** The whole blocks in the range, each to be checked with its own checksum. */
  blocks: RangeBlock[];
}

/** A whole block of lines within a read range. */
interface RangeBlock {
  /** The indexes (into the positions being read) it covers: [from, to). */
  from: number;
  to: number;
  /** Its bytes in the range's buffer: [start, end). */
  start: number;
  end: number;
  crc: number;
}

/**
 * Read handles kept open at most: a long log has many segments, and one
 * handle each would run a process out of file descriptors. A handle in use is
 * never closed, so more may be open for a moment while many reads overlap.
 */
const MAX_READ_HANDLES = 16;

const NEWLINE = 0x0a;

/** An open (or opening) read handle of a segment and how many reads are using it. */
interface ReadHandle {
  readonly handle: Promise<FileHandle>;
  users: number;
}

/** A line of an append whose last line a scan has not read yet. */
interface OpenLine {
  header: LineHeader;
  line: number;
  offset: number;
  length: number;
}

interface PendingAppend {
  stream: string;
  events: readonly NewEvent[];
  expectedVersion: ExpectedVersion;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

const SEGMENT_PATTERN = /^segment-(\d{6,})\.jsonl$/;
const LOCK_NAME = 'writer.lock';
const OWNER_NAME = 'writer.json';
const READ_CHUNK_BYTES = 1 << 20;
/** Events handed to a reader at a time: enough to save the awaits, few enough to die young. */
const EVENTS_PER_BATCH = 256;
/** Lines a scan decodes as one text. */
const TEXT_LINES = 256;
const MAX_BATCH_BYTES = 8 << 20;
/** Offsets in a segment are 32-bit (in memory and in index files): 2 GiB leaves room for the one batch that may pass the limit. */
const MAX_SEGMENT_BYTES = 2 ** 31;

const segmentName = (n: number): string => `segment-${String(n).padStart(6, '0')}.jsonl`;

/** True when `store` is a file store. */
export const isFileEventStore = (store: EventStore): store is FileEventStore => store instanceof FileStore;

/**
 * Open (or create) the append-only JSONL event log in `dir`: the default store.
 *
 * One event a line with a CRC-32 checksum, in numbered segment files. One
 * writer process at a time holds `writer.lock`; a second one gets
 * {@link LogLockedError} naming the holder. On open, a torn last line (a crash
 * mid-write) is cut off and reported in `warnings`. Every line is checked when
 * it is read: a corrupt line anywhere else is a {@link CorruptLogError} naming
 * the file and line, and nothing is changed. (Opening reads only what the
 * segments' index files do not cover, so a line damaged after it was indexed
 * is found by the first read of it, e.g. a replay.)
 *
 * @example
 * const store = await openFileEventStore({ dir: '.moai/events' });
 */
export async function openFileEventStore(options: FileEventStoreOptions): Promise<FileEventStore> {
  const store = new FileStore(options);
  await store.open();
  return store;
}

class FileStore implements FileEventStore {
  readonly dir: string;
  readonly durability: Durability;
  readonly readOnly: boolean;
  readonly upcasting: 'built-in' | 'custom';
  readonly warnings: StoreWarning[] = [];

  private readonly maxSegmentBytes: number;
  private readonly upcasters: UpcasterRegistry;
  private readonly index = new LogIndex();
  private readonly segments: Segment[] = [];
  private readonly live = new Subject<StoredEvent>();
  /** How many times a reader forgot a rewritten tail, and the first position it forgot the last time. */
  private tailRewrites = 0;
  private rewrittenFrom = 0;
  /** A read-only store's live subscriptions, each completed by close(). */
  private readonly followers = new Set<() => void>();
  private readonly followIntervalMs: number;
  private readonly queue: PendingAppend[] = [];
  /** Open read handles by segment number, least recently used first (see {@link MAX_READ_HANDLES}). */
  private readonly readHandles = new Map<number, ReadHandle>();
  private writeHandle: FileHandle | undefined;
  private releaseLock: (() => Promise<void>) | undefined;
  private flushing = false;
  private flushScheduled = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  private closed = false;
  /** Set when close() is called: appends are refused from then on, and every caller waits for the one close. */
  private closing: Promise<void> | undefined;
  private broken: Error | undefined;
  /** A segment was created and the folder's fsync that makes its name durable has not succeeded yet. */
  private segmentNameUnsynced = false;

  constructor(private readonly options: FileEventStoreOptions) {
    this.dir = options.dir;
    this.durability = options.durability ?? 'batch';
    this.readOnly = options.readOnly ?? false;
    this.maxSegmentBytes = options.maxSegmentBytes ?? 64 << 20;
    this.followIntervalMs = options.followIntervalMs ?? 200;
    if (!Number.isFinite(this.followIntervalMs) || this.followIntervalMs < 1) {
      throw new InvalidArgumentError(`followIntervalMs is a number of milliseconds from 1, not ${String(this.followIntervalMs)}`);
    }
    this.upcasters = options.upcasters ?? new UpcasterRegistry();
    this.upcasting = options.upcasters === undefined ? 'built-in' : 'custom';
    if (!Number.isInteger(this.maxSegmentBytes) || this.maxSegmentBytes < 1 || this.maxSegmentBytes > MAX_SEGMENT_BYTES) {
      throw new InvalidArgumentError(`maxSegmentBytes must be a whole number of bytes from 1 to ${MAX_SEGMENT_BYTES} (2 GiB), not ${String(this.maxSegmentBytes)}`);
    }
    if (!['always', 'batch', 'none'].includes(this.durability)) {
      throw new InvalidArgumentError(`durability must be always, batch or none, not ${JSON.stringify(this.durability)}`);
    }
  }

  // ---------------------------------------------------------------- open

  async open(): Promise<void> {
    if (!this.readOnly) {
      await mkdir(this.dir, { recursive: true }).catch((error: unknown) => {
        throw new StorageError(`Cannot create the event log folder ${this.dir}: ${(error as Error).message}`, {
          cause: error,
        });
      });
      await this.acquireLock();
    }
    try {
      if (!this.readOnly) await this.writeOwner();
      await this.discoverSegments();
      if (!this.readOnly) await this.ensureIndexed();
      if (!this.readOnly && this.segments.length > 0) {
        this.writeHandle = await open(this.segments.at(-1)!.path, 'a');
      }
    } catch (error) {
      await this.release();
      throw error;
    }
  }

  private async acquireLock(): Promise<void> {
    const waitMs = this.options.lockWaitMs ?? 0;
    try {
      this.releaseLock = await lock(this.dir, {
        lockfilePath: join(this.dir, LOCK_NAME),
        stale: 10_000,
        update: 2_000,
        retries: waitMs > 0 ? { retries: Math.ceil(waitMs / 100), minTimeout: 100, maxTimeout: 100, factor: 1 } : 0,
        onCompromised: (error) => {
          this.broken = new StorageError(`Lost the writer lock of ${this.dir}: ${error.message}`);
          this.warn({ code: 'LOCK_COMPROMISED', message: this.broken.message });
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
        throw new LogLockedError(this.dir, await this.describeOwner());
      }
      throw new StorageError(`Cannot lock the event log in ${this.dir}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Say who holds the lock, for the message a second writer gets. */
  private async writeOwner(): Promise<void> {
    const owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    const path = join(this.dir, OWNER_NAME);
    await writeFile(path, `${JSON.stringify(owner)}\n`).catch((error: unknown) => {
      throw new StorageError(`Cannot write ${path}: ${(error as Error).message}`, { cause: error });
    });
  }

  private async describeOwner(): Promise<string> {
    try {
      const owner = JSON.parse(await readFile(join(this.dir, OWNER_NAME), 'utf8')) as Record<string, unknown>;
      return `pid ${String(owner.pid)} on ${String(owner.host)}, since ${String(owner.since)}`;
    } catch {
      return 'owner unknown';
    }
  }

  /** The segment files in the folder, in order; none when a read-only folder does not exist. */
  private async listSegmentNumbers(): Promise<number[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && this.readOnly) return [];
      throw new StorageError(`Cannot read the event log folder ${this.dir}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const numbers: number[] = [];
    for (const entry of entries) {
      const number = SEGMENT_PATTERN.exec(entry.name)?.[1];
      if (number === undefined) continue;
      // Skipping it would hide part of the log: say what is in the way. (A link to a file is a file.)
      const isFile = entry.isFile() || (entry.isSymbolicLink() && (await stat(join(this.dir, entry.name)).then((s) => s.isFile(), () => false)));
      if (!isFile) {
        throw new StorageError(
          `${join(this.dir, entry.name)} is not a file: a segment of the event log must be one. Move it out of ${this.dir}, or put the segment back.`,
        );
      }
      numbers.push(Number(number));
    }
    return numbers.sort((a, b) => a - b);
  }

  /** Add the segment files not known yet; they are scanned when first needed. */
  private async discoverSegments(): Promise<void> {
    const known = this.segments.at(-1)?.number ?? 0;
    for (const number of await this.listSegmentNumbers()) {
      if (number <= known) continue;
      const name = segmentName(number);
      this.segments.push({ number, name, path: join(this.dir, name), firstPosition: 0, size: 0, scanned: false, blocks: new LineBlocks() });
    }
  }

  /**
   * Index every segment not scanned to its end yet (a reader's last segment
   * may have grown). A sealed segment is read from its index file when it has
   * a valid one; a writer that had to scan one writes the index file for next time.
   */
  private async ensureIndexed(): Promise<void> {
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (segment.scanned) continue;
      const sealed = i < this.segments.length - 1;
      // The active segment's index may cover only its start: the rest is scanned.
      if (segment.size === 0 && (await this.loadSegmentIndex(i, !sealed)) && sealed) continue;
      for await (const _ of this.scanSegment(i, false));
      if (sealed && !this.readOnly) await this.saveSegmentIndex(i);
    }
  }

  /** Index a segment from its index file (all of it, or with `prefix` its start); false when there is no valid one. */
  private async loadSegmentIndex(segmentIndex: number, prefix: boolean): Promise<boolean> {
    const segment = this.segments[segmentIndex]!;
    const saved = await readSegmentIndex(segment.path, prefix);
    if (saved === undefined || saved.firstPosition !== this.index.count + 1) return false;
    // The file must still hold, where the index says, the last line it indexed.
    const lastAt = saved.offsets.length - 1;
    if (lastAt >= 0) {
      const header = await this.soundHeaderAt(segment, saved.offsets[lastAt]!, saved.lengths[lastAt]!);
      if (header?.position !== saved.firstPosition + lastAt) return false;
    }
    // Another read may have indexed this segment while the file was read.
    if (saved.firstPosition !== this.index.count + 1 || segment.size !== 0) return false;
    segment.firstPosition = saved.firstPosition;
    this.index.addRun(segmentIndex, saved.streams, saved.streamOf, saved.offsets, saved.lengths);
    segment.blocks = new LineBlocks(saved.blocks);
    const lastBlock = saved.blocks.at(-1);
    const count = saved.offsets.length;
    if (prefix && !this.readOnly && lastBlock !== undefined && lastBlock.firstLine + lastBlock.lineCount === count) {
      // The writer's next appends may follow the last block: let them extend it.
      segment.blocks.reopenLast(saved.offsets[count - 1]! + saved.lengths[count - 1]! + 1 - saved.offsets[lastBlock.firstLine]!);
    }
    segment.size = saved.segmentSize;
    segment.scanned = !prefix;
    return true;
  }

  /** Write a sealed segment's index file; a failure only costs a scan next time. */
  private async saveSegmentIndex(segmentIndex: number): Promise<void> {
    const segment = this.segments[segmentIndex]!;
    const next = this.segments[segmentIndex + 1];
    const last = next !== undefined && next.firstPosition > 0 ? next.firstPosition - 1 : this.index.count;
    const count = last - segment.firstPosition + 1;
    const streams = new Map<string, number>();
    const streamOf = new Uint32Array(count);
    const offsets = new Uint32Array(count);
    const lengths = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const position = segment.firstPosition + i;
      const stream = this.index.stream(position);
      let id = streams.get(stream);
      if (id === undefined) streams.set(stream, (id = streams.size));
      streamOf[i] = id;
      offsets[i] = this.index.offset(position);
      lengths[i] = this.index.length(position);
    }
    await writeSegmentIndex(segment.path, {
      segmentSize: segment.size,
      firstPosition: segment.firstPosition,
      streams: [...streams.keys()],
      streamOf,
      offsets,
      lengths,
      blocks: segment.blocks.all(),
    }).catch(() => undefined);
  }

  /**
   * Scan a segment from its indexed size to its end, indexing each line (an
   * append's lines together, once its last line is read). With
   * `decode`, every line is also checked and parsed, and the events are
   * yielded: a replay reads and indexes in one pass. Without it, only each
   * line's header is read (and, in the last segment, all of the last line).
   *
   * In the last segment, a bad or partial last line is a torn write, and an
   * append whose last line is missing was cut short: a writer cuts them off, a
   * reader leaves them for later (the writer may be finishing them). Anywhere
   * else they are corruption. Scans may overlap (two readers of one store): a
   * line another scan indexed first is checked against the index, not added twice.
   * With `stopAt`, the scan stops once it has indexed that position and no
   * append is open, rather than at the end of the segment.
   */
  private async *scanSegment(segmentIndex: number, decode: boolean, stopAt = Number.POSITIVE_INFINITY): AsyncGenerator<StoredEvent[]> {
    const segment = this.segments[segmentIndex]!;
    const isLast = segmentIndex === this.segments.length - 1;
    if (segment.size === 0) segment.firstPosition = this.index.count + 1;
    let line = this.index.count - segment.firstPosition + 1; // lines before where this scan starts
    let bad: { line: number; offset: number; reason: string } | undefined;
    let partialBytes = 0;
    // The append still open after the lines read so far (its first line's offset and position),
    // and as it was before the last line read.
    let openAppend: { offset: number; position: number } | undefined;
    let openBeforeLast: typeof openAppend;
    // The lines of the open append, read and checked but not indexed: an append
    // enters the index whole, when its last line is read, so no read of this
    // store ever sees part of one, however this scan ends.
    let openLines: OpenLine[] = [];
    for await (const chunk of readLineChunks(segment.path, segment.size)) {
      partialBytes = chunk.partialBytes;
      const events: StoredEvent[] = [];
      let text: LinesText | undefined;
      for (let i = 0; i < chunk.starts.length; i++) {
        if (bad !== undefined) throw new CorruptLogError(segment.path, bad.line, bad.reason);
        const start = chunk.starts[i]!;
        const end = chunk.ends[i]!;
        const offset = chunk.offset + start;
        line++;
        if (decode && i % TEXT_LINES === 0) {
          const last = Math.min(chunk.starts.length, i + TEXT_LINES) - 1;
          text = asciiTextOf(chunk.buffer, start, chunk.ends[last]!);
        }
        const read = decode
          ? this.decodeLineAt(chunk.buffer, text, start, end, segment.path, line)
          : this.headerAt(chunk.buffer, start, end);
        if ('reason' in read) {
          bad = { line, offset, reason: read.reason };
          continue;
        }
        const { continues, position } = read;
        openBeforeLast = openAppend;
        openLines.push({ header: read, line, offset, length: end - start });
        if (continues) {
          openAppend ??= { offset, position };
          continue;
        }
        // The append is whole: index its lines, in order.
        openAppend = undefined;
        const whole: StoredEvent[] = [];
        for (const open of openLines) {
          const { header } = open;
          const reason = this.indexChecked(header.position, header.stream, header.version, segmentIndex, open.offset, open.length);
          if (reason !== undefined && open.line !== line) throw new CorruptLogError(segment.path, open.line, reason);
          if (reason !== undefined) {
            // The last line read, and perhaps a torn write: its append stays open, to be cut whole.
            bad = { line, offset, reason };
            openAppend = openBeforeLast;
            break;
          }
          if (decode) whole.push((header as LineHeader & { event: StoredEvent }).event);
        }
        if (bad === undefined) events.push(...whole);
        openLines = [];
      }
      if (events.length > 0) yield events;
      // Far enough for the caller, between two appends: the rest is read when it is wanted.
      if (this.index.count >= stopAt && openAppend === undefined) return;
    }
    let cut: { offset: number; position: number; line: number; reason: string } | undefined;
    if (bad !== undefined) cut = { offset: bad.offset, position: this.index.count + 1, line: bad.line, reason: bad.reason };
    if (bad === undefined && openAppend === undefined && !decode && isLast && segment.size > 0 && this.index.count >= segment.firstPosition) {
      // The last line is where a crash tears: check all of it, not only its header.
      const last = this.index.count;
      const decoded = await this.readLine(last);
      if (!decoded.ok) {
        cut = { offset: this.index.offset(last), position: last, line: last - segment.firstPosition + 1, reason: decoded.reason };
        openAppend = openBeforeLast;
      }
    }
    if (openAppend !== undefined && (cut === undefined || openAppend.offset < cut.offset)) {
      cut = {
        offset: openAppend.offset,
        position: openAppend.position,
        line: openAppend.position - segment.firstPosition + 1,
        reason: 'an append whose last line is missing (cut short by a crash)',
      };
    }
    if (!isLast) {
      if (cut !== undefined) throw new CorruptLogError(segment.path, cut.line, cut.reason);
      if (partialBytes > 0) throw new CorruptLogError(segment.path, line + 1, 'the line has no end');
    }
    if (cut === undefined && partialBytes === 0) {
      segment.scanned = !this.readOnly || !isLast; // a reader's last segment may still grow
      return;
    }
    // What follows the cut is not part of the log (yet): forget it.
    if (cut !== undefined) {
      this.index.truncate(cut.position - 1);
      segment.blocks.truncate(cut.position - segment.firstPosition);
      segment.size = cut.offset;
    }
    if (this.readOnly) return; // a writer may be finishing it right now
    await this.cutTornTail(segment, cut?.offset ?? segment.size, cut?.line ?? line + 1, cut?.reason);
    segment.scanned = true;
  }

  private async cutTornTail(segment: Segment, cutAt: number, line: number, reason: string | undefined): Promise<void> {
    const handle = await open(segment.path, 'r+');
    try {
      await handle.truncate(cutAt);
      await handle.sync();
    } finally {
      await handle.close();
    }
    segment.size = cutAt;
    this.warn({
      code: 'TORN_TAIL_REPAIRED',
      file: segment.path,
      line,
      message:
        `Cut off a torn last line at ${segment.path}:${line} ` +
        `(${reason ?? 'no line end'}; likely a crash mid-write, the event was never acknowledged).`,
    });
  }

  /**
   * A line's header, or why it is not a sound event line. Its checksum is
   * checked too (not its JSON): a scan never indexes a damaged line, so one
   * inside the last append is found before anything is appended after it.
   */
  private headerAt(buffer: Buffer, start: number, end: number): LineHeader | { reason: string } {
    const header = readLineHeader(buffer, start, end);
    if (header === undefined) return { reason: 'not a moai-session event line' };
    return checksumMatches(buffer, start, end) ? header : { reason: 'checksum mismatch' };
  }

  /** A line decoded, checked and parsed, or why it cannot be. */
  private decodeLineAt(
    buffer: Buffer,
    text: LinesText | undefined,
    start: number,
    end: number,
    file: string,
    line: number,
  ): (LineHeader & { event: StoredEvent }) | { reason: string } {
    const decoded = decodeLine(buffer, start, end, text);
    if (!decoded.ok) return { reason: decoded.reason };
    // Parsed afresh for this reader alone: no need to freeze what nobody shares.
    const event = parseStoredEvent(decoded.value, () => `${file}:${line}`, this.upcasters);
    return { position: event.position, stream: event.stream, version: event.version, continues: decoded.continues, event };
  }

  /**
   * Index a line if it continues the log (next position, next version of its
   * stream). A line another scan has indexed already must be where the index
   * has it. Returns why the line is bad, or undefined.
   */
  private indexChecked(
    position: number,
    stream: string,
    version: number,
    segmentIndex: number,
    offset: number,
    length: number,
  ): string | undefined {
    if (position <= this.index.count) {
      const same = this.index.segment(position) === segmentIndex && this.index.offset(position) === offset && this.index.stream(position) === stream;
      return same ? undefined : `position ${position} appears twice in the log`;
    }
    const expectedPosition = this.index.count + 1;
    if (position !== expectedPosition) return `position ${position} where ${expectedPosition} was expected`;
    const expectedVersion = this.index.versionOf(stream) + 1;
    if (version !== expectedVersion) return `${stream} version ${version} where ${expectedVersion} was expected`;
    this.index.add(stream, segmentIndex, offset, length);
    this.segments[segmentIndex]!.size = offset + length + 1;
    return undefined;
  }

  private async readLine(position: number): Promise<ReturnType<typeof decodeLine>> {
    const segment = this.segments[this.index.segment(position)]!;
    const offset = this.index.offset(position);
    const length = this.index.length(position);
    return decodeLine(await this.readRange(segment, offset, offset + length), 0, length);
  }


  /**
   * A read-only store notes what the writer process may have appended since
   * the last look: new segments, and more lines in the last one. Nothing is
   * read until it is needed.
   */
  private async refresh(): Promise<void> {
    if (!this.readOnly) return;
    const last = this.segments.at(-1);
    if (last !== undefined) {
      last.scanned = false;
      await this.forgetTailIfRewritten(this.segments.length - 1);
    }
    await this.discoverSegments();
  }

  /**
   * A reader reads what the writer has written, which can be a batch ahead of
   * what is durable; should the writer then roll that batch back (a failed
   * fsync) and write other lines in its place, the reader's index no longer
   * fits the file. One small read tells: the last line it indexed must still
   * be where it was. If not, it forgets that segment and reads it again.
   */
  private async forgetTailIfRewritten(segmentIndex: number): Promise<void> {
    const segment = this.segments[segmentIndex]!;
    const last = this.index.count;
    if (segment.size === 0 || last < segment.firstPosition || this.index.segment(last) !== segmentIndex) return;
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
    this.tailRewrites++;
    this.rewrittenFrom = from;
    segment.size = this.index.offset(from);
    this.index.truncate(from - 1);
    segment.blocks.truncate(from - segment.firstPosition);
    this.warn({
      code: 'TAIL_REWRITTEN',
      file: segment.path,
      message:
        `The writer rewrote ${segment.path} from its line ${from - segment.firstPosition + 1} (position ${from}) after this reader had read it ` +
        `(a rolled-back write): ${last - from + 1} indexed line(s) are read again.`,
    });
  }

  /** True when the line this store indexed for `position` is still where the index says, whole and unchanged. */
  private async stillThere(segment: Segment, position: number): Promise<boolean> {
    const header = await this.soundHeaderAt(segment, this.index.offset(position), this.index.length(position));
    return header?.position === position && header.stream === this.index.stream(position);
  }

  /** The header of the line at `offset`, `length` bytes long, when it is there whole (its newline after it) and sound. */
  private async soundHeaderAt(segment: Segment, offset: number, length: number): Promise<LineHeader | undefined> {
    const bytes = await this.readRange(segment, offset, offset + length + 1).catch(() => undefined);
    return bytes !== undefined && bytes[length] === NEWLINE && decodeLine(bytes, 0, length).ok ? readLineHeader(bytes, 0, length) : undefined;
  }


  private warn(warning: StoreWarning): void {
    this.warnings.push(warning);
    this.options.onWarning?.(warning);
  }

  // ---------------------------------------------------------------- append

  append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    try {
      this.ensureWritable();
      // Validated and frozen now, so what was validated is what gets written.
      acceptNewEvents(stream, events);
      return new Promise<AppendResult>((resolve, reject) => {
        this.queue.push({ stream, events, expectedVersion: options.expectedVersion ?? 'any', resolve, reject });
        this.scheduleFlush();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private ensureWritable(): void {
    if (this.closed || this.closing !== undefined) throw new StoreClosedError();
    if (this.readOnly) throw new StorageError(`The event log in ${this.dir} was opened read-only; it cannot be appended to.`);
    if (this.broken !== undefined) throw this.broken;
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
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || bytes < MAX_BATCH_BYTES)) {
      bytes += this.queue[count]!.events.length * 512;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    if (this.broken !== undefined) {
      for (const pending of batch) pending.reject(this.broken);
      return;
    }
    // Decide every append of the batch against the versions as they will be,
    // so two appends in one batch with the same expected version conflict.
    const versions = new Map<string, number>();
    let position = this.index.count;
    const accepted: { pending: PendingAppend; result: AppendResult }[] = [];
    // Answers that rest on appends earlier in this batch (a conflict with one, an
    // empty append after one) are given once the batch is durable; should it
    // fail, they fail with it.
    const dependent: { pending: PendingAppend; answer: () => void }[] = [];
    const all: StoredEvent[] = [];
    const lastOfAppend: boolean[] = [];
    for (const pending of batch) {
      const inBatch = versions.get(pending.stream);
      const current = inBatch ?? this.index.versionOf(pending.stream);
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
        all.push(event);
        lastOfAppend.push(i === count - 1);
      }
      versions.set(pending.stream, current + count);
      accepted.push({ pending, result: { stream: pending.stream, nextExpectedVersion: current + count, events: stored } });
    }
    if (accepted.length === 0) return; // and so nothing depends on the batch

    const { buffer, lengths } = encodeLines(all, lastOfAppend);
    const countBefore = this.index.count;
    try {
      const segmentIndex = await this.segmentFor(buffer.length);
      const segment = this.segments[segmentIndex]!;
      const handle = this.writeHandle!;
      // The write only reaches the page cache: done in place, it saves a thread-pool
      // round trip per batch. The fdatasync that waits for the disk runs off-thread,
      // and meanwhile the lines are checksummed by the block for readers.
      let written = 0;
      while (written < buffer.length) written += writeSync(handle.fd, buffer, written, buffer.length - written);
      const syncing = this.durability === 'none' ? undefined : handle.datasync();
      syncing?.catch(() => {}); // awaited below: this only keeps it handled should plan() throw first
      const blocks = segment.blocks.plan(buffer, lengths, countBefore + 1 - segment.firstPosition);
      await syncing;
      // Durable: keep the blocks, index the lines, and only then count the bytes
      // as the segment's (a rollback cuts the file back to its size before).
      segment.blocks.apply(blocks);
      let offset = segment.size;
      for (let i = 0; i < all.length; i++) {
        this.index.add(all[i]!.stream, segmentIndex, offset, lengths[i]!);
        offset += lengths[i]! + 1;
      }
      segment.size = offset;
    } catch (error) {
      await this.rollBack(countBefore);
      const failure = new StorageError(`Cannot append to the event log in ${this.dir}: ${(error as Error).message}`, {
        cause: error,
      });
      for (const { pending } of accepted) pending.reject(failure);
      for (const { pending } of dependent) pending.reject(failure);
      return;
    }
    for (const { pending, result } of accepted) pending.resolve(result);
    for (const { answer } of dependent) answer();
    // Subscribers hear of each event; with none, the loop is skipped (rxjs does some work per next()).
    if (this.live.observed) for (const event of all) this.live.next(event);
  }

  /** After a failed write, cut the segment back to its last good line. */
  private async rollBack(count: number): Promise<void> {
    this.index.truncate(count);
    const segment = this.segments.at(-1);
    if (segment === undefined || this.writeHandle === undefined) return;
    segment.blocks.truncate(count - segment.firstPosition + 1);
    try {
      await this.writeHandle.truncate(segment.size);
      // Synced, so the refused lines cannot come back after a crash.
      if (this.durability !== 'none') await this.writeHandle.datasync();
    } catch (error) {
      this.broken = new StorageError(
        `The event log in ${this.dir} could not be rolled back after a failed write (${(error as Error).message}); ` +
          'reopen it to repair the tail.',
      );
    }
  }

  /** The segment the next `bytes` go to, starting a new one when the current one is full. */
  private async segmentFor(bytes: number): Promise<number> {
    if (this.segmentNameUnsynced) {
      // The last new segment's name is not durable yet: nothing is written to it until it is.
      await syncDirectory(this.dir);
      this.segmentNameUnsynced = false;
    }
    const current = this.segments.at(-1);
    if (current !== undefined && (current.size === 0 || current.size + bytes <= this.maxSegmentBytes)) {
      return this.segments.length - 1;
    }
    if (this.writeHandle !== undefined) {
      await this.writeHandle.sync();
      await this.writeHandle.close();
      this.writeHandle = undefined;
      await this.saveSegmentIndex(this.segments.length - 1); // sealed: index it for the next open
    }
    const number = (current?.number ?? 0) + 1;
    const name = segmentName(number);
    const segment: Segment = {
      number,
      name,
      path: join(this.dir, name),
      firstPosition: this.index.count + 1,
      size: 0,
      scanned: true,
      blocks: new LineBlocks(),
    };
    this.writeHandle = await open(segment.path, 'a');
    // Known before anything can fail, so a rollback truncates this segment, not the one before.
    this.segments.push(segment);
    this.segmentNameUnsynced = true;
    await syncDirectory(this.dir);
    this.segmentNameUnsynced = false;
    return this.segments.length - 1;
  }

  // ---------------------------------------------------------------- read

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<StoredEvent> {
    this.ensureOpen();
    checkReadBounds({ fromVersion: options.fromVersion, toVersion: options.toVersion });
    await this.refresh();
    const read = this.readStreamIndexed(stream, options);
    // Only a reader finds rewrites: a writer made every line it reads.
    yield* this.readOnly ? this.unlessRewritten(read) : read;
  }

  /**
   * Hand over what `read` yields, unless a reader's look (this read's or
   * another's) found meanwhile that the writer rewrote lines (a rolled-back
   * write): then the read stops with an error saying to read again, rather than
   * handing over a mix of old lines and new, or calling the log corrupt.
   */
  private async *unlessRewritten<T>(read: AsyncIterable<T>): AsyncIterable<T> {
    const rewrites = this.tailRewrites;
    try {
      for await (const item of read) {
        if (this.tailRewrites !== rewrites) throw new LogRewrittenError(this.dir, this.rewrittenFrom);
        yield item;
      }
    } catch (error) {
      // Whatever went wrong reading lines that changed under the read is the rewrite's doing.
      if (this.tailRewrites !== rewrites && !isLogRewrittenError(error)) throw new LogRewrittenError(this.dir, this.rewrittenFrom);
      throw error;
    }
  }

  private async *readStreamIndexed(stream: string, options: ReadStreamOptions): AsyncIterable<StoredEvent> {
    await this.ensureIndexed();
    const positions = this.index.streams.get(stream)?.positions;
    if (positions === undefined) return;
    const from = Math.max(1, options.fromVersion ?? 1);
    const to = Math.min(positions.length, options.toVersion ?? positions.length);
    if (from > to) return;
    for await (const batch of this.readPositions(to - from + 1, (i) => positions.at(from - 1 + i))) yield* batch;
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
    for await (const batch of this.readAllBatches(options)) yield* batch;
  }

  async *readAllBatches(options: ReadAllOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    this.ensureOpen();
    checkReadBounds({ fromPosition: options.fromPosition, toPosition: options.toPosition });
    await this.refresh();
    const read = this.readAllBatchesIndexed(options);
    yield* this.readOnly ? this.unlessRewritten(read) : read;
  }

  private async *readAllBatchesIndexed(options: ReadAllOptions): AsyncIterable<readonly StoredEvent[]> {
    const last = options.toPosition ?? Number.POSITIVE_INFINITY;
    let next = Math.max(1, options.fromPosition ?? 1); // the first position not handed out yet
    // What is indexed is read by position; what is not (a reader opens lazily)
    // is indexed from the segment's index file where it has a valid one, or
    // else read, checked and indexed in one pass. Reads of one store may
    // overlap (and a consumer may pause between batches): after every wait,
    // whatever another read indexed meanwhile is handed out first.
    let i = 0;
    for (;;) {
      const indexedTo = Math.min(this.index.count, last);
      if (next <= indexedTo) {
        const first = next;
        next = indexedTo + 1;
        yield* this.readPositions(indexedTo - first + 1, (k) => first + k);
        continue;
      }
      if (this.index.count >= last) return;
      while (i < this.segments.length && this.segments[i]!.scanned) i++;
      if (i === this.segments.length) return;
      const segment = this.segments[i]!;
      if (segment.size === 0) {
        const loaded = await this.loadSegmentIndex(i, i === this.segments.length - 1);
        if (loaded || segment.size !== 0 || segment.scanned) continue; // indexed, by this read or another
      }
      for await (const batch of this.scanSegment(i, true, last)) {
        const wanted = batch.filter((event) => event.position >= next && event.position <= last);
        if (wanted.length > 0) {
          next = wanted.at(-1)!.position + 1;
          yield wanted;
        }
      }
      i++; // as far as this read can go in it (a reader leaves an unfinished tail for later)
    }
  }

  /**
   * Read the events at `positionAt(0 .. count - 1)`, in that order.
   * Neighbouring lines are read together, up to a megabyte at a time, and the
   * next range is read while the current one is decoded. A block of lines
   * (see `lineBlocks.ts`) wanted whole is checked with its one checksum;
   * other lines are checked one by one.
   */
  private async *readPositions(count: number, positionAt: (i: number) => number): AsyncIterable<StoredEvent[]> {
    const buffers = [Buffer.allocUnsafe(0), Buffer.allocUnsafe(0)];
    let turn = 0;
    const lineEnd = (position: number): number => this.index.offset(position) + this.index.length(position) + 1;
    const planRange = (from: number): ReadRange => {
      const first = positionAt(from);
      const segmentIndex = this.index.segment(first);
      const segment = this.segments[segmentIndex]!;
      const start = this.index.offset(first);
      const blocks: RangeBlock[] = [];
      let to = from;
      let end = start;
      while (to < count) {
        const position = positionAt(to);
        if (this.index.segment(position) !== segmentIndex) break;
        // Positions only ever increase, so a block is wanted whole when its last line is wanted where it would be.
        const found = segment.blocks.startingAt(position - segment.firstPosition);
        const block =
          found !== undefined && to + found.lineCount <= count && positionAt(to + found.lineCount - 1) === position + found.lineCount - 1 ? found : undefined;
        const lines = block?.lineCount ?? 1;
        const rangeEnd = lineEnd(position + lines - 1);
        if (to > from && rangeEnd - start > READ_CHUNK_BYTES) break;
        if (block !== undefined) blocks.push({ from: to, to: to + lines, start: this.index.offset(position) - start, end: rangeEnd - start, crc: block.crc });
        to += lines;
        end = rangeEnd;
      }
      // Two buffers used in turn: one being decoded, one being read into.
      const size = end - start;
      const slot = turn++ % 2;
      if (buffers[slot]!.length < size) buffers[slot] = Buffer.allocUnsafe(Math.max(size, READ_CHUNK_BYTES));
      const bytes = this.readRange(segment, start, end, buffers[slot]!.subarray(0, size));
      bytes.catch(() => undefined); // read ahead: a reader that stops early never awaits it
      return { from, to, segment, start, bytes, blocks };
    };
    let range: ReadRange | undefined = count > 0 ? planRange(0) : undefined;
    while (range !== undefined) {
      const buffer = await range.bytes;
      const current = range;
      range = current.to < count ? planRange(current.to) : undefined;
      // A block that does not match its checksum is checked line by line: the error names the line.
      const checked = current.blocks.filter((block) => crc32(buffer.subarray(block.start, block.end)) === block.crc);
      let nextChecked = 0;
      const lineStart = (position: number): number => this.index.offset(position) - current.start;
      for (let k = current.from; k < current.to; k += EVENTS_PER_BATCH) {
        const upTo = Math.min(current.to, k + EVENTS_PER_BATCH);
        const lastOfBatch = positionAt(upTo - 1);
        const text = asciiTextOf(buffer, lineStart(positionAt(k)), lineStart(lastOfBatch) + this.index.length(lastOfBatch));
        const events: StoredEvent[] = new Array(upTo - k);
        for (let j = k; j < upTo; j++) {
          while (nextChecked < checked.length && checked[nextChecked]!.to <= j) nextChecked++;
          const blockChecked = nextChecked < checked.length && checked[nextChecked]!.from <= j;
          const position = positionAt(j);
          const offset = lineStart(position);
          events[j - k] = this.decodeAt(current.segment, position, buffer, offset, offset + this.index.length(position), text, blockChecked);
        }
        yield events;
      }
    }
  }

  /** The bytes of `segment` in `[start, end)`, into `into` (that long) when given. */
  private async readRange(segment: Segment, start: number, end: number, into?: Buffer): Promise<Buffer> {
    if (this.closed) throw new StoreClosedError();
    const entry = this.readHandle(segment);
    entry.users++;
    try {
      const handle = await entry.handle;
      const buffer = into ?? Buffer.allocUnsafe(end - start);
      let read = 0;
      while (read < buffer.length) {
        const { bytesRead } = await handle.read(buffer, read, buffer.length - read, start + read).catch((error: unknown) => {
          throw new StorageError(`Cannot read ${segment.path}: ${(error as Error).message}`, { cause: error });
        });
        if (bytesRead === 0) throw new CorruptLogError(segment.path, 0, 'the file is shorter than its index');
        read += bytesRead;
      }
      return buffer;
    } finally {
      entry.users--;
      this.closeIdleReadHandles();
    }
  }

  /** The read handle of a segment, opened on first use and kept (segments only ever grow), now the most recently used. */
  private readHandle(segment: Segment): ReadHandle {
    let entry = this.readHandles.get(segment.number);
    if (entry === undefined) {
      const handle = open(segment.path, 'r').catch((error: unknown) => {
        throw new StorageError(`Cannot read ${segment.path}: ${(error as Error).message}`, { cause: error });
      });
      entry = { handle, users: 0 };
      const opened = entry;
      handle.catch(() => {
        if (this.readHandles.get(segment.number) === opened) this.readHandles.delete(segment.number);
      });
    } else {
      this.readHandles.delete(segment.number); // to the end: the most recently used
    }
    this.readHandles.set(segment.number, entry);
    return entry;
  }

  /** Close the least recently used read handles no read is using, down to {@link MAX_READ_HANDLES}. */
  private closeIdleReadHandles(): void {
    for (const [number, entry] of this.readHandles) {
      if (this.readHandles.size <= MAX_READ_HANDLES) return;
      if (entry.users > 0) continue;
      this.readHandles.delete(number);
      void entry.handle.then((handle) => handle.close()).catch(() => {});
    }
  }

  private decodeAt(
    segment: Segment,
    position: number,
    buffer: Buffer,
    start: number,
    end: number,
    text: LinesText | undefined,
    blockChecked: boolean,
  ): StoredEvent {
    const line = position - segment.firstPosition + 1;
    const decoded = decodeLine(buffer, start, end, text, blockChecked);
    if (!decoded.ok) throw new CorruptLogError(segment.path, line, decoded.reason);
    const event = parseStoredEvent(decoded.value, () => `${segment.path}:${line}`, this.upcasters);
    if (event.position !== position || event.stream !== this.index.stream(position)) {
      throw new CorruptLogError(
        segment.path,
        line,
        `holds ${event.stream} at position ${event.position} where the index has ${this.index.stream(position)} at ${position}`,
      );
    }
    return event;
  }

  // ---------------------------------------------------------------- queries

  async streamVersion(stream: string): Promise<number> {
    this.ensureOpen();
    await this.refresh();
    await this.ensureIndexed();
    return this.index.versionOf(stream);
  }

  async listStreams(): Promise<StreamInfo[]> {
    this.ensureOpen();
    await this.refresh();
    await this.ensureIndexed();
    return [...this.index.streams]
      .map(([stream, { positions }]) => ({
        stream,
        version: positions.length,
        firstPosition: positions.at(0),
        lastPosition: positions.at(positions.length - 1),
      }))
      .sort((a, b) => a.firstPosition - b.firstPosition);
  }

  async headPosition(): Promise<number> {
    this.ensureOpen();
    await this.refresh();
    await this.ensureIndexed();
    return this.index.count;
  }

  subscribe(options: SubscribeOptions = {}): Observable<StoredEvent> {
    this.ensureOpen();
    return this.readOnly ? this.followWriter(options) : catchUpThenFollow(options, (o) => this.readAll(o), this.live);
  }

  /**
   * A reader's subscription: the writer is another process, so it reads what
   * was appended since it last looked, every `followIntervalMs`, until it is
   * unsubscribed or the store is closed (then it completes).
   */
  private followWriter(options: SubscribeOptions): Observable<StoredEvent> {
    checkReadBounds({ fromPosition: options.fromPosition });
    return new Observable<StoredEvent>((subscriber) => {
      const wanted = (event: StoredEvent): boolean => options.stream === undefined || event.stream === options.stream;
      // The last position looked at; undefined until the head is known, for 'end'.
      let last = options.fromPosition === 'end' ? undefined : (options.fromPosition ?? 1) - 1;
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      const stop = (): void => {
        stopped = true;
        clearTimeout(timer);
        this.followers.delete(complete);
      };
      const complete = (): void => {
        stop();
        subscriber.complete();
      };
      this.followers.add(complete);
      let rewrites = this.tailRewrites;
      let delivered: number | undefined; // the last position handed to the subscriber
      // After a rewrite: the lines written in place of rolled-back ones are read (they
      // count as new even for a subscription started after them: those were never
      // durable); true when it has to read again from there. Events it delivered
      // that were rolled back cannot be taken back: that stops the subscription.
      const rewound = (): boolean => {
        if (this.tailRewrites === rewrites) return false;
        rewrites = this.tailRewrites;
        if (delivered !== undefined && delivered >= this.rewrittenFrom) {
          throw new StorageError(
            `The writer of ${this.dir} rewrote the log from position ${this.rewrittenFrom} after this subscription had delivered events ` +
              `up to ${delivered} (a rolled-back write): subscribe again from position ${this.rewrittenFrom}.`,
          );
        }
        if (last === undefined || last < this.rewrittenFrom) return false;
        last = this.rewrittenFrom - 1;
        return true;
      };
      const lookAgain = (ms: number): void => {
        if (!stopped) timer = setTimeout(() => void look(), ms);
      };
      const look = async (): Promise<void> => {
        try {
          last ??= await this.headPosition(); // 'end': only what comes after now
          let again = false;
          for await (const batch of this.readAllBatches({ fromPosition: last + 1 })) {
            again = rewound();
            if (again) break;
            for (const event of batch) {
              if (stopped) return;
              last = event.position;
              if (!wanted(event)) continue;
              delivered = event.position;
              subscriber.next(event);
            }
          }
          lookAgain(again || rewound() ? 0 : this.followIntervalMs);
        } catch (error) {
          if (stopped) return;
          // Another read noticed a rewrite under this look: the next look deals with it.
          if (isLogRewrittenError(error)) return lookAgain(0);
          stop();
          subscriber.error(error);
        }
      };
      void look();
      return stop;
    });
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  // ---------------------------------------------------------------- close

  close(): Promise<void> {
    this.closing ??= (async () => {
      // What was appended before close() is written; nothing after it is taken.
      while (this.flushing || this.flushScheduled || this.queue.length > 0) await this.idle;
      this.closed = true;
      this.live.complete();
      for (const complete of [...this.followers]) complete();
      await this.release();
    })();
    return this.closing;
  }

  private async release(): Promise<void> {
    const active = this.segments.length - 1;
    if (this.writeHandle !== undefined && active >= 0 && this.broken === undefined && this.segments[active]!.size > 0) {
      await this.saveSegmentIndex(active); // the next open scans only what is appended after this
    }
    for (const { handle } of this.readHandles.values()) await handle.then((h) => h.close()).catch(() => {});
    this.readHandles.clear();
    if (this.writeHandle !== undefined) {
      await this.writeHandle.close();
      this.writeHandle = undefined;
    }
    if (this.releaseLock !== undefined) {
      await rm(join(this.dir, OWNER_NAME), { force: true }).catch(() => {}); // whatever is in its way, the lock is let go
      await this.releaseLock().catch(() => {});
      this.releaseLock = undefined;
    }
  }
}

/** fsync a folder, so a new file's name survives a crash. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
