import { join } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { requireStateFolder, storeTargetOfFolder } from '../../runtime/stateFolder.js';
import { readRepairReports, repairLog, type RepairReport } from '../../store/repairLog.js';
import { openSalvagedLog, type SkippedPart } from '../../store/repairSalvage.js';
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
  if (!report.damaged) return [`The event log in ${report.dir} is sound: nothing to repair, nothing changed.`];
  const lines: string[] = [];
  lines.push(report.dryRun ? `Dry run: nothing was changed. A repair of ${report.dir}:` : `Repaired the event log in ${report.dir}.`);
  if (report.repairDir !== undefined) {
    lines.push(`  Backup of every file changed: ${join(report.repairDir, 'backup')}`);
    lines.push(`  Unreadable lines: ${join(report.repairDir, 'quarantine.jsonl')}; report: ${join(report.repairDir, 'report.json')}`);
  }
  if (report.quarantined.length > 0) {
    lines.push(`  ${report.dryRun ? 'Would quarantine' : 'Quarantined'} ${plural(report.quarantined.length, 'line')}:`);
    for (const q of report.quarantined.slice(0, 20)) {
      const what = q.position === undefined ? '' : ` (position ${q.position}${q.stream === undefined ? '' : `, ${q.stream}`}${q.version === undefined ? '' : ` v${q.version}`})`;
      lines.push(`    ${q.file}:${q.line}${what}: ${q.reason}`);
    }
    if (report.quarantined.length > 20) lines.push(`    ... and ${report.quarantined.length - 20} more (see the report)`);
  }
  for (const m of report.missing) {
    lines.push(`  Gone from ${m.file} from line ${m.line}: ${plural(m.positions.length, 'event')} at positions ${range(m.positions)} (${[...new Set(m.streams)].join(', ')}), which its index file recorded.`);
  }
  if (report.lostPositions.length > 0) lines.push(`  Positions lost: ${range(report.lostPositions)}.`);
  if (report.renumberedFrom !== undefined) {
    lines.push(`  Positions from ${report.renumberedFrom.position} on ${report.dryRun ? 'would be' : 'are'} renumbered (now from ${report.renumberedFrom.nowPosition}).`);
  }
  for (const stream of report.streams) lines.push(`  ${describeStreamLoss(stream)}`);
  lines.push(`  ${report.dryRun ? 'It would keep' : 'Kept'} ${plural(report.eventsKept, 'sound event')}${report.dryRun ? '' : '; the log opens'}. ${report.dryRun ? '' : `Segment files rewritten: ${report.rewritten.length}, removed: ${report.removed.length}.`}`.trimEnd());
  return lines;
}

/** One stream's loss in a sentence. */
export function describeStreamLoss(stream: RepairReport['streams'][number]): string {
  const parts: string[] = [];
  if (stream.lostVersions.length > 0) parts.push(`${stream.lostVersions.length === 1 ? 'version' : 'versions'} ${range(stream.lostVersions)} lost`);
  if (stream.lostUnnumbered > 0) parts.push(`${plural(stream.lostUnnumbered, 'more event')} lost (versions unknown)`);
  if (stream.renumbered !== undefined) parts.push(`renumbered from v${stream.renumbered.fromVersion} (now v${stream.renumbered.nowVersion})`);
  return `${stream.stream}: ${parts.join('; ')}: its history has a hole.`;
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
  const { store, skipped } = await openSalvagedLog(events);
  io.stderr(`${describeSkipped(skipped)}\n`);
  return store;
}

function describeSkipped(skipped: readonly SkippedPart[]): string {
  if (skipped.length === 0) return 'moai-session: --skip-damaged: the log is sound; nothing was skipped.';
  const lines = [`moai-session: warning: --skip-damaged: skipped ${plural(skipped.length, 'damaged part')} of the log (run \`moai-session repair\` to set them aside for good):`];
  for (const part of skipped.slice(0, 20)) {
    const where = part.positions.length === 0 ? '' : ` (position${part.positions.length === 1 ? '' : 's'} ${range(part.positions)}${part.streams.length === 0 ? '' : `, ${part.streams.join(', ')}`})`;
    lines.push(`  ${part.file}:${part.line}${where}: ${part.reason}`);
  }
  if (skipped.length > 20) lines.push(`  ... and ${skipped.length - 20} more`);
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
