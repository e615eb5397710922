import type { StoredEvent } from '../events/envelope.js';
import type { EventData } from '../events/eventTypes.js';
import type { Projection } from './projection.js';

/** Where a session last read one of its transcripts: `TranscriptRead` as the view keeps it. */
export type TranscriptCursor = EventData<'TranscriptRead'> & {
  /** When it was read (the event's time) and the stream version of that read. */
  at: string;
  version: number;
};

/** A tool call that failed, counted against the task it was made for. */
export interface ToolFailures {
  count: number;
  lastError: string;
  lastTool: string;
  at: string;
}

/**
 * What came into a session from outside (Claude Code's hooks and transcripts,
 * an Agent SDK stream) and what the next input is checked against so that the
 * same input twice records nothing twice: where each transcript was read to,
 * the tool calls and compactions recorded last, the last resume's key, the
 * other ids the session is known by, and the tool failures per task. Bounded:
 * only recent keys are kept (a transcript is read from where it was left,
 * so older lines are never read again).
 */
export interface IngestState {
  /** Per transcript file key (`main`, `agent:<id>`), where it was read to. */
  transcripts: Readonly<Record<string, TranscriptCursor>>;
  /** Other ids of the session (e.g. a Claude Code session id), oldest first. */
  aliases: readonly string[];
  /** The tool calls (tool_use_id) whose events were recorded last, newest last. */
  recentToolUses: readonly string[];
  /** The compactions (boundary uuids) recorded last, newest last. */
  recentCompactions: readonly string[];
  /** The key of the last keyed resume. */
  lastResumeKey: string | undefined;
  /** Failed tool calls by task id (`''`: no task was in progress). */
  toolFailures: Readonly<Record<string, ToolFailures>>;
}

/** How many tool call ids and compaction ids are remembered. */
export const RECENT_TOOL_USES = 64;
const RECENT_COMPACTIONS = 16;

const remember = (list: readonly string[], key: string, bound: number): readonly string[] => {
  if (list[list.length - 1] === key) return list;
  const next = list.length >= bound ? list.slice(list.length - bound + 1) : list.slice();
  next.push(key);
  return next;
};

const EMPTY: IngestState = Object.freeze({
  transcripts: Object.freeze({}),
  aliases: Object.freeze([]),
  recentToolUses: Object.freeze([]),
  recentCompactions: Object.freeze([]),
  lastResumeKey: undefined,
  toolFailures: Object.freeze({}),
});

/**
 * The ingest projection: O(1) per event, whatever the history (the lists are
 * bounded; a transcript read replaces its file's cursor). A fork keeps its
 * parent's, so it goes on reading where the parent left.
 */
export const ingestProjection: Projection<IngestState> = {
  name: 'ingest',
  initialState: () => EMPTY,
  evolve(state, event: StoredEvent) {
    switch (event.type) {
      case 'TranscriptRead':
        return {
          ...state,
          transcripts: { ...state.transcripts, [event.data.file]: { ...event.data, at: event.meta.at, version: event.version } },
        };
      case 'TaskAdded':
      case 'TaskTransitioned':
      case 'TaskDeleted':
        return event.data.toolUseId === undefined ? state : { ...state, recentToolUses: remember(state.recentToolUses, event.data.toolUseId, RECENT_TOOL_USES) };
      case 'ToolCallFailed': {
        const { toolUseId, taskId = '', error, tool } = event.data;
        const failures = state.toolFailures[taskId];
        return {
          ...state,
          recentToolUses: toolUseId === undefined ? state.recentToolUses : remember(state.recentToolUses, toolUseId, RECENT_TOOL_USES),
          toolFailures: { ...state.toolFailures, [taskId]: { count: (failures?.count ?? 0) + 1, lastError: error, lastTool: tool, at: event.meta.at } },
        };
      }
      case 'ContextCompacted':
        return event.data.compactionId === undefined
          ? state
          : { ...state, recentCompactions: remember(state.recentCompactions, event.data.compactionId, RECENT_COMPACTIONS) };
      case 'SessionResumed':
        return event.data.key === undefined ? state : { ...state, lastResumeKey: event.data.key };
      case 'SessionAliasAdded':
        return state.aliases.includes(event.data.alias) ? state : { ...state, aliases: [...state.aliases, event.data.alias] };
      default:
        return state;
    }
  },
};

/** An ingest state from its JSON form (a snapshot or checkpoint); a view written before there was one has none. */
export function ingestStateFromJson(json: unknown): IngestState {
  if (typeof json !== 'object' || json === null) return EMPTY;
  const plain = json as Partial<IngestState>;
  return {
    transcripts: plain.transcripts ?? {},
    aliases: plain.aliases ?? [],
    recentToolUses: plain.recentToolUses ?? [],
    recentCompactions: plain.recentCompactions ?? [],
    // JSON drops undefined keys; views keep every key.
    lastResumeKey: plain.lastResumeKey,
    toolFailures: plain.toolFailures ?? {},
  };
}
