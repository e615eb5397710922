import { EMPTY, type Observable } from 'rxjs';
import type { StoredEvent } from '../events/envelope.js';
import { StorageError, StoreClosedError } from '../errors.js';
import type { AppendResult, EventStore, ReadAllOptions, ReadStreamOptions, StreamInfo } from './eventStore.js';
import { looksLikeOurStart } from './openScan.js';
import { checkReadBounds } from './readBounds.js';
import { surveyLog, type DamagedLine, type LogSurvey, type SoundLine } from './repairSurvey.js';

/*
 * What `--skip-damaged` reads: the sound events of a damaged log, found by
 * the repair's survey, as a read-only store; what was skipped is told, never
 * hidden. Positions and versions are the log's own, so a stream that lost
 * an event has a hole where it was.
 */

/** One thing a salvaged read left out, for the command to say. */
export interface SkippedPart {
  file: string;
  line: number;
  reason: string;
  /** The positions it held, where known. */
  positions: number[];
  streams: string[];
  /** True for lines never acknowledged (an unfinished last append, a torn last line): not damage, the next writer cuts them. */
  unacknowledged: boolean;
}

/** A read-only store of the sound part of a damaged log, and what it skipped. */
export interface SalvagedLog {
  store: EventStore;
  skipped: SkippedPart[];
  /** Sound lines found out of order (two lines swapped, say), read at their own positions: nothing of them skipped. */
  reordered: { file: string; line: number; position: number; stream: string; version: number }[];
}

/** Read the sound events of the log in `dir` (see the file comment); nothing is written. */
export async function openSalvagedLog(dir: string): Promise<SalvagedLog> {
  const survey = await surveyLog(dir);
  return { store: salvagedStore(dir, soundEvents(survey)), skipped: skippedParts(survey), reordered: survey.segments.flatMap((s) => s.reordered ?? []) };
}

/**
 * The sound lines of an unfinished append at the very end of the log: never
 * acknowledged, so the store leaves them out (and its next writer cuts them).
 * That is only a tail the writer could not have acknowledged: the last
 * segment's last append goes on (`+`) into a last line that has no end
 * (torn) or is not there at all, and neither the segment's index file nor
 * the writer's record (`writer.acked`) covers any of it. Lines followed by a
 * whole line that cannot be read (damaged, not torn), or by lines an index
 * file or `writer.acked` shows were written (a `missing` entry), were
 * acknowledged: they are kept.
 */
export function unfinishedAppend(survey: LogSurvey): Set<SoundLine> {
  const unfinished = new Set<SoundLine>();
  const segment = survey.segments.at(-1);
  const entries = segment?.entries ?? [];
  let i = entries.length - 1;
  const last = entries[i];
  if (last === undefined || last.kind === 'missing') return unfinished;
  if (last.kind === 'damaged') {
    if (last.ended) return unfinished; // a whole line was written after them: damage, not a torn write
    i--;
  }
  for (; i >= 0; i--) {
    const entry = entries[i]!;
    if (entry.kind !== 'sound' || !entry.continues) break;
    unfinished.add(entry);
  }
  const ack = survey.acknowledged;
  for (const entry of unfinished) {
    const recorded = segment!.recordedLines !== undefined && entry.line <= segment!.recordedLines;
    const acked = ack !== undefined && entry.event.position <= ack.position;
    if (recorded || acked) return new Set(); // an append is acknowledged whole: all of it
  }
  // The torn last line itself, when an index file or writer.acked covers it, was acknowledged too (and so was its append).
  if (last.kind === 'damaged' && segment!.recordedLines !== undefined && last.line <= segment!.recordedLines) return new Set();
  if (last.kind === 'damaged' && ack !== undefined && last.position !== undefined && last.position <= ack.position) return new Set();
  return unfinished;
}

/** The log's last line when it is torn (no line end) and nothing records it as acknowledged: a crash's, never acknowledged. */
export function unacknowledgedTornLine(survey: LogSurvey): DamagedLine | undefined {
  const segment = survey.segments.at(-1);
  const last = segment?.entries.at(-1);
  if (segment === undefined || last === undefined || last.kind !== 'damaged' || last.ended) return undefined;
  if (!looksLikeOurStart(last.bytes, 0, last.bytes.length)) return undefined; // bytes not ours: damage, never a crash's tail
  if (segment.recordedLines !== undefined && last.line <= segment.recordedLines) return undefined;
  const ack = survey.acknowledged;
  // Its position, as its header shows it, or as the line after the last sound one.
  const before = segment.entries.findLast((e): e is SoundLine => e.kind === 'sound');
  const position = last.position ?? (before === undefined ? undefined : before.event.position + 1);
  if (ack !== undefined && (position === undefined || position <= ack.position)) return undefined;
  for (const entry of unfinishedAppend(survey)) if (ack !== undefined && entry.event.position <= ack.position) return undefined;
  return last;
}

function soundEvents(survey: LogSurvey): StoredEvent[] {
  const unfinished = unfinishedAppend(survey);
  const events: StoredEvent[] = [];
  for (const segment of survey.segments) for (const entry of segment.entries) if (entry.kind === 'sound' && !unfinished.has(entry)) events.push(entry.event);
  return events;
}

function skippedParts(survey: LogSurvey): SkippedPart[] {
  const skipped: SkippedPart[] = [];
  const unfinished = unfinishedAppend(survey);
  const torn = unacknowledgedTornLine(survey);
  for (const segment of survey.segments) {
    for (const entry of segment.entries) {
      if (entry.kind === 'sound' && unfinished.has(entry)) {
        skipped.push({
          file: entry.file,
          line: entry.line,
          reason: 'part of an unfinished last append, never acknowledged',
          positions: [entry.event.position],
          streams: [entry.event.stream],
          unacknowledged: true,
        });
      } else if (entry.kind === 'damaged') {
        skipped.push({
          file: entry.file,
          line: entry.line,
          reason: entry === torn ? 'a torn last line, never acknowledged' : entry.reason,
          positions: entry.position === undefined ? [] : [entry.position],
          streams: entry.stream === undefined ? [] : [entry.stream],
          unacknowledged: entry === torn,
        });
      } else if (entry.kind === 'missing') {
        skipped.push({ file: entry.file, line: entry.line, reason: `${entry.reason}: the lines are gone`, positions: entry.positions, streams: [...new Set(entry.streams)], unacknowledged: false });
      }
    }
  }
  return skipped;
}

function salvagedStore(dir: string, all: readonly StoredEvent[]): EventStore {
  const streams = new Map<string, StoredEvent[]>();
  for (const event of all) {
    const list = streams.get(event.stream) ?? [];
    list.push(event);
    streams.set(event.stream, list);
  }
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw new StoreClosedError();
  };
  const readAllBatches = async function* (options: ReadAllOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    ensureOpen();
    checkReadBounds({ fromPosition: options.fromPosition, toPosition: options.toPosition });
    const from = options.fromPosition ?? 1;
    const to = options.toPosition ?? Number.POSITIVE_INFINITY;
    const batch = all.filter((e) => e.position >= from && e.position <= to);
    if (batch.length > 0) yield batch;
  };
  return {
    append(): Promise<AppendResult> {
      return Promise.reject(new StorageError(`The event log in ${dir} was read with --skip-damaged: it cannot be appended to. Run \`moai-session repair\` first.`));
    },
    async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<StoredEvent> {
      ensureOpen();
      checkReadBounds({ fromVersion: options.fromVersion, toVersion: options.toVersion });
      const from = options.fromVersion ?? 1;
      const to = options.toVersion ?? Number.POSITIVE_INFINITY;
      for (const event of streams.get(stream) ?? []) if (event.version >= from && event.version <= to) yield event;
    },
    async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
      for await (const batch of readAllBatches(options)) yield* batch;
    },
    readAllBatches,
    async streamVersion(stream: string): Promise<number> {
      ensureOpen();
      return streams.get(stream)?.at(-1)?.version ?? 0;
    },
    async listStreams(): Promise<StreamInfo[]> {
      ensureOpen();
      return [...streams].map(([stream, events]) => ({
        stream,
        version: events.at(-1)!.version,
        firstPosition: events[0]!.position,
        lastPosition: events.at(-1)!.position,
      }));
    },
    async headPosition(): Promise<number> {
      ensureOpen();
      return all.at(-1)?.position ?? 0;
    },
    subscribe(): Observable<StoredEvent> {
      ensureOpen();
      return EMPTY;
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}
