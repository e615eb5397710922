import type { StoredEvent } from '../events/envelope.js';
import type { Projection } from './projection.js';

/** Tokens spent so far, each call counted once. */
export interface TokenSpend {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  totalTokens: number;
}

/** Which thresholds usage has crossed and not yet fallen back below (each fires once per crossing). */
export interface ThresholdsReached {
  monitor: boolean;
  warning: boolean;
  emergency: boolean;
}

/**
 * Where a session's token budget stands: the context in use, the spend, the
 * thresholds reached. Bounded whatever the history length, so it belongs in
 * the session's state and its checkpoints; the call-by-call history is the
 * token-history projection.
 */
export interface TokenBudget {
  /** The model of the latest main call. */
  model: string | undefined;
  /** The context in use now: input + cache creation + cache read of the latest main call, or what a compaction left. */
  contextTokens: number;
  spend: TokenSpend;
  /** The spend split by the model of each call (a session may switch models): what its cost is worked out from. */
  byModel: Readonly<Record<string, TokenSpend>>;
  reached: ThresholdsReached;
  /** True from an emergency crossing until a compaction is recorded: the policy asks again until one is. */
  compactionPending: boolean;
  /** How many calls were recorded. */
  calls: number;
  /** When the latest was. */
  lastCallAt: string | undefined;
}

const NONE_REACHED: ThresholdsReached = Object.freeze({ monitor: false, warning: false, emergency: false });
const NO_SPEND: TokenSpend = Object.freeze({ inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, totalTokens: 0 });

/** `spend` with one call's tokens added. */
const plus = (s: TokenSpend, u: { inputTokens: number; outputTokens: number; cacheCreationInputTokens: number; cacheReadInputTokens: number }): TokenSpend => ({
  inputTokens: s.inputTokens + u.inputTokens,
  outputTokens: s.outputTokens + u.outputTokens,
  cacheCreationInputTokens: s.cacheCreationInputTokens + u.cacheCreationInputTokens,
  cacheReadInputTokens: s.cacheReadInputTokens + u.cacheReadInputTokens,
  totalTokens: s.totalTokens + u.inputTokens + u.outputTokens + u.cacheCreationInputTokens + u.cacheReadInputTokens,
});

/** The token-budget projection. */
export const tokenBudgetProjection: Projection<TokenBudget> = {
  name: 'tokenBudget',
  initialState: () => ({
    model: undefined,
    contextTokens: 0,
    spend: NO_SPEND,
    byModel: {},
    reached: NONE_REACHED,
    compactionPending: false,
    calls: 0,
    lastCallAt: undefined,
  }),
  evolve(state, event: StoredEvent) {
    switch (event.type) {
      case 'TokenUsageRecorded': {
        const u = event.data;
        // A copy of the per-model record per call: O(models of the session), a handful.
        const byModel = { ...state.byModel, [u.model]: plus(state.byModel[u.model] ?? NO_SPEND, u) };
        return {
          model: u.main ? u.model : state.model,
          contextTokens: u.main ? u.inputTokens + u.cacheCreationInputTokens + u.cacheReadInputTokens : state.contextTokens,
          spend: plus(state.spend, u),
          byModel,
          reached: state.reached,
          compactionPending: state.compactionPending,
          calls: state.calls + 1,
          lastCallAt: u.at ?? event.meta.at,
        };
      }
      case 'BudgetThresholdCrossed':
        return {
          ...state,
          reached: { ...state.reached, [event.data.level]: true },
          compactionPending: state.compactionPending || event.data.level === 'emergency',
        };
      case 'BudgetThresholdCleared':
        // Back under the emergency level, a compaction is no longer owed.
        return {
          ...state,
          reached: { ...state.reached, [event.data.level]: false },
          compactionPending: state.compactionPending && event.data.level !== 'emergency',
        };
      case 'ContextCompacted':
        // A size after not reported keeps the last known figure until the next call shows the new one.
        return { ...state, contextTokens: event.data.tokensAfter ?? state.contextTokens, compactionPending: false };
      default:
        return state;
    }
  },
};
