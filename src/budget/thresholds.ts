import { InvalidArgumentError } from '../errors.js';

/** The budget threshold levels, lowest first: the order in which a rising usage crosses them. */
export const THRESHOLD_LEVELS = ['monitor', 'warning', 'emergency'] as const;

/** A budget threshold level, as `BudgetThresholdCrossed` names it. */
export type ThresholdLevel = (typeof THRESHOLD_LEVELS)[number];

/** The highest threshold usage has reached, or `ok` below them all. */
export type BudgetLevel = ThresholdLevel | 'ok';

/** The percent of the context window at which each level is reached. */
export interface BudgetThresholds {
  /** Percent of the window for `monitor` (default 60). */
  readonly monitor: number;
  /** Percent of the window for `warning` (default 75). */
  readonly warning: number;
  /** Percent of the window for `emergency` (default 85). */
  readonly emergency: number;
  /**
   * Hysteresis margin in percentage points: a level that has fired re-arms only once usage
   * drops strictly below `threshold - rearmBelowPercent`. Default 0: strictly below the threshold.
   */
  readonly rearmBelowPercent?: number;
}

/** The thresholds the product documents: 60 / 75 / 85 percent, re-armed strictly below each. */
export const DEFAULT_THRESHOLDS: BudgetThresholds = Object.freeze({ monitor: 60, warning: 75, emergency: 85 });

/** Which levels may fire on the next upward crossing; a level is disarmed from firing until usage drops below it. */
export type ThresholdArming = Readonly<Record<ThresholdLevel, boolean>>;

/** Every level armed: the state of a new session, whose usage starts at 0. */
export const ALL_ARMED: ThresholdArming = Object.freeze({ monitor: true, warning: true, emergency: true });

/** What {@link crossThresholds} returns: the levels that fired and the arming to keep for the next call. */
export interface ThresholdCrossingResult {
  /** The levels crossed upward by this reading, lowest first; empty most of the time. */
  readonly crossed: readonly ThresholdLevel[];
  /** The arming after this reading. */
  readonly armed: ThresholdArming;
}

/**
 * Check thresholds for sanity: each a finite percent above 0 and at most 100,
 * monitor < warning < emergency, and a margin of 0 or more.
 *
 * @throws InvalidArgumentError naming the first bad threshold.
 */
export function validateThresholds(thresholds: BudgetThresholds): void {
  for (const level of THRESHOLD_LEVELS) {
    const value = thresholds[level];
    if (!Number.isFinite(value) || value <= 0 || value > 100) {
      throw new InvalidArgumentError(
        `The ${level} threshold is ${String(value)}; it must be a percent of the context window above 0 and at most 100.`,
      );
    }
  }
  if (!(thresholds.monitor < thresholds.warning && thresholds.warning < thresholds.emergency)) {
    throw new InvalidArgumentError(
      `The thresholds must rise from monitor to warning to emergency, but they are ` +
        `${thresholds.monitor} / ${thresholds.warning} / ${thresholds.emergency} percent.`,
    );
  }
  const margin = thresholds.rearmBelowPercent ?? 0;
  if (!Number.isFinite(margin) || margin < 0) {
    throw new InvalidArgumentError(`rearmBelowPercent is ${String(margin)}; it must be a number of percentage points, 0 or more.`);
  }
}

function checkPercent(percent: number): void {
  if (!Number.isFinite(percent) || percent < 0) {
    throw new InvalidArgumentError(`The context usage is ${String(percent)} percent; it must be a finite number, 0 or more.`);
  }
}

/**
 * Feed one usage reading (percent of the context window) to the threshold tracker.
 * A level fires when the reading is at or above it and it is armed; it then stays
 * disarmed until a reading falls strictly below `threshold - rearmBelowPercent`, so each
 * upward crossing fires once however long usage stays above. A reading that jumps
 * past several levels fires each of them, lowest first. Pure: keep `armed` and pass it back.
 *
 * @throws InvalidArgumentError for a negative or non-finite percent or bad thresholds.
 * @example
 * let armed = ALL_ARMED;
 * ({ armed } = crossThresholds(armed, 80));            // crossed: ['monitor', 'warning']
 * crossThresholds(armed, 81).crossed;                   // []: still above, no repeat
 */
export function crossThresholds(
  armed: ThresholdArming,
  percent: number,
  thresholds: BudgetThresholds = DEFAULT_THRESHOLDS,
): ThresholdCrossingResult {
  validateThresholds(thresholds);
  checkPercent(percent);
  const margin = thresholds.rearmBelowPercent ?? 0;
  const crossed: ThresholdLevel[] = [];
  const next: Record<ThresholdLevel, boolean> = { ...armed };
  for (const level of THRESHOLD_LEVELS) {
    const threshold = thresholds[level];
    if (armed[level] && percent >= threshold) {
      crossed.push(level);
      next[level] = false;
    } else if (!armed[level] && percent < threshold - margin) {
      next[level] = true;
    }
  }
  return { crossed, armed: next };
}

/**
 * The highest level `percent` has reached, or `ok` below the monitor threshold.
 * No hysteresis: this describes one reading.
 *
 * @throws InvalidArgumentError for a negative or non-finite percent or bad thresholds.
 * @example
 * levelOf(80); // 'warning'
 */
export function levelOf(percent: number, thresholds: BudgetThresholds = DEFAULT_THRESHOLDS): BudgetLevel {
  validateThresholds(thresholds);
  checkPercent(percent);
  let reached: BudgetLevel = 'ok';
  for (const level of THRESHOLD_LEVELS) if (percent >= thresholds[level]) reached = level;
  return reached;
}
