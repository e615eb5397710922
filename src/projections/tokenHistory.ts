import type { EventData } from '../events/schemas.js';
import type { StoredEvent } from '../events/envelope.js';
import { AppendOnlyList } from './appendOnlyList.js';
import type { Projection } from './projection.js';

/** One usage record, with the context it left in use. */
export interface TokenUsageEntry {
  at: string;
  version: number;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  main: boolean;
  /** The context in use after this call: the latest main call's input + cache creation + cache read. */
  contextTokens: number;
}

/** Tokens spent so far, each call counted once. */
export interface TokenSpend {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  totalTokens: number;
}

/** A threshold crossing or compaction, as recorded. */
export type BudgetMark =
  | ({ kind: 'threshold'; at: string; version: number } & EventData<'BudgetThresholdCrossed'>)
  | ({ kind: 'cleared'; at: string; version: number } & EventData<'BudgetThresholdCleared'>)
  | ({ kind: 'compaction'; at: string; version: number } & EventData<'ContextCompacted'>);

/** Which thresholds usage has crossed and not yet fallen back below (each fires once per crossing). */
export interface ThresholdsReached {
  monitor: boolean;
  warning: boolean;
  emergency: boolean;
}

/** The token budget history of a session. */
export interface TokenHistory {
  entries: AppendOnlyList<TokenUsageEntry>;
  marks: AppendOnlyList<BudgetMark>;
  /** The model of the latest main call. */
  model: string | undefined;
  /** The context in use now. */
  contextTokens: number;
  spend: TokenSpend;
  reached: ThresholdsReached;
}

const NONE_REACHED: ThresholdsReached = Object.freeze({ monitor: false, warning: false, emergency: false });

// A long log repeats a handful of model names hundreds of thousands of times:
// keep one copy of each in the history.
const modelNames = new Map<string, string>();
const internModel = (model: string): string => {
  let interned = modelNames.get(model);
  if (interned === undefined) {
    interned = model;
    if (modelNames.size < 1000) modelNames.set(model, model);
  }
  return interned;
};

/** The token-history projection: every usage record, the context in use, the spend. */
export const tokenHistoryProjection: Projection<TokenHistory> = {
  name: 'tokens',
  initialState: () => ({
    entries: AppendOnlyList.empty(),
    marks: AppendOnlyList.empty(),
    model: undefined,
    contextTokens: 0,
    spend: { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, totalTokens: 0 },
    reached: NONE_REACHED,
  }),
  evolve(state, event: StoredEvent) {
    switch (event.type) {
      case 'TokenUsageRecorded': {
        const u = event.data;
        const contextTokens = u.main ? u.inputTokens + u.cacheCreationInputTokens + u.cacheReadInputTokens : state.contextTokens;
        const entry: TokenUsageEntry = {
          at: event.meta.at,
          version: event.version,
          model: internModel(u.model),
          inputTokens: u.inputTokens,
          outputTokens: u.outputTokens,
          cacheCreationInputTokens: u.cacheCreationInputTokens,
          cacheReadInputTokens: u.cacheReadInputTokens,
          main: u.main,
          contextTokens,
        };
        const s = state.spend;
        return {
          entries: state.entries.append(entry),
          marks: state.marks,
          model: u.main ? entry.model : state.model,
          contextTokens,
          reached: state.reached,
          spend: {
            inputTokens: s.inputTokens + u.inputTokens,
            outputTokens: s.outputTokens + u.outputTokens,
            cacheCreationInputTokens: s.cacheCreationInputTokens + u.cacheCreationInputTokens,
            cacheReadInputTokens: s.cacheReadInputTokens + u.cacheReadInputTokens,
            totalTokens:
              s.totalTokens + u.inputTokens + u.outputTokens + u.cacheCreationInputTokens + u.cacheReadInputTokens,
          },
        };
      }
      case 'BudgetThresholdCrossed':
        return {
          ...state,
          marks: state.marks.append({ kind: 'threshold', at: event.meta.at, version: event.version, ...event.data }),
          reached: { ...state.reached, [event.data.level]: true },
        };
      case 'BudgetThresholdCleared':
        return {
          ...state,
          marks: state.marks.append({ kind: 'cleared', at: event.meta.at, version: event.version, ...event.data }),
          reached: { ...state.reached, [event.data.level]: false },
        };
      case 'ContextCompacted':
        return {
          ...state,
          contextTokens: event.data.tokensAfter,
          marks: state.marks.append({ kind: 'compaction', at: event.meta.at, version: event.version, ...event.data }),
        };
      default:
        return state;
    }
  },
};
