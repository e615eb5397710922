import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALL_ARMED,
  DEFAULT_THRESHOLDS,
  THRESHOLD_LEVELS,
  crossThresholds,
  levelOf,
  type BudgetThresholds,
  type ThresholdArming,
  type ThresholdLevel,
} from '../../src/index.js';

/** Feed the readings one by one, as the engine would, and collect what fired at each. */
function run(percents: readonly number[], thresholds: BudgetThresholds = DEFAULT_THRESHOLDS): ThresholdLevel[][] {
  let armed: ThresholdArming = ALL_ARMED;
  const fired: ThresholdLevel[][] = [];
  for (const percent of percents) {
    const result = crossThresholds(armed, percent, thresholds);
    fired.push([...result.crossed]);
    armed = result.armed;
  }
  return fired;
}

describe('crossThresholds', () => {
  it('fires monitor, warning and emergency at 60, 75 and 85 percent by default', () => {
    expect(run([59.9, 60, 74.99, 75, 84, 85])).toEqual([[], ['monitor'], [], ['warning'], [], ['emergency']]);
  });

  it('fires each level once, however long usage stays above it', () => {
    expect(run([76, 77, 80, 75, 76]).flat()).toEqual(['monitor', 'warning']);
  });

  it('fires every level crossed in one jump, lowest first', () => {
    expect(run([10, 90])).toEqual([[], ['monitor', 'warning', 'emergency']]);
  });

  it('re-arms a level only after usage drops strictly below it', () => {
    // 75 is not below 75, so the warning stays quiet; 74.9 re-arms it.
    expect(run([80, 75, 80, 74.9, 80])).toEqual([['monitor', 'warning'], [], [], [], ['warning']]);
  });

  it('re-arms only the levels usage fell below', () => {
    // Compaction to 65 %: warning and emergency re-arm, monitor does not.
    expect(run([90, 65, 90])).toEqual([['monitor', 'warning', 'emergency'], [], ['warning', 'emergency']]);
  });

  it('with rearmBelowPercent, waits for usage to fall below the threshold minus the margin', () => {
    const thresholds = { ...DEFAULT_THRESHOLDS, rearmBelowPercent: 5 };
    expect(run([76, 71, 76, 69.9, 76], thresholds).map((levels) => levels.includes('warning'))).toEqual([
      true,
      false,
      false,
      false,
      true,
    ]);
  });

  it('uses the thresholds it is given', () => {
    expect(run([49, 50, 70, 95], { monitor: 50, warning: 70, emergency: 95 })).toEqual([
      [],
      ['monitor'],
      ['warning'],
      ['emergency'],
    ]);
  });

  it('does not change the arming it was given', () => {
    const armed = { ...ALL_ARMED };
    crossThresholds(armed, 99);
    expect(armed).toEqual(ALL_ARMED);
  });

  it('refuses thresholds out of order or out of range, and a bad percent', () => {
    expect(() => crossThresholds(ALL_ARMED, 50, { monitor: 60, warning: 85, emergency: 75 })).toThrow(
      /must rise.*60 \/ 85 \/ 75/,
    );
    expect(() => crossThresholds(ALL_ARMED, 50, { monitor: 0, warning: 75, emergency: 85 })).toThrow(/monitor threshold is 0/);
    expect(() => crossThresholds(ALL_ARMED, 50, { monitor: 60, warning: 75, emergency: 120 })).toThrow(
      /emergency threshold is 120/,
    );
    expect(() => crossThresholds(ALL_ARMED, 50, { ...DEFAULT_THRESHOLDS, rearmBelowPercent: -1 })).toThrow(
      /rearmBelowPercent is -1/,
    );
    expect(() => crossThresholds(ALL_ARMED, Number.NaN)).toThrow(/usage is NaN percent/);
    expect(() => crossThresholds(ALL_ARMED, -3)).toThrow(/usage is -3 percent/);
  });
});

describe('levelOf', () => {
  it.each([
    [0, 'ok'],
    [59.99, 'ok'],
    [60, 'monitor'],
    [74, 'monitor'],
    [75, 'warning'],
    [85, 'emergency'],
    [140, 'emergency'],
  ] as const)('calls %d percent %s', (percent, level) => {
    expect(levelOf(percent)).toBe(level);
  });
});

// Readings that often sit exactly on, just under and just over the thresholds.
const percentArb = (thresholds: BudgetThresholds): fc.Arbitrary<number> => {
  const edges = THRESHOLD_LEVELS.flatMap((level) => {
    const t = thresholds[level];
    const m = thresholds.rearmBelowPercent ?? 0;
    return [t, t - 0.001, t + 0.001, Math.max(0, t - m), Math.max(0, t - m - 0.001)];
  });
  return fc.oneof(
    fc.constantFrom(...edges),
    fc.double({ min: 0, max: 120, noNaN: true }),
    fc.integer({ min: 0, max: 100 }),
  );
};

const thresholdsArb: fc.Arbitrary<BudgetThresholds> = fc
  .tuple(
    fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 3, maxLength: 3 }),
    fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20 })),
  )
  .map(([values, margin]) => {
    const [monitor = 0, warning = 0, emergency = 0] = [...values].sort((a, b) => a - b);
    return { monitor, warning, emergency, rearmBelowPercent: margin };
  });

const scenarioArb = fc.oneof(fc.constant(DEFAULT_THRESHOLDS), thresholdsArb).chain((thresholds) =>
  fc.record({ thresholds: fc.constant(thresholds), percents: fc.array(percentArb(thresholds), { maxLength: 60 }) }),
);

/**
 * The reference: upward crossings of one threshold, counted on their own. A crossing is a
 * reading at or above the threshold after the start or after a dip strictly below
 * `threshold - margin` since the last crossing.
 */
function upwardCrossings(percents: readonly number[], threshold: number, margin: number): number {
  let crossings = 0;
  let dippedSinceLastCrossing = true;
  for (const percent of percents) {
    if (percent < threshold - margin) dippedSinceLastCrossing = true;
    if (percent >= threshold && dippedSinceLastCrossing) {
      crossings += 1;
      dippedSinceLastCrossing = false;
    }
  }
  return crossings;
}

describe('threshold crossing properties', () => {
  it('fires each level exactly as often as usage crosses it upward', () => {
    fc.assert(
      fc.property(scenarioArb, ({ thresholds, percents }) => {
        const fired = run(percents, thresholds).flat();
        for (const level of THRESHOLD_LEVELS) {
          const times = fired.filter((l) => l === level).length;
          expect(times).toBe(upwardCrossings(percents, thresholds[level], thresholds.rearmBelowPercent ?? 0));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('without a margin, fires a level exactly at readings that follow one below it', () => {
    fc.assert(
      fc.property(fc.array(percentArb(DEFAULT_THRESHOLDS), { maxLength: 60 }), (percents) => {
        const fired = run(percents);
        percents.forEach((percent, i) => {
          const previous = i === 0 ? 0 : (percents[i - 1] ?? 0);
          const expected = THRESHOLD_LEVELS.filter(
            (level) => percent >= DEFAULT_THRESHOLDS[level] && previous < DEFAULT_THRESHOLDS[level],
          );
          expect(fired[i]).toEqual(expected);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('only ever fires levels the reading has reached, up to its levelOf', () => {
    fc.assert(
      fc.property(scenarioArb, ({ thresholds, percents }) => {
        run(percents, thresholds).forEach((levels, i) => {
          const percent = percents[i] ?? 0;
          for (const level of levels) expect(percent).toBeGreaterThanOrEqual(thresholds[level]);
          if (levels.length > 0) expect(levels.at(-1)).toBe(levelOf(percent, thresholds));
        });
      }),
      { numRuns: 300 },
    );
  });
});
