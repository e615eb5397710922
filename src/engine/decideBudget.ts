import { contextWindowFor } from '../budget/contextWindows.js';
import { crossThresholds, DEFAULT_THRESHOLDS, THRESHOLD_LEVELS, type BudgetThresholds } from '../budget/thresholds.js';
import type { SessionEventBody } from '../events/schemas.js';
import type { SessionView } from '../projections/sessionView.js';

/** The budget settings `decide` needs: thresholds and context windows. */
export interface BudgetSettings {
  thresholds: BudgetThresholds;
  /** Context windows by model id, over the built-in table. */
  contextWindows: Readonly<Record<string, number>>;
}

/** The defaults: 60 / 75 / 85 percent, the built-in window table. */
export const DEFAULT_BUDGET_SETTINGS: BudgetSettings = { thresholds: DEFAULT_THRESHOLDS, contextWindows: {} };

/**
 * Windows looked up already, by the overrides they were looked up with (as
 * JSON: an override object changed in place is looked up afresh) and model.
 * Bounded: a process sees a handful of models.
 */
const windows = new Map<string, number | undefined>();
const WINDOWS_KEPT = 256;

/** The context window of `model`, or undefined when neither the table nor the settings know it. */
export function windowOf(model: string, settings: BudgetSettings = DEFAULT_BUDGET_SETTINGS): number | undefined {
  const overrides = settings.contextWindows;
  // The model id last: a model id may hold any character, the JSON of the overrides no NUL.
  const key = `${JSON.stringify(overrides)}\u0000${model}`;
  if (windows.has(key)) return windows.get(key);
  let window: number | undefined;
  try {
    window = contextWindowFor(model, overrides);
  } catch {
    window = undefined;
  }
  if (windows.size >= WINDOWS_KEPT) windows.clear();
  windows.set(key, window);
  return window;
}

/**
 * The threshold events a new context size causes: `BudgetThresholdCrossed`
 * for each level reached that had not been (once per upward crossing), and
 * `BudgetThresholdCleared` for each level usage fell back below, which arms it
 * again (hysteresis). Lowest level first.
 */
export function budgetEvents(
  view: SessionView,
  model: string,
  contextTokens: number,
  settings: BudgetSettings = DEFAULT_BUDGET_SETTINGS,
): SessionEventBody[] {
  const contextWindow = windowOf(model, settings);
  if (contextWindow === undefined) return [];
  // Compared unrounded, as the budget report sees it; recorded to three decimals.
  const exact = (contextTokens / contextWindow) * 100;
  const percent = Math.round(exact * 1000) / 1000;
  // The shared crossing rule: a level fires when armed and reached, and is armed
  // again once usage falls below it. Armed here means not reached in the log.
  const reached = view.tokens.reached;
  const armed = { monitor: !reached.monitor, warning: !reached.warning, emergency: !reached.emergency };
  const result = crossThresholds(armed, exact, settings.thresholds);
  const data = { percent, contextTokens, contextWindow };
  return [
    ...result.crossed.map((level): SessionEventBody => ({ type: 'BudgetThresholdCrossed', data: { level, ...data } })),
    ...THRESHOLD_LEVELS.filter((level) => !armed[level] && result.armed[level]).map(
      (level): SessionEventBody => ({ type: 'BudgetThresholdCleared', data: { level, ...data } }),
    ),
  ];
}
