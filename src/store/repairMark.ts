import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * `repaired.json` in the log folder: written by `moai-session repair` each
 * time it puts rewritten segments in place (when, and where its report is).
 * A reader following the log (`events --follow`, the inspector) checks it
 * on each look: once it changes, the files it had read were replaced under
 * it, and it stops with an error saying so rather than read on at offsets
 * that no longer hold what it indexed.
 */

/** The mark's file name in the log folder. */
export const REPAIR_MARK_NAME = 'repaired.json';

/** What the mark says: the last repair put in place. */
export interface RepairMark {
  at: string;
  report: string;
}

/** The mark in log folder `dir`, as text to compare (undefined: no repair yet). */
export async function readRepairMark(dir: string): Promise<string | undefined> {
  return readFile(join(dir, REPAIR_MARK_NAME), 'utf8').catch(() => undefined);
}
