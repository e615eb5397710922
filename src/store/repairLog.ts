import { copyFile, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { syncFolder, writeFileSynced as writeSynced } from './syncedFiles.js';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { StorageError } from '../errors.js';
import { ACK_RECORD_NAME } from './ackRecord.js';
import { indexFileOf } from './segmentIndexFile.js';
import { surveyLog, type DamagedLine, type LogSurvey, type MissingLines, type SoundLine } from './repairSurvey.js';
import { unacknowledgedTornLine, unfinishedAppend } from './repairSalvage.js';
import { looksLikeOurStart } from './openScan.js';
import { REPAIR_MARK_NAME, type RepairMark } from './repairMark.js';
import { acquireWriterLock } from './writerLock.js';

/*
 * `moai-session repair`: the one change to a damaged log a user asks for.
 * It copies every file it will change aside first, keeps every sound line
 * where it is, moves what cannot be read to a quarantine file, and leaves a
 * log that opens. No sound event moves: each position that was lost holds an
 * `EventLost` line now, in the lost event's stream at its version (as the
 * damaged line still shows them, or as the stream's hole requires), or, when
 * neither can tell, in the repair's own stream `moai-repair`. Positions and
 * versions stay what they were, so a fork's `parentVersion`, a checkpoint's
 * recorded position, a follower's cursor and a copy elsewhere still point
 * at the same events; only the damaged segments are rewritten.
 *
 * An interrupted repair is finished by the next one: the new segments are
 * staged in the repair's folder, beside the backup, with `plan.json`, all
 * synced before the log is touched; a plan still `started` is applied again
 * (whole files renamed into place, so applying twice is applying once).
 */

/** The stream of the `EventLost` lines whose stream and version no line or hole can tell. */
export const REPAIR_STREAM = 'moai-repair';

/** Options of {@link repairLog}. */
export interface RepairLogOptions {
  /** The log folder (`<state folder>/events`). */
  dir: string;
  /** Where the backup and the report go: a new folder in it per repair (`<state folder>/repair`). */
  repairRoot: string;
  /** How long to wait for a writer to let go of the lock, in ms. */
  lockWaitMs: number;
  /** Only survey and report; change nothing. */
  dryRun?: boolean;
  /** The time the repair is named after; now by default. */
  now?: Date;
}

/** A line set aside, as the report lists it. */
export interface QuarantinedLine {
  file: string;
  line: number;
  reason: string;
  position?: number;
  stream?: string;
  version?: number;
}

/** What a stream lost: the versions that hold an `EventLost` line now. */
export interface StreamLoss {
  stream: string;
  /** Its versions lost (each holds an `EventLost` line now). */
  lostVersions: number[];
  /** Of them, the ones worked out from the stream's hole rather than shown by the damaged line. */
  inferredVersions: number[];
}

/** An `EventLost` line the repair writes at a lost position. */
export interface LostEventLine {
  position: number;
  stream: string;
  version: number;
  /** Where the lost event was, and why it is lost. */
  file: string;
  line: number;
  reason: string;
  /** True when the stream and version are the damaged line's own. */
  shown: boolean;
}

/** What a repair found and did. */
export interface RepairReport {
  /** When it ran (ISO). */
  at: string;
  dir: string;
  /** False when the log was sound: nothing was changed or written. */
  damaged: boolean;
  dryRun: boolean;
  /** `started` while it is applied; `done` once the log is whole (absent in reports of earlier versions). */
  status?: 'started' | 'done';
  /** The folder holding the backup, the quarantine file and this report (none when nothing was changed). */
  repairDir?: string;
  quarantined: QuarantinedLine[];
  /** Lines an index file (or writer.acked) recorded that were not in the file at all. */
  missing: { file: string; line: number; positions: number[]; streams: string[]; recordedBy: 'index file' | 'writer.acked' }[];
  /** The positions no longer holding their event (each holds an `EventLost` line). */
  lostPositions: number[];
  /** The `EventLost` lines written. */
  lostEvents: LostEventLine[];
  /** Of the lost positions, how many are in {@link REPAIR_STREAM} (their stream could not be told). */
  unknownStream: number;
  streams: StreamLoss[];
  /** Sound lines left out as never acknowledged (an unfinished last append, a torn last line). */
  unacknowledged: QuarantinedLine[];
  /** Index files that could not be read or disagree with their segment: removed, rebuilt by the next open. */
  indexFilesRebuilt: string[];
  /** Sound lines found out of order (two lines swapped, say), put back at their positions: nothing of them is lost (absent in reports of earlier versions). */
  reordered?: { file: string; line: number; position: number; stream: string; version: number }[];
  /** Earlier repairs found interrupted and finished first (their folders). */
  finished: string[];
  /** Events in the log after the repair (`EventLost` lines not counted). */
  eventsKept: number;
  /** Segment files rewritten, and removed (holding no line to keep). */
  rewritten: string[];
  removed: string[];
}

/** What `plan.json` holds: the segments to put in place from `staged/` (or remove), and the files to remove. */
interface StagedPlan {
  status: 'started' | 'done';
  dir: string;
  segments: { name: string; action: 'rewrite' | 'remove' }[];
}

/**
 * Repair the log in `options.dir` (see the file comment), holding its
 * writer lock. A sound log is left as it is.
 */
export async function repairLog(options: RepairLogOptions): Promise<RepairReport> {
  const lock = await acquireWriterLock(options.dir, { waitMs: options.lockWaitMs, onCompromised: () => {} });
  try {
    const interrupted = await interruptedRepairs(options.repairRoot);
    if (options.dryRun !== true) for (const repairDir of interrupted) await finishRepair(repairDir);
    const survey = await surveyLog(options.dir);
    const at = (options.now ?? new Date()).toISOString();
    const repairDir = join(options.repairRoot, at.replace(/[:.]/g, '-'));
    const plan = planRepair(survey, join(repairDir, 'quarantine.jsonl'), at);
    // Only an unfinished last append (never acknowledged) is no damage: the store leaves it out and its next writer cuts it.
    const damaged =
      survey.damaged &&
      (plan.quarantined.length > 0 || plan.missing.length > 0 || plan.indexFilesRebuilt.length > 0 || plan.lostEvents.length > 0 || plan.reordered.length > 0);
    const report: RepairReport = {
      at,
      dir: options.dir,
      damaged,
      dryRun: options.dryRun === true,
      quarantined: plan.quarantined.map(quarantinedLine),
      missing: plan.missing.map(({ file, line, positions, streams, recordedBy }) => ({ file, line, positions, streams, recordedBy })),
      lostPositions: plan.lostEvents.map((e) => e.position),
      lostEvents: plan.lostEvents,
      unknownStream: plan.lostEvents.filter((e) => e.stream === REPAIR_STREAM && !e.shown).length,
      streams: plan.streams,
      unacknowledged: plan.unacknowledged.map(quarantinedLine),
      indexFilesRebuilt: plan.indexFilesRebuilt,
      reordered: plan.reordered,
      finished: interrupted,
      eventsKept: plan.kept,
      rewritten: [],
      removed: [],
    };
    if (!damaged || options.dryRun === true) return report;
    report.repairDir = repairDir;
    await applyPlan(survey, plan, repairDir, report);
    return report;
  } finally {
    await lock.release();
  }
}

function quarantinedLine(entry: DamagedLine | (SoundLine & { reason: string })): QuarantinedLine {
  const { position, stream, version } = entry.kind === 'sound' ? entry.event : entry;
  return {
    file: entry.file,
    line: entry.line,
    reason: entry.reason,
    ...(position === undefined ? {} : { position }),
    ...(stream === undefined ? {} : { stream }),
    ...(version === undefined ? {} : { version }),
  };
}

/** What the repair will write: the new text of each segment it changes. */
interface RepairPlan {
  /** New bytes of each changed segment, by its index in the survey (empty: removed). */
  contents: Map<number, Buffer>;
  quarantined: (DamagedLine | (SoundLine & { reason: string }))[];
  unacknowledged: (DamagedLine | (SoundLine & { reason: string }))[];
  quarantineLines: string[];
  missing: MissingLines[];
  lostEvents: LostEventLine[];
  streams: StreamLoss[];
  indexFilesRebuilt: string[];
  /** Sound lines put back in order (see `SegmentSurvey.reordered`). */
  reordered: { file: string; line: number; position: number; stream: string; version: number }[];
  kept: number;
}

/** One lost event, before its position, stream and version are settled: where it was and what its line still shows. */
interface LostSource {
  segment: number;
  file: string;
  line: number;
  reason: string;
  stream?: string;
  version?: number;
  /** Bytes that are no line of ours and that nothing records as written: junk, no lost event (when at the end of the log). */
  foreign?: boolean;
}

/** A line of the new segments: a sound line kept, or a lost position. */
type PlannedLine = { kind: 'kept'; entry: SoundLine } | { kind: 'lost'; position: number; source: LostSource };

function planRepair(survey: LogSurvey, quarantineFile: string, at: string): RepairPlan {
  const { segments } = survey;
  // Never acknowledged (the store itself leaves them out): set aside, and their positions are not lost.
  const unfinished = unfinishedAppend(survey);
  const torn = unacknowledgedTornLine(survey);
  const quarantined: RepairPlan['quarantined'] = [];
  const unacknowledged: RepairPlan['unacknowledged'] = [];
  const missing: MissingLines[] = [];
  const changed = new Set<number>();
  segments.forEach((segment, s) => {
    if (segment.indexFile === 'unreadable' || segment.indexFile === 'disagrees') changed.add(s);
  });
  // Every position in order: kept lines where they are, lost ones between (and after the last kept, where acknowledged).
  const planned: PlannedLine[][] = segments.map(() => []);
  let lastKept = 0;
  let pending: LostSource[] = []; // lost lines seen since the last kept one, in order
  let pendingExact = new Map<number, LostSource>(); // of them, those whose position an index file or writer.acked gives
  const settle = (upTo: number, s: number): void => {
    // Positions lastKept+1 .. upTo-1 are lost: each takes a lost line seen in between, in order (a missing one at its exact position).
    const loose = pending.filter((source) => ![...pendingExact.values()].includes(source));
    for (let p = lastKept + 1; p < upTo; p++) {
      const source = pendingExact.get(p) ??
        loose.shift() ?? { segment: s, file: segments[s]!.file, line: 1, reason: `position ${p} is not in the log (no line of it is left)` };
      planned[source.segment]!.push({ kind: 'lost', position: p, source });
      changed.add(source.segment);
    }
    pending = [];
    pendingExact = new Map();
  };
  segments.forEach((segment, s) => {
    if (segment.reordered !== undefined) changed.add(s); // sound lines put back in order: the file is rewritten with them in place
    for (const entry of segment.entries) {
      if (entry.kind === 'missing') {
        missing.push(entry);
        changed.add(s);
        entry.positions.forEach((position, k) => {
          const stream = entry.streams[k];
          const source: LostSource = {
            segment: s,
            file: entry.file,
            line: entry.line + k,
            reason: entry.reason,
            ...(stream === undefined || stream === '?' || stream === 'an unknown stream' ? {} : { stream }),
          };
          pending.push(source);
          pendingExact.set(position, source);
        });
        continue;
      }
      if (entry.kind === 'damaged') {
        changed.add(s);
        if (entry === torn) {
          unacknowledged.push(entry);
          continue;
        }
        quarantined.push(entry);
        // A second copy of a kept position is no lost event.
        if (entry.position !== undefined && entry.position <= lastKept && entry.reason.includes('appears twice')) continue;
        pending.push({
          segment: s,
          file: entry.file,
          line: entry.line,
          reason: entry.reason,
          ...(entry.stream === undefined ? {} : { stream: entry.stream }),
          ...(entry.version === undefined ? {} : { version: entry.version }),
          ...(looksLikeOurStart(entry.bytes, 0, entry.bytes.length) || (segment.recordedLines !== undefined && entry.line <= segment.recordedLines) ? {} : { foreign: true }),
        });
        continue;
      }
      if (unfinished.has(entry)) {
        changed.add(s);
        unacknowledged.push({ ...entry, reason: 'part of an unfinished last append: its last line is torn or not there, and neither an index file nor writer.acked records it (never acknowledged)' });
        continue;
      }
      settle(entry.event.position, s);
      planned[s]!.push({ kind: 'kept', entry });
      lastKept = entry.event.position;
    }
  });
  // Lost lines after the last kept one were acknowledged (the store would not leave them out): they keep their positions too.
  pending = pending.filter((source) => source.foreign !== true);
  const tailEnd = lastKept + 1 + pending.length;
  settle(Math.max(tailEnd, ...[...pendingExact.keys()].map((p) => p + 1)), segments.length - 1);
  const lostEvents = assignStreams(planned);
  const contents = new Map<number, Buffer>();
  for (const s of changed) contents.set(s, encodeSegment(planned[s]!, lostEvents, quarantineFile, at));
  // What each stream lost.
  const byStream = new Map<string, StreamLoss>();
  for (const lost of lostEvents.values()) {
    if (lost.stream === REPAIR_STREAM && !lost.shown) continue;
    const loss = byStream.get(lost.stream) ?? { stream: lost.stream, lostVersions: [], inferredVersions: [] };
    loss.lostVersions.push(lost.version);
    if (!lost.shown) loss.inferredVersions.push(lost.version);
    byStream.set(lost.stream, loss);
  }
  const quarantineLines = [...quarantined, ...unacknowledged].map((entry) => {
    const bytes = entry.kind === 'damaged' ? entry.bytes : Buffer.from(JSON.stringify(entry.raw));
    const text = bytes.toString('utf8');
    const exact = Buffer.from(text, 'utf8').equals(bytes);
    const { file, line, reason } = entry;
    const header =
      entry.kind === 'sound'
        ? { position: entry.event.position, stream: entry.event.stream, version: entry.event.version }
        : { position: entry.position, stream: entry.stream, version: entry.version };
    return JSON.stringify({ file: basename(file), line, reason, ...header, ...(exact ? { text } : { base64: bytes.toString('base64') }) });
  });
  return {
    contents,
    quarantined,
    unacknowledged,
    quarantineLines,
    missing,
    lostEvents: [...lostEvents.values()].sort((a, b) => a.position - b.position),
    streams: [...byStream.values()],
    indexFilesRebuilt: [...changed].filter((s) => segments[s]!.indexFile !== 'missing').map((s) => indexFileOf(segments[s]!.file)),
    reordered: segments.flatMap((segment) => segment.reordered ?? []),
    kept: planned.reduce((n, lines) => n + lines.filter((l) => l.kind === 'kept').length, 0),
  };
}

/**
 * The stream and version of each lost position, swept in position order so
 * that every stream's versions stay contiguous: the damaged line's own when
 * they fit, else the stream whose hole must be filled soonest, else the
 * repair stream. A hole no lost position can fill (a sound line whose
 * version skips ahead with no position lost before it) is refused.
 */
function assignStreams(planned: PlannedLine[][]): Map<number, LostEventLine> {
  const lines = planned.flat().sort((a, b) => positionOf(a) - positionOf(b));
  // Each stream's kept lines, in order: which version comes next, and by which position a hole must be filled.
  const keptOf = new Map<string, SoundLine[]>();
  for (const line of lines) {
    if (line.kind !== 'kept') continue;
    const list = keptOf.get(line.entry.event.stream) ?? [];
    list.push(line.entry);
    keptOf.set(line.entry.event.stream, list);
  }
  const next = new Map<string, number>(); // the next version of each stream
  const cursor = new Map<string, number>(); // index of its next kept line
  const nextKept = (stream: string): SoundLine | undefined => keptOf.get(stream)?.[cursor.get(stream) ?? 0];
  const holeIn = (stream: string): boolean => {
    const kept = nextKept(stream);
    return kept !== undefined && kept.event.version > (next.get(stream) ?? 1);
  };
  const holes = new Set<string>([...keptOf.keys()].filter(holeIn));
  const lost = new Map<number, LostEventLine>();
  for (const line of lines) {
    if (line.kind === 'kept') {
      const { stream, version, position } = line.entry.event;
      if (version !== (next.get(stream) ?? 1)) {
        throw new StorageError(
          `Cannot repair without renumbering: ${stream} goes from version ${(next.get(stream) ?? 1) - 1} to ${version} at position ${position} ` +
            `(${line.entry.file}:${line.entry.line}), and no lost position before it can hold the versions between. Nothing was changed.`,
        );
      }
      next.set(stream, version + 1);
      cursor.set(stream, (cursor.get(stream) ?? 0) + 1);
      if (holeIn(stream)) holes.add(stream);
      else holes.delete(stream);
      continue;
    }
    const { source, position } = line;
    const fits = (stream: string): boolean => holes.has(stream) || nextKept(stream) === undefined;
    let stream: string;
    let shown = false;
    if (source.stream !== undefined && fits(source.stream) && (source.version === undefined || source.version === (next.get(source.stream) ?? 1))) {
      stream = source.stream;
      shown = source.version !== undefined; // a missing line's stream is its index file's, its version the hole's
    } else if (holes.size > 0) {
      // The hole whose next kept line comes first must be filled first.
      stream = [...holes].reduce((a, b) => (nextKept(a)!.event.position <= nextKept(b)!.event.position ? a : b));
    } else {
      stream = REPAIR_STREAM;
    }
    const version = next.get(stream) ?? 1;
    next.set(stream, version + 1);
    if (holeIn(stream)) holes.add(stream);
    else holes.delete(stream);
    lost.set(position, { position, stream, version, file: basename(source.file), line: source.line, reason: source.reason, shown });
  }
  return lost;
}

const positionOf = (line: PlannedLine): number => (line.kind === 'kept' ? line.entry.event.position : line.position);

/** A segment's new text: its kept lines as they are (an append broken by a lost line ends before it), and an `EventLost` line at each lost position. */
function encodeSegment(lines: PlannedLine[], lost: Map<number, LostEventLine>, quarantineFile: string, at: string): Buffer {
  lines.sort((a, b) => positionOf(a) - positionOf(b));
  const parts: Buffer[] = [];
  lines.forEach((line, i) => {
    const following = lines[i + 1];
    let json: string;
    let continues = false;
    if (line.kind === 'kept') {
      json = JSON.stringify(line.entry.raw);
      continues = line.entry.continues && following?.kind === 'kept' && positionOf(following) === line.entry.event.position + 1;
    } else {
      const event = lost.get(line.position)!;
      json = JSON.stringify({
        position: event.position,
        stream: event.stream,
        version: event.version,
        id: `lost-${at.replace(/[:.]/g, '-')}-${event.position}`,
        type: 'EventLost',
        schemaVersion: 1,
        meta: { at, agent: 'moai-session repair' },
        data: { file: event.file, line: event.line, reason: event.reason.slice(0, 10_000), quarantine: quarantineFile, shown: event.shown },
      });
    }
    parts.push(Buffer.from(`${crc32(json).toString(16).padStart(8, '0')}${continues ? '+' : ' '}${json}\n`));
  });
  return Buffer.concat(parts);
}

/**
 * Back up every file it changes, stage the new segments and the plan beside
 * the backup (all synced), then put them in place, drop their index files
 * and writer.acked (they describe the old bytes), and mark the repair done.
 */
async function applyPlan(survey: LogSurvey, plan: RepairPlan, repairDir: string, report: RepairReport): Promise<void> {
  const backup = join(repairDir, 'backup');
  const staged = join(repairDir, 'staged');
  await mkdir(backup, { recursive: true });
  await mkdir(staged, { recursive: true });
  const unlessMissing = (error: unknown): void => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  };
  const stagedPlan: StagedPlan = { status: 'started', dir: survey.dir, segments: [] };
  for (const [s, content] of [...plan.contents].sort((a, b) => a[0] - b[0])) {
    const segment = survey.segments[s]!;
    await copySynced(segment.file, join(backup, basename(segment.file))).catch(unlessMissing); // missing: an index file whose segment is gone
    await copySynced(indexFileOf(segment.file), join(backup, basename(indexFileOf(segment.file)))).catch(unlessMissing);
    const name = basename(segment.file);
    if (content.length === 0) {
      stagedPlan.segments.push({ name, action: 'remove' });
      report.removed.push(segment.file);
    } else {
      await writeSynced(join(staged, name), content);
      stagedPlan.segments.push({ name, action: 'rewrite' });
      report.rewritten.push(segment.file);
    }
  }
  await copySynced(join(survey.dir, ACK_RECORD_NAME), join(backup, ACK_RECORD_NAME)).catch(unlessMissing);
  await writeSynced(join(repairDir, 'quarantine.jsonl'), plan.quarantineLines.length === 0 ? '' : `${plan.quarantineLines.join('\n')}\n`);
  report.status = 'started';
  await writeSynced(join(repairDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await syncFolder(backup);
  await syncFolder(staged);
  // The plan last: once it is there, everything it names is on disk, and the next repair can finish it.
  await writeSynced(join(repairDir, 'plan.json'), `${JSON.stringify(stagedPlan, null, 2)}\n`);
  await syncFolder(repairDir);
  await finishRepair(repairDir);
  report.status = 'done';
}

/** Put a staged repair in place (again: each file is renamed whole), then mark its plan and report done. */
async function finishRepair(repairDir: string): Promise<void> {
  const plan = JSON.parse(await readFile(join(repairDir, 'plan.json'), 'utf8')) as StagedPlan;
  // Readers following the log are told first, before any file they read is replaced.
  const mark: RepairMark = { at: new Date().toISOString(), report: join(repairDir, 'report.json') };
  await writeSynced(join(plan.dir, REPAIR_MARK_NAME), `${JSON.stringify(mark)}\n`);
  await rm(join(plan.dir, ACK_RECORD_NAME), { force: true });
  for (const { name, action } of plan.segments) {
    const file = join(plan.dir, name);
    await rm(indexFileOf(file), { force: true });
    if (action === 'remove') {
      await rm(file, { force: true });
      continue;
    }
    const temporary = `${file}.repair.tmp`;
    await copySynced(join(repairDir, 'staged', name), temporary);
    await rename(temporary, file);
  }
  await syncFolder(plan.dir);
  const reportPath = join(repairDir, 'report.json');
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as RepairReport;
  await writeSynced(reportPath, `${JSON.stringify({ ...report, status: 'done' }, null, 2)}\n`);
  await writeSynced(join(repairDir, 'plan.json'), `${JSON.stringify({ ...plan, status: 'done' }, null, 2)}\n`);
  await syncFolder(repairDir);
}

/** The folders of repairs whose plan is still `started` (interrupted), oldest first. */
async function interruptedRepairs(repairRoot: string): Promise<string[]> {
  const names = await readdir(repairRoot).catch(() => [] as string[]);
  const found: string[] = [];
  for (const name of names.sort()) {
    const text = await readFile(join(repairRoot, name, 'plan.json'), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    try {
      if ((JSON.parse(text) as StagedPlan).status === 'started') found.push(join(repairRoot, name));
    } catch {
      // a plan cut short: written last, so the log was not touched by that repair
    }
  }
  return found;
}

async function copySynced(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  const handle = await open(to, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}


/** The reports of the repairs done on a state folder's log (`<repairRoot>/<time>/report.json`), oldest first. */
export async function readRepairReports(repairRoot: string): Promise<RepairReport[]> {
  let names: string[];
  try {
    names = (await readdir(repairRoot)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StorageError(`Cannot read ${repairRoot}: ${(error as Error).message}`, { cause: error });
  }
  const reports: RepairReport[] = [];
  for (const name of names) {
    const text = await readFile(join(repairRoot, name, 'report.json'), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    try {
      const report = JSON.parse(text) as RepairReport;
      if (report.status !== 'started') reports.push(report); // one still started is finished by the next repair
    } catch {
      // a report cut short by a crash of the repair: the backup beside it is what counts
    }
  }
  return reports;
}
