// One read of one of a session's transcripts, from where the session last
// read it: the scanner from the recorded checkpoint, the intake over its
// records, and the cursor's move as the last command. Used by the hook (a
// few new lines) and the import (whole files) alike.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { SessionCommand } from '../../engine/commands.js';
import type { SessionView } from '../../projections/sessionView.js';
import { scanTranscriptSync } from './transcript/scanTranscript.js';
import type { SkippedLineRecord, TranscriptCheckpoint, TranscriptRecord } from './transcript/types.js';
import type { TranscriptCursor } from '../../projections/ingest.js';
import { TranscriptIntake, type IntakeFile } from './transcriptIntake.js';

/** How many bytes before a cursor's offset its checksum covers (a file rewritten under it is told from one that grew). */
const TAIL_BYTES = 4096;

/** Options of {@link readTranscriptCommands}. */
export interface ReadTranscriptOptions {
  /** Record what is still open at the end (a Stop, a SessionEnd, an import): see {@link TranscriptIntake.finish}. */
  flush: boolean;
  /** Call keys (`messageId\0requestId`) recorded already, beyond what the cursors remember. */
  recordedKeys?: ReadonlySet<string>;
  /** Called with the bytes read so far, as the scan goes (a progress bar). */
  onProgress?: (bytesRead: number) => void;
}

/** What one read found. */
export interface TranscriptReadResult {
  /** The session commands, the cursor's move (`RecordTranscriptRead`) last; empty when nothing is new. */
  commands: SessionCommand[];
  /** Lines that could not be read, with file and line. */
  skipped: SkippedLineRecord[];
  /** New API calls among the commands. */
  calls: number;
  /** Set when the file was shorter than the cursor or its bytes before the cursor changed: it was read again from the start. */
  rewritten: boolean;
  /** The file does not exist (yet): nothing was read. */
  missing: boolean;
  /** Session facts the lines state. */
  facts: TranscriptIntake['facts'];
}

/** SHA-256 (hex) of the up to {@link TAIL_BYTES} bytes before `offset`, or undefined when they cannot be read. */
export function tailChecksum(path: string, offset: number): string | undefined {
  if (offset === 0) return createHash('sha256').digest('hex');
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const length = Math.min(TAIL_BYTES, offset);
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, offset - length);
    if (read !== length) return undefined;
    return createHash('sha256').update(buffer).digest('hex');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const fileSize = (path: string): number | undefined => {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
};

/** Where one read of a transcript starts: from the session's cursor, or (none yet, or the file was rewritten) from the start. */
export interface TranscriptReadPlan {
  file: IntakeFile;
  /** The file's size now; undefined when it does not exist. */
  size: number | undefined;
  /** The cursor the read goes on from (undefined: from the start). */
  cursor: TranscriptCursor | undefined;
  rewritten: boolean;
  /** What to give the scanner. */
  scan: { from?: TranscriptCheckpoint; agentId?: string };
  options: ReadTranscriptOptions;
}

/**
 * Where a read of `file` starts, from the cursor `view` keeps for it: a file
 * that grew is read from the cursor on; one that was rewritten (shorter, or
 * other bytes before the cursor) from the start, its calls checked against
 * the keys the session remembers.
 */
export function planTranscriptRead(view: SessionView, file: IntakeFile, options: ReadTranscriptOptions): TranscriptReadPlan {
  const size = fileSize(file.path);
  let cursor = size === undefined ? undefined : view.ingest.transcripts[file.key];
  let rewritten = false;
  if (cursor !== undefined && (size! < cursor.offset || (cursor.tailSha256 !== undefined && tailChecksum(file.path, cursor.offset) !== cursor.tailSha256))) {
    rewritten = true;
    const keys = new Set(options.recordedKeys ?? []);
    for (const key of cursor.recentKeys) keys.add(key);
    options = { ...options, recordedKeys: keys };
    cursor = undefined;
  }
  const scan: TranscriptReadPlan['scan'] = {};
  if (cursor !== undefined) scan.from = cursor.checkpoint as unknown as TranscriptCheckpoint;
  if (file.agentId !== undefined) scan.agentId = file.agentId;
  return { file, size, cursor, rewritten, scan, options };
}

/**
 * True when a read by `plan` can find nothing to record: the file has not
 * grown past the cursor, and nothing is held open there that this read
 * would record (a read that does not flush holds everything open).
 */
export function nothingToRead(plan: TranscriptReadPlan): boolean {
  const cursor = plan.cursor;
  if (plan.size === undefined) return true;
  if (cursor === undefined || plan.size !== cursor.offset) return false;
  return !plan.options.flush || cursor.open.every((item) => item.kind === 'launch');
}

/**
 * The commands that record what the scanner's `records` of a read by `plan`
 * say (the scan of the file from `plan.scan`), the cursor's move last.
 */
export function commandsOfRead(view: SessionView, plan: TranscriptReadPlan, records: Iterable<TranscriptRecord>): TranscriptReadResult {
  const { file, options } = plan;
  const result: TranscriptReadResult = { commands: [], skipped: [], calls: 0, rewritten: plan.rewritten, missing: plan.size === undefined, facts: {} };
  if (plan.size === undefined) return result;
  const intake = new TranscriptIntake(file, plan.cursor, view, {
    flush: options.flush,
    model: view.session.model,
    ...(options.recordedKeys === undefined ? {} : { recordedKeys: options.recordedKeys }),
  });
  let sinceProgress = 0;
  for (const record of records) {
    intake.add(record);
    if (options.onProgress !== undefined && ++sinceProgress >= 256) {
      sinceProgress = 0;
      options.onProgress(record.endOffset);
    }
  }
  const commands = intake.finish();
  result.skipped = intake.skipped;
  result.calls = intake.calls;
  result.facts = intake.facts;
  const checkpoint = intake.checkpoint;
  if (checkpoint !== undefined) {
    options.onProgress?.(checkpoint.offset);
    const read: SessionCommand & { type: 'RecordTranscriptRead' } = {
      type: 'RecordTranscriptRead',
      file: file.key,
      path: file.path.length <= 4096 ? file.path : file.path.slice(-4096),
      offset: checkpoint.offset,
      line: checkpoint.line,
      checkpoint: checkpoint as unknown as Record<string, unknown>,
      open: intake.openItems,
      recentKeys: intake.recordedKeys.slice(-256),
    };
    const tail = tailChecksum(file.path, checkpoint.offset);
    if (tail !== undefined) read.tailSha256 = tail;
    commands.push(read);
  }
  // Only the cursor moved and nothing else: still worth recording (the next read starts there), unless it did not move.
  result.commands = commands;
  return result;
}

/**
 * Read `file` from where `view` last read it (its `TranscriptRead` cursor
 * for `file.key`) and return the commands that record what is new there.
 * A file that grew is read from the cursor on; one that was rewritten (shorter,
 * or other bytes before the cursor) is read again from the start, its calls
 * checked against the keys the session remembers. Synchronous reads: a hook
 * reads a few lines and exits.
 */
export function readTranscriptCommands(view: SessionView, file: IntakeFile, options: ReadTranscriptOptions): TranscriptReadResult {
  const plan = planTranscriptRead(view, file, options);
  if (plan.size === undefined) return commandsOfRead(view, plan, []);
  return commandsOfRead(view, plan, scanTranscriptSync(file.path, plan.scan));
}
