import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
/** One benchmark figure and what it is compared with, measured in the same run. */
export interface Comparison {
  baseline: string;
  baselineValue: number;
  /** ours / baseline for rates (higher is better, `min` targets); ours / baseline for wall times with a `max` target. */
  ratio: number;
  target?: { min?: number; max?: number; label: string };
}

/** Print a figure, each baseline and the ratio against it, with the target it must reach. */
export function report(title: string, value: number, unit: string, comparisons: Comparison[], absoluteTarget?: { min: number; label: string }): boolean {
  let ok = true;
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
  console.log(`\n${title}`);
  console.log(`  moai-session: ${fmt(value)} ${unit}${absoluteTarget ? `   target ${absoluteTarget.label}: ${verdict(value >= absoluteTarget.min)}` : ''}`);
  if (absoluteTarget && value < absoluteTarget.min) ok = false;
  for (const c of comparisons) {
    const pass = c.target === undefined || ((c.target.min === undefined || c.ratio >= c.target.min) && (c.target.max === undefined || c.ratio <= c.target.max));
    if (!pass) ok = false;
    console.log(
      `  vs ${c.baseline}: ${fmt(c.baselineValue)} ${unit}   ratio ${c.ratio.toFixed(2)}x` +
        (c.target ? `   target ${c.target.label}: ${verdict(pass)}` : ''),
    );
  }
  return ok;
}

const verdict = (pass: boolean): string => (pass ? 'met' : 'NOT MET');

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Remove a run's folder and flush everything to disk before the next timed
 * run starts, so one run's clean-up (an unlink, an index file written on
 * close) is never paid for inside the next one's fsyncs.
 */
export async function settle(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  execFileSync('sync');
}
