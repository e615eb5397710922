import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { requireStateFolder, storeTargetOfFolder } from '../../runtime/stateFolder.js';
import { readRepairReports, repairLog, REPAIR_STREAM, type RepairReport } from '../../store/repairLog.js';
import { openSalvagedLog, type SalvagedLog, type SkippedPart } from '../../store/repairSalvage.js';
import type { EventStore } from '../../store/eventStore.js';
import { plural } from '../../util/plural.js';
import { EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { parseWaitMs } from '../parse.js';
import { stateFolder } from '../stateFolder.js';

/** Options of `moai-session repair`. */
export interface RepairCommandOptions extends GlobalOptions {
  /** Say what a repair would do, and change nothing. */
  dryRun?: boolean;
}

/** How long `repair` waits for a writer to finish when `--wait` is not given. */
const DEFAULT_WAIT_MS = 5_000;

/**
 * `moai-session repair`: make a damaged file log open again (see
 * `store/repairLog.ts`): every file changed is copied to
 * `<dir>/repair/<time>/backup/` first, the unreadable lines go to
 * `quarantine.jsonl` beside it, and `report.json` says what was lost.
 */
export async function repairCommand(options: RepairCommandOptions, io: CliIo): Promise<number> {
  const dir = stateFolder(options, io);
  const events = await fileLogOf(dir, io, 'repair');
  const report = await repairLog({
    dir: events,
    repairRoot: join(dir, 'repair'),
    lockWaitMs: parseWaitMs('--wait', options.wait) ?? DEFAULT_WAIT_MS,
    dryRun: options.dryRun === true,
  });
  // The views cached from the log before the repair fold events it no longer holds: drop them (a cache; the log is folded again).
  if (!report.dryRun && report.damaged) await rm(join(dir, 'cache', 'views'), { recursive: true, force: true });
  if (options.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT.ok;
  }
  io.stdout(`${describeRepair(report).join('\n')}\n`);
  return EXIT.ok;
}

/** The log folder of a state folder whose store is the file store; anything else is refused, naming the command. */
async function fileLogOf(dir: string, io: CliIo, command: string): Promise<string> {
  await requireStateFolder(dir);
  const target = await storeTargetOfFolder(dir, io.env);
  if (target.kind !== 'file' || target.dir === undefined) {
    throw new InvalidArgumentError(`${command} works on the file store's log; this state folder's store is ${target.kind}.`);
  }
  return target.dir;
}

/** A repair report as lines for a reader. */
export function describeRepair(report: RepairReport): string[] {
  const lines: string[] = [];
  for (const earlier of report.finished) lines.push(`${report.dryRun ? 'Would finish' : 'Finished'} an interrupted repair first: ${earlier}.`);
  if (!report.damaged) {
    lines.push(`The event log in ${report.dir} is sound: nothing to repair, nothing changed.`);
    for (const u of report.unacknowledged) lines.push(`  (Its last append is unfinished at ${u.file}:${u.line}, never acknowledged: the next write command cuts it.)`);
    return lines;
  }
  lines.push(report.dryRun ? `Dry run: nothing was changed. A repair of ${report.dir}:` : `Repaired the event log in ${report.dir}.`);
  if (report.repairDir !== undefined) {
    lines.push(`  Backup of every file changed: ${join(report.repairDir, 'backup')}`);
    lines.push(`  Unreadable lines: ${join(report.repairDir, 'quarantine.jsonl')}; report: ${join(report.repairDir, 'report.json')}`);
  }
  if (report.quarantined.length > 0) {
    lines.push(`  ${report.dryRun ? 'Would quarantine' : 'Quarantined'} ${plural(report.quarantined.length, 'line')}:`);
    for (const q of report.quarantined.slice(0, 20)) lines.push(`    ${describeLine(q)}`);
    if (report.quarantined.length > 20) lines.push(`    ... and ${report.quarantined.length - 20} more (see the report)`);
  }
  if (report.unacknowledged.length > 0) {
    lines.push(`  ${report.dryRun ? 'Would set aside' : 'Set aside'} ${plural(report.unacknowledged.length, 'line')} never acknowledged (an unfinished last append):`);
    for (const u of report.unacknowledged.slice(0, 20)) lines.push(`    ${describeLine(u)}`);
  }
  for (const m of report.missing) {
    const recorded = m.recordedBy === 'writer.acked' ? "which the writer's record (writer.acked) shows were acknowledged" : 'which its index file recorded';
    lines.push(`  Gone from ${m.file} from line ${m.line}: ${plural(m.positions.length, 'event')} at positions ${range(m.positions)} (${[...new Set(m.streams)].join(', ')}), ${recorded}.`);
  }
  for (const r of report.reordered ?? []) {
    lines.push(
      `  ${report.dryRun ? 'Would put back' : 'Put back'} in order: ${r.file}:${r.line} (position ${r.position}, ${r.stream} v${r.version}), a sound line found after a later position; nothing of it is lost.`,
    );
  }
  for (const file of report.indexFilesRebuilt) lines.push(`  ${report.dryRun ? 'Would replace' : 'Replaced'} the index file ${file} (the next open rebuilds it from the segment).`);
  if (report.lostPositions.length > 0) {
    lines.push(
      `  Positions lost: ${range(report.lostPositions)}; each ${report.dryRun ? 'would hold' : 'holds'} an EventLost line now, so no sound event moves (positions and versions stay as they were).`,
    );
  }
  for (const stream of report.streams) lines.push(`  ${describeStreamLoss(stream)}`);
  if (report.unknownStream > 0) lines.push(`  ${plural(report.unknownStream, 'lost event')} of a stream no line could tell: in the repair stream ${REPAIR_STREAM}.`);
  lines.push(`  ${report.dryRun ? 'It would keep' : 'Kept'} ${plural(report.eventsKept, 'sound event')}${report.dryRun ? '' : '; the log opens'}. ${report.dryRun ? '' : `Segment files rewritten: ${report.rewritten.length}, removed: ${report.removed.length}.`}`.trimEnd());
  return lines;
}

function describeLine(q: RepairReport['quarantined'][number]): string {
  const what = q.position === undefined ? '' : ` (position ${q.position}${q.stream === undefined ? '' : `, ${q.stream}`}${q.version === undefined ? '' : ` v${q.version}`})`;
  return `${q.file}:${q.line}${what}: ${q.reason}`;
}

/** One stream's loss in a sentence. */
export function describeStreamLoss(stream: RepairReport['streams'][number]): string {
  // A report of an earlier version (which renumbered) has no inferredVersions.
  const inferredVersions = stream.inferredVersions ?? [];
  const inferred = inferredVersions.length === 0 ? '' : ` (${range(inferredVersions)} worked out from the hole, not shown by the damaged line)`;
  const lost = stream.lostVersions.length === 0 ? 'events lost' : `${stream.lostVersions.length === 1 ? 'version' : 'versions'} ${range(stream.lostVersions)} lost`;
  return `${stream.stream}: ${lost}${inferred}: its history has a hole (EventLost).`;
}

/** `1-3, 7, 9-10` for a sorted list of numbers. */
function range(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]} to ${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/**
 * `--skip-damaged` for a read-only command: the sound part of the state
 * folder's file log, with what was skipped said on stderr (nothing skipped:
 * it says the log is sound).
 */
export async function openSkippingDamaged(options: GlobalOptions, io: CliIo): Promise<EventStore> {
  const dir = stateFolder(options, io);
  const events = await fileLogOf(dir, io, '--skip-damaged');
  const { store, skipped, reordered } = await openSalvagedLog(events);
  io.stderr(`${describeSkipped(skipped, reordered)}\n`);
  return store;
}

function describeSkipped(skipped: readonly SkippedPart[], reordered: SalvagedLog['reordered']): string {
  const damaged = skipped.filter((part) => !part.unacknowledged);
  const unfinished = skipped.filter((part) => part.unacknowledged);
  const where = (part: SkippedPart): string => {
    const at = part.positions.length === 0 ? '' : ` (position${part.positions.length === 1 ? '' : 's'} ${range(part.positions)}${part.streams.length === 0 ? '' : `, ${part.streams.join(', ')}`})`;
    return `  ${part.file}:${part.line}${at}: ${part.reason}`;
  };
  const lines: string[] = [];
  if (damaged.length === 0 && reordered.length === 0) lines.push('moai-session: --skip-damaged: the log is sound; nothing damaged was skipped.');
  else if (damaged.length === 0) lines.push('moai-session: --skip-damaged: nothing damaged was skipped.');
  else {
    lines.push(`moai-session: warning: --skip-damaged: skipped ${plural(damaged.length, 'damaged part')} of the log (run \`moai-session repair\` to set them aside for good):`);
    for (const part of damaged.slice(0, 20)) lines.push(where(part));
    if (damaged.length > 20) lines.push(`  ... and ${damaged.length - 20} more`);
  }
  for (const r of reordered.slice(0, 20)) {
    lines.push(
      `moai-session: warning: --skip-damaged: ${r.file}:${r.line} (position ${r.position}, ${r.stream} v${r.version}) is a sound line found after a later position: read in its place (\`moai-session repair\` puts it back in order).`,
    );
  }
  if (unfinished.length > 0) {
    lines.push(`moai-session: --skip-damaged: left out ${plural(unfinished.length, 'line')} of an unfinished last append (never acknowledged, not damage: the next write command cuts ${unfinished.length === 1 ? 'it' : 'them'}):`);
    for (const part of unfinished.slice(0, 20)) lines.push(where(part));
  }
  return lines.join('\n');
}

/** Lines naming the streams earlier repairs left with a hole, for `replay` to report; none when no repair was done. */
export async function repairedStreamNotes(stateDir: string): Promise<string[]> {
  const notes: string[] = [];
  for (const report of await readRepairReports(join(stateDir, 'repair'))) {
    for (const stream of report.streams) notes.push(`Repaired ${report.at}: ${describeStreamLoss(stream)} (${join(report.repairDir ?? '', 'report.json')})`);
  }
  return notes;
}
