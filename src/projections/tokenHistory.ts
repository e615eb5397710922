import type { TokenUsage } from '../budget/usage.js';
import type { EventData } from '../events/schemas.js';
import type { StoredEvent } from '../events/envelope.js';
import { AppendOnlyList } from './appendOnlyList.js';
import type { Projection } from './projection.js';

/** One usage record, with the context it left in use. */
export interface TokenUsageEntry extends TokenUsage {
  at: string;
  version: number;
  model: string;
  main: boolean;
  /** The context in use after this call: the latest main call's input + cache creation + cache read. */
  contextTokens: number;
}

/** A threshold crossing, a threshold cleared, or a compaction, as recorded. */
export type BudgetMark =
  | ({ kind: 'threshold'; at: string; version: number } & EventData<'BudgetThresholdCrossed'>)
  | ({ kind: 'cleared'; at: string; version: number } & EventData<'BudgetThresholdCleared'>)
  | ({ kind: 'compaction'; at: string; version: number } & EventData<'ContextCompacted'>);

/**
 * The token history of one stream: every usage record it holds and every
 * budget mark, in order. A fork's history holds its own stream's records only
 * (its parent's are in the parent's history).
 */
export interface TokenHistory {
  entries: AppendOnlyList<TokenUsageEntry>;
  marks: AppendOnlyList<BudgetMark>;
  /** The context in use after the last record or compaction: what a sidechain call leaves unchanged. */
  contextTokens: number;
}

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

/** The token-history projection: the budget's history, call by call (`engine.tokenHistory`, replay). */
export const tokenHistoryProjection: Projection<TokenHistory> = {
  name: 'tokenHistory',
  initialState: () => ({ entries: AppendOnlyList.empty(), marks: AppendOnlyList.empty(), contextTokens: 0 }),
  evolve(state, event: StoredEvent) {
    switch (event.type) {
      case 'TokenUsageRecorded': {
        const u = event.data;
        const contextTokens = u.main ? u.inputTokens + u.cacheCreationInputTokens + u.cacheReadInputTokens : state.contextTokens;
        return {
          entries: state.entries.append({
            at: u.at ?? event.meta.at,
            version: event.version,
            model: internModel(u.model),
            inputTokens: u.inputTokens,
            outputTokens: u.outputTokens,
            cacheCreationInputTokens: u.cacheCreationInputTokens,
            cacheReadInputTokens: u.cacheReadInputTokens,
            main: u.main,
            contextTokens,
          }),
          marks: state.marks,
          contextTokens,
        };
      }
      case 'BudgetThresholdCrossed':
        return { ...state, marks: state.marks.append({ kind: 'threshold', at: event.meta.at, version: event.version, ...event.data }) };
      case 'BudgetThresholdCleared':
        return { ...state, marks: state.marks.append({ kind: 'cleared', at: event.meta.at, version: event.version, ...event.data }) };
      case 'ContextCompacted':
        return {
          ...state,
          contextTokens: event.data.tokensAfter ?? state.contextTokens,
          marks: state.marks.append({ kind: 'compaction', at: event.meta.at, version: event.version, ...event.data }),
        };
      default:
        return state;
    }
  },
};
