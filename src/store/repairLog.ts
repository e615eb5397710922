import { copyFile, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { StorageError } from '../errors.js';
import { ACK_RECORD_NAME } from './ackRecord.js';
import { indexFileOf } from './segmentIndexFile.js';
import { surveyLog, type DamagedLine, type LogSurvey, type MissingLines, type SoundLine } from './repairSurvey.js';
import { unfinishedAppend } from './repairSalvage.js';
import { acquireWriterLock } from './writerLock.js';

/*
 * `moai-session repair`: the one change to a damaged log a user asks for.
 * It copies every file it will change aside first, keeps every sound line
 * before and after the damage, moves what cannot be read to a quarantine
 * file, and leaves a log that opens: positions and each stream's versions
 * follow on again (renumbered after what was lost), and the report says what
 * was lost, where, of which streams, and what was renumbered.
 */

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

/** What a stream lost, in its versions as they were before the repair. */
export interface StreamLoss {
  stream: string;
  /** Versions no longer in the log, where they are known (holes between the versions kept, and lines still readable enough to say). */
  lostVersions: number[];
  /** Lines of the stream lost whose version could not be read (a missing line an index file named the stream of). */
  lostUnnumbered: number;
  /** The version its first event renumbered has now, and had before; absent when nothing of it was renumbered. */
  renumbered?: { fromVersion: number; nowVersion: number };
}

/** What a repair found and did. */
export interface RepairReport {
  /** When it ran (ISO). */
  at: string;
  dir: string;
  /** False when the log was sound: nothing was changed or written. */
  damaged: boolean;
  dryRun: boolean;
  /** The folder holding the backup, the quarantine file and this report (none when nothing was changed). */
  repairDir?: string;
  quarantined: QuarantinedLine[];
  /** Lines an index file recorded that were not in the file at all. */
  missing: { file: string; line: number; positions: number[]; streams: string[] }[];
  /** The positions, as they were, no longer in the log. */
  lostPositions: number[];
  /** The first position renumbered and what it is now; absent when positions were not renumbered. */
  renumberedFrom?: { position: number; nowPosition: number };
  streams: StreamLoss[];
  /** Events in the log after the repair. */
  eventsKept: number;
  /** Segment files rewritten, and removed (holding no line to keep). */
  rewritten: string[];
  removed: string[];
}

/**
 * Repair the log in `options.dir` (see the file comment), holding its
 * writer lock. A sound log is left as it is.
 */
export async function repairLog(options: RepairLogOptions): Promise<RepairReport> {
  const lock = await acquireWriterLock(options.dir, { waitMs: options.lockWaitMs, onCompromised: () => {} });
  try {
    const survey = await surveyLog(options.dir);
    const at = (options.now ?? new Date()).toISOString();
    const plan = planRepair(survey);
    const report: RepairReport = {
      at,
      dir: options.dir,
      damaged: survey.damaged,
      dryRun: options.dryRun === true,
      quarantined: plan.quarantined.map((entry) => {
        const { position, stream, version } = entry.kind === 'sound' ? entry.event : entry;
        return {
          file: entry.file,
          line: entry.line,
          reason: entry.reason,
          ...(position === undefined ? {} : { position }),
          ...(stream === undefined ? {} : { stream }),
          ...(version === undefined ? {} : { version }),
        };
      }),
      missing: plan.missing.map(({ file, line, positions, streams }) => ({ file, line, positions, streams })),
      lostPositions: plan.lostPositions,
      ...(plan.renumberedFrom === undefined ? {} : { renumberedFrom: plan.renumberedFrom }),
      streams: plan.streams,
      eventsKept: plan.kept,
      rewritten: [],
      removed: [],
    };
    if (!survey.damaged || options.dryRun === true) return report;
    const repairDir = join(options.repairRoot, at.replace(/[:.]/g, '-'));
    report.repairDir = repairDir;
    await applyPlan(survey, plan, repairDir, report);
    await writeFile(join(repairDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    await lock.release();
  }
}

/** What the repair will write: per segment from the first one it changes, its new text. */
interface RepairPlan {
  firstChanged: number;
  /** New bytes of each segment from `firstChanged` on (empty: removed). */
  contents: Buffer[];
  quarantined: (DamagedLine | (SoundLine & { reason: string }))[];
  quarantineLines: string[];
  missing: MissingLines[];
  lostPositions: number[];
  renumberedFrom?: { position: number; nowPosition: number };
  streams: StreamLoss[];
  kept: number;
}

function planRepair(survey: LogSurvey): RepairPlan {
  const { segments } = survey;
  // The log's last append, if its last line is not there (a torn tail): never acknowledged, so set aside, not kept.
  const unfinished = unfinishedAppend(survey);
  let position = 0;
  const versions = new Map<string, number>();
  const keptVersions = new Map<string, number[]>();
  const quarantined: RepairPlan['quarantined'] = [];
  const missing: MissingLines[] = [];
  let renumberedFrom: RepairPlan['renumberedFrom'];
  const renumberedStreams = new Map<string, { fromVersion: number; nowVersion: number }>();
  const lost = new Set<number>();
  const unnumbered = new Map<string, number>();
  let firstChanged = segments.findIndex((s) => s.indexFile === 'unreadable' || s.indexFile === 'disagrees');
  if (firstChanged === -1) firstChanged = segments.length;
  const contents: Buffer[][] = segments.map(() => []);
  let expectedOriginal = 1;
  segments.forEach((segment, s) => {
    const { entries } = segment;
    entries.forEach((entry, i) => {
      if (entry.kind === 'missing') {
        missing.push(entry);
        for (let k = 0; k < entry.positions.length; k++) {
          lost.add(entry.positions[k]!);
          unnumbered.set(entry.streams[k]!, (unnumbered.get(entry.streams[k]!) ?? 0) + 1);
        }
        firstChanged = Math.min(firstChanged, s);
        return;
      }
      if (entry.kind === 'damaged' || unfinished.has(entry)) {
        quarantined.push(
          entry.kind === 'damaged'
            ? entry
            : { ...entry, reason: 'part of an unfinished last append: its last line is torn or not there, and neither an index file nor writer.acked records it (never acknowledged)' },
        );
        firstChanged = Math.min(firstChanged, s);
        return;
      }
      const { event } = entry;
      for (let p = expectedOriginal; p < event.position; p++) lost.add(p);
      expectedOriginal = event.position + 1;
      position++;
      const version = (versions.get(event.stream) ?? 0) + 1;
      versions.set(event.stream, version);
      const list = keptVersions.get(event.stream) ?? [];
      list.push(event.version);
      keptVersions.set(event.stream, list);
      if (event.position !== position) {
        renumberedFrom ??= { position: event.position, nowPosition: position };
        firstChanged = Math.min(firstChanged, s);
      }
      if (event.version !== version && !renumberedStreams.has(event.stream)) renumberedStreams.set(event.stream, { fromVersion: event.version, nowVersion: version });
      // An append broken by a line set aside ends where its kept part does.
      const next = entries[i + 1];
      const continues = entry.continues && next !== undefined && next.kind === 'sound' && !unfinished.has(next);
      const { position: _p, stream, version: _v, ...rest } = entry.raw;
      const json = JSON.stringify({ position, stream, version, ...rest });
      contents[s]!.push(Buffer.from(`${crc32(json).toString(16).padStart(8, '0')}${continues ? '+' : ' '}${json}\n`));
    });
  });
  // What each stream lost: holes between the versions kept, and the versions damaged lines still show.
  const lostVersionsOf = new Map<string, Set<number>>();
  for (const [stream, kept] of keptVersions) {
    const set = new Set<number>();
    let previous = 0;
    for (const v of kept) {
      for (let h = previous + 1; h < v; h++) set.add(h);
      previous = v;
    }
    lostVersionsOf.set(stream, set);
  }
  for (const entry of quarantined) {
    if (entry.kind === 'sound') {
      const set = lostVersionsOf.get(entry.event.stream) ?? new Set<number>();
      set.add(entry.event.version);
      lostVersionsOf.set(entry.event.stream, set);
      lost.add(entry.event.position);
    } else if (entry.stream !== undefined && entry.version !== undefined) {
      // A damaged line past the last kept position (at the end of the log) shows a position lost too.
      if (entry.position !== undefined && entry.position >= expectedOriginal) lost.add(entry.position);
      const set = lostVersionsOf.get(entry.stream) ?? new Set<number>();
      // A duplicate's version is kept elsewhere: not lost.
      if (!(keptVersions.get(entry.stream) ?? []).includes(entry.version)) set.add(entry.version);
      lostVersionsOf.set(entry.stream, set);
    }
  }
  const streams: StreamLoss[] = [];
  for (const stream of new Set([...lostVersionsOf.keys(), ...unnumbered.keys(), ...renumberedStreams.keys()])) {
    const lostVersions = [...(lostVersionsOf.get(stream) ?? [])].sort((a, b) => a - b);
    const lostUnnumbered = unnumbered.get(stream) ?? 0;
    const renumbered = renumberedStreams.get(stream);
    if (lostVersions.length === 0 && lostUnnumbered === 0 && renumbered === undefined) continue;
    streams.push({ stream, lostVersions, lostUnnumbered, ...(renumbered === undefined ? {} : { renumbered }) });
  }
  const quarantineLines = quarantined.map((entry) => {
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
    firstChanged,
    contents: contents.map((parts) => Buffer.concat(parts)),
    quarantined,
    quarantineLines,
    missing,
    lostPositions: [...lost].sort((a, b) => a - b),
    ...(renumberedFrom === undefined ? {} : { renumberedFrom }),
    streams,
    kept: position,
  };
}

/** Back up, then rewrite the segments from the first one changed (each whole, renamed into place), and drop their index files. */
async function applyPlan(survey: LogSurvey, plan: RepairPlan, repairDir: string, report: RepairReport): Promise<void> {
  const backup = join(repairDir, 'backup');
  await mkdir(backup, { recursive: true });
  const changed = survey.segments.slice(plan.firstChanged);
  // Every file changed is copied aside first, synced, before anything is changed.
  const unlessMissing = (error: unknown): void => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  };
  for (const segment of changed) {
    await copySynced(segment.file, join(backup, basename(segment.file))).catch(unlessMissing); // missing: an index file whose segment is gone
    await copySynced(indexFileOf(segment.file), join(backup, basename(indexFileOf(segment.file)))).catch(unlessMissing);
  }
  // The writer's record of what it acknowledged counts positions as they were: kept aside, and gone from the log.
  const ackRecord = join(survey.dir, ACK_RECORD_NAME);
  await copySynced(ackRecord, join(backup, ACK_RECORD_NAME)).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
  await writeSynced(join(repairDir, 'quarantine.jsonl'), plan.quarantineLines.length === 0 ? '' : `${plan.quarantineLines.join('\n')}\n`);
  await syncFolder(backup);
  await syncFolder(repairDir);
  await rm(ackRecord, { force: true });
  for (let s = plan.firstChanged; s < survey.segments.length; s++) {
    const segment = survey.segments[s]!;
    const content = plan.contents[s]!;
    await rm(indexFileOf(segment.file), { force: true });
    if (content.length === 0) {
      await rm(segment.file, { force: true });
      report.removed.push(segment.file);
      continue;
    }
    const temporary = `${segment.file}.repair.tmp`;
    await writeSynced(temporary, content);
    await rename(temporary, segment.file);
    report.rewritten.push(segment.file);
  }
  await syncFolder(survey.dir);
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

async function writeSynced(path: string, content: string | Buffer): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
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
      reports.push(JSON.parse(text) as RepairReport);
    } catch {
      // a report cut short by a crash of the repair: the backup beside it is what counts
    }
  }
  return reports;
}
