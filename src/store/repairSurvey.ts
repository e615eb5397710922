import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredEvent } from '../events/envelope.js';
import { UpcasterRegistry } from '../events/upcasters.js';
import { isCorruptLogError, StorageError } from '../errors.js';
import { parseLoggedEvent } from './loggedEvent.js';
import { decodeLine } from './lineCodec.js';
import { ACK_RECORD_NAME, readAckRecord, type AckRecord } from './ackRecord.js';
import { firstLineUnlikeIndex } from './segmentCatalog.js';
import { indexFileOf, readIndexFile, readOrphanIndexFile } from './segmentIndexFile.js';

/*
 * The survey of a damaged log: every line of every segment read on its own,
 * kept when it is a sound event in sequence, set aside with why when it is
 * not, and the positions that are gone altogether (a segment shorter than its
 * index file says) named from the index file. `moai-session repair` rewrites
 * the log from it; `--skip-damaged` reads what is sound from it. Unlike the
 * store's scan, it never stops at the first bad line.
 */

const SEGMENT_PATTERN = /^segment-(\d{6,})\.jsonl$/;
const INDEX_PATTERN = /^segment-(\d{6,})\.idx$/;

/** A sound event line in sequence, as it is in the file. */
export interface SoundLine {
  kind: 'sound';
  /** Its segment file and line there (from 1). */
  file: string;
  line: number;
  /** The JSON envelope as stored (not upcast), and the event it holds (validated, upcast). */
  raw: Record<string, unknown>;
  event: StoredEvent;
  /** Its append goes on in the next line (the `+` mark). */
  continues: boolean;
}

/** A line that cannot be kept, and what could still be read of it. */
export interface DamagedLine {
  kind: 'damaged';
  file: string;
  line: number;
  /** Its bytes, without the newline. */
  bytes: Buffer;
  reason: string;
  /** False for a line with no end (torn, or not ours); true for a whole line that cannot be read. */
  ended: boolean;
  position?: number;
  stream?: string;
  version?: number;
}

/** Positions an index file recorded whose lines are no longer in the file at all. */
export interface MissingLines {
  kind: 'missing';
  file: string;
  /** The first missing line of the segment (from 1). */
  line: number;
  /** The positions and, from the index file, the stream of each. */
  positions: number[];
  streams: string[];
  reason: string;
  /** What recorded the lines: the segment's index file, or the writer's record of what it acknowledged (`writer.acked`). */
  recordedBy: 'index file' | 'writer.acked';
}

/** One segment file as surveyed. */
export interface SegmentSurvey {
  file: string;
  number: number;
  /** Its index file: none, unreadable, or sound (`agrees`: it matches the file). */
  indexFile: 'missing' | 'unreadable' | 'agrees' | 'disagrees';
  /** The lines a sound index file records as written and acknowledged (from line 1), when it has one. */
  recordedLines?: number;
  entries: (SoundLine | DamagedLine | MissingLines)[];
  /**
   * Sound lines found out of order (two lines swapped, say) whose position and
   * stream version fit a hole before them: put back in order in `entries`, so
   * the segment is rewritten with them in place and nothing of them is lost.
   */
  reordered?: { file: string; line: number; position: number; stream: string; version: number }[];
}

/** What the survey found in a log folder. */
export interface LogSurvey {
  dir: string;
  segments: SegmentSurvey[];
  /** True when anything is damaged or missing (a repair has work to do). */
  damaged: boolean;
  /** The writer's record of what it acknowledged (`writer.acked`), when it has one that can be read. */
  acknowledged?: AckRecord;
}

/**
 * Survey the log in `dir` line by line. A line is kept when its checksum
 * holds, it is a valid event, and its position and its stream's version come
 * after the last kept ones (a line repeating them is damage, not a second
 * copy to keep). Index files are read for what they recorded.
 */
export async function surveyLog(dir: string, upcasters: UpcasterRegistry = new UpcasterRegistry()): Promise<LogSurvey> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new StorageError(`Cannot read the event log folder ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const numbers = entries
    .map((entry) => SEGMENT_PATTERN.exec(entry.name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  // Index files whose segment is gone: what they record is lost (and they are surveyed in their segment's place).
  const orphans = entries
    .map((entry) => INDEX_PATTERN.exec(entry.name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .filter((n) => !numbers.includes(n));
  const survey: LogSurvey = { dir, segments: [], damaged: false };
  let lastPosition = 0;
  const versions = new Map<string, number>();
  const keptPositions = new Set<number>();
  const keptOfStream = new Map<string, { position: number; version: number }[]>();
  for (const number of [...numbers, ...orphans].sort((a, b) => a - b)) {
    const file = join(dir, `segment-${String(number).padStart(6, '0')}.jsonl`);
    if (orphans.includes(number)) {
      const saved = await readOrphanIndexFile(file);
      const segment: SegmentSurvey = { file, number, indexFile: 'disagrees', entries: [] };
      survey.segments.push(segment);
      if (saved !== undefined && saved.offsets.length > 0) {
        segment.entries.push({
          kind: 'missing',
          file,
          line: 1,
          positions: Array.from({ length: saved.offsets.length }, (_, i) => saved.firstPosition + i),
          streams: Array.from(saved.streamOf, (id) => saved.streams[id] ?? '?'),
          reason: `the segment file is gone; its index file ${indexFileOf(file)} records ${saved.offsets.length} lines`,
          recordedBy: 'index file',
        });
      }
      continue;
    }
    const bytes = await readFile(file).catch((error: unknown) => {
      throw new StorageError(`Cannot read ${file}: ${(error as Error).message}`, { cause: error });
    });
    const segment: SegmentSurvey = { file, number, indexFile: 'missing', entries: [] };
    survey.segments.push(segment);
    let line = 0;
    for (let start = 0; start < bytes.length; ) {
      const newline = bytes.indexOf(0x0a, start);
      const end = newline === -1 ? bytes.length : newline;
      line++;
      const entry = surveyLine(file, line, bytes, start, end, newline !== -1, upcasters);
      if (entry.kind === 'sound') {
        const { position, stream, version } = entry.event;
        const expectedVersion = (versions.get(stream) ?? 0) + 1;
        const before = position <= lastPosition ? fitsHole(segment, entry, keptPositions, keptOfStream) : undefined;
        if (before !== undefined) {
          segment.entries.splice(before, 0, entry);
          (segment.reordered ??= []).push({ file, line, position, stream, version });
          keptPositions.add(position);
          keptOfStream.set(stream, [...(keptOfStream.get(stream) ?? []), { position, version }]);
        } else if (position <= lastPosition) {
          segment.entries.push(damagedFrom(entry, `position ${position} appears twice in the log (or out of order): the last one kept is ${lastPosition}`));
        } else if (version < expectedVersion) {
          segment.entries.push(damagedFrom(entry, `${stream} version ${version} appears twice in the log: the last one kept is ${expectedVersion - 1}`));
        } else {
          segment.entries.push(entry);
          lastPosition = position;
          versions.set(stream, version);
          keptPositions.add(position);
          keptOfStream.set(stream, [...(keptOfStream.get(stream) ?? []), { position, version }]);
        }
      } else {
        segment.entries.push(entry);
      }
      start = end + 1;
    }
    const index = await readIndexFile(file);
    if (index.status === 'unreadable') segment.indexFile = 'unreadable';
    if (index.status === 'sound') {
      const saved = index.index;
      const count = saved.offsets.length;
      let whole = 0;
      while (whole < count && saved.offsets[whole]! + saved.lengths[whole]! + 1 <= index.fileSize) whole++;
      const firstKept = segment.entries.find((e): e is SoundLine => e.kind === 'sound');
      const agrees =
        saved.segmentSize <= index.fileSize &&
        (firstKept === undefined || firstKept.event.position === saved.firstPosition) &&
        (await firstLineUnlikeIndex(file, saved)) === undefined;
      segment.indexFile = agrees ? 'agrees' : 'disagrees';
      if (agrees) segment.recordedLines = count;
      if (whole < count) {
        // Lines it recorded that are not in the file at all (a line cut in two is there, as damaged).
        const firstGone = segment.entries.length >= whole + 1 ? segment.entries.length + 1 : whole + 1;
        const positions: number[] = [];
        const streams: string[] = [];
        for (let i = firstGone - 1; i < count; i++) {
          positions.push(saved.firstPosition + i);
          streams.push(saved.streams[saved.streamOf[i]!] ?? '?');
        }
        if (positions.length > 0) {
          segment.entries.push({
            kind: 'missing',
            file,
            line: firstGone,
            positions,
            streams,
            reason: `the segment is ${index.fileSize} bytes, but its index file ${indexFileOf(file)} records ${count} lines (${saved.segmentSize} bytes)`,
            recordedBy: 'index file',
          });
        }
      }
    }
  }
  // Positions the writer's record says it acknowledged, past the end of what is left: gone (of streams unknown).
  const ack = await readAckRecord(dir);
  if (ack !== undefined) survey.acknowledged = ack;
  const seen = Math.max(
    0,
    ...survey.segments.flatMap((s) => s.entries.map((e) => (e.kind === 'sound' ? e.event.position : e.kind === 'damaged' ? (e.position ?? 0) : Math.max(...e.positions)))),
  );
  const lastSegment = survey.segments.at(-1);
  if (ack !== undefined && ack.position > seen && lastSegment !== undefined) {
    const positions = Array.from({ length: ack.position - seen }, (_, i) => seen + 1 + i);
    lastSegment.entries.push({
      kind: 'missing',
      file: lastSegment.file,
      line: lastSegment.entries.length + 1,
      positions,
      streams: positions.map(() => 'an unknown stream'),
      reason: `the writer's record (${ACK_RECORD_NAME}) shows events acknowledged up to position ${ack.position}, and the log ends before`,
      recordedBy: 'writer.acked',
    });
  }
  survey.damaged = survey.segments.some(
    (s) => s.indexFile === 'unreadable' || s.indexFile === 'disagrees' || s.reordered !== undefined || s.entries.some((e) => e.kind !== 'sound'),
  );
  // Positions skipped between kept lines are damage too, even when no line of them is left to set aside.
  let expected = 1;
  for (const segment of survey.segments) {
    for (const entry of segment.entries) {
      if (entry.kind !== 'sound') continue;
      if (entry.event.position !== expected) survey.damaged = true;
      expected = entry.event.position + 1;
    }
  }
  return survey;
}

function surveyLine(
  file: string,
  line: number,
  bytes: Buffer,
  start: number,
  end: number,
  ended: boolean,
  upcasters: UpcasterRegistry,
): SoundLine | DamagedLine {
  const lineBytes = bytes.subarray(start, end);
  if (!ended) return { kind: 'damaged', file, line, bytes: Buffer.from(lineBytes), reason: 'the line has no end (torn, or not ours)', ended, ...headerGuess(lineBytes) };
  const decoded = decodeLine(bytes, start, end);
  if (!decoded.ok) return { kind: 'damaged', file, line, bytes: Buffer.from(lineBytes), reason: decoded.reason, ended, ...headerGuess(lineBytes) };
  try {
    const event = parseLoggedEvent(decoded.value, file, line, upcasters);
    return { kind: 'sound', file, line, raw: decoded.value as Record<string, unknown>, event, continues: decoded.continues };
  } catch (error) {
    if (!isCorruptLogError(error)) throw error;
    return { kind: 'damaged', file, line, bytes: Buffer.from(lineBytes), reason: error.reason, ended, ...headerGuess(lineBytes) };
  }
}

/**
 * Where in `segment.entries` a sound line that comes after a later position
 * goes back in order, when it fits a hole: its position is not kept yet, its
 * stream's version is not kept yet and sits between the versions of the
 * stream's kept lines around it, and a kept line of the same segment comes
 * after it. Undefined when it does not fit (a second copy, say): it is damage.
 */
function fitsHole(
  segment: SegmentSurvey,
  entry: SoundLine,
  keptPositions: Set<number>,
  keptOfStream: Map<string, { position: number; version: number }[]>,
): number | undefined {
  const { position, stream, version } = entry.event;
  if (keptPositions.has(position)) return undefined;
  for (const kept of keptOfStream.get(stream) ?? []) {
    if (kept.version === version || kept.position < position !== kept.version < version) return undefined;
  }
  const at = segment.entries.findIndex((e) => e.kind === 'sound' && e.event.position > position);
  return at === -1 ? undefined : at;
}

function damagedFrom(entry: SoundLine, reason: string): DamagedLine {
  const { position, stream, version } = entry.event;
  return { kind: 'damaged', file: entry.file, line: entry.line, bytes: Buffer.from(`${JSON.stringify(entry.raw)}`), reason, ended: true, position, stream, version };
}

/** What can still be read of a damaged line's position, stream and version (its keys come first). */
function headerGuess(bytes: Buffer): { position?: number; stream?: string; version?: number } {
  const text = bytes.subarray(0, 512).toString('latin1');
  const guess: { position?: number; stream?: string; version?: number } = {};
  const position = /"position":(\d+)/.exec(text)?.[1];
  const stream = /"stream":"([^"\\]{1,200})"/.exec(text)?.[1];
  const version = /"version":(\d+)/.exec(text)?.[1];
  if (position !== undefined) guess.position = Number(position);
  if (stream !== undefined) guess.stream = stream;
  if (version !== undefined) guess.version = Number(version);
  return guess;
}
