import { appendFileSync } from 'node:fs';

/*
 * The fault suite's size and its figures. `npm test` runs each fault test
 * small (a few runs, seconds); `npm run test:faults` (test/faults/run.ts) sets
 * MOAI_FAULTS=full for the full counts and MOAI_FAULT_FIGURES to a file each
 * test adds its figures to, printed at the end.
 */

/** True under `npm run test:faults`. */
export const FULL = process.env.MOAI_FAULTS === 'full';

/** `full` runs under `npm run test:faults`, `short` in `npm test`. */
export const runs = (full: number, short: number): number => (FULL ? full : short);

/** What one fault test did and found: each acknowledged event is lost, duplicated or kept. */
export interface FaultFigures {
  test: string;
  runs: number;
  acknowledged: number;
  lost: number;
  duplicated: number;
  /** Writes refused (a busy exit within the wait bound counts; a refusal the test expects, e.g. the wrong receiver, does not). */
  refused: number;
  /** Anything else worth a line in the summary. */
  note?: string;
}

/** Add a test's figures to the summary file, when the suite runner asked for one. */
export function recordFigures(figures: FaultFigures): void {
  const file = process.env.MOAI_FAULT_FIGURES;
  if (file !== undefined && file !== '') appendFileSync(file, `${JSON.stringify(figures)}\n`);
}
