import type { StoredEvent } from '../events/envelope.js';
import { PersistentMap } from './persistentMap.js';
import type { Projection } from './projection.js';

/**
 * The tier of a context item, as the product's "structured context
 * architecture" names them: `critical` is always kept (objectives,
 * constraints, the user's preferences), `supporting` is kept if space allows
 * (related history, references, a compaction's summary), `temporary` is
 * dropped when not needed (raw tool output, intermediate results).
 */
export type ContextTier = 'critical' | 'supporting' | 'temporary';

/** What a context item is. */
export type ContextKind = 'objective' | 'constraint' | 'preference' | 'summary' | 'note';

/**
 * One context item as the log tells it. Every key is always present
 * (undefined when not known), so every item has one shape.
 */
export interface ContextItem {
  itemId: string;
  tier: ContextTier;
  kind: ContextKind | undefined;
  /** A name unique among the session's current items (`user_language`, `must_use_pytest`). */
  tag: string | undefined;
  /** The item's text; undefined when it holds a JSON value instead. */
  text: string | undefined;
  /** The item's JSON value; undefined when it holds text. */
  value: unknown;
  /** Its size in tokens, when known. */
  tokens: number | undefined;
  /** Where it came from: `compaction`, `handoff:<id>`, `cli`, ... */
  source: string | undefined;
  recordedAt: string;
  updatedAt: string;
  /** The stream version it was recorded at: items are listed in this order. */
  recordedVersion: number;
  /** The stream version of its last change. */
  version: number;
}

/** The session's last handoff as its context keeps it: who handed to whom, the summary the package carried, how it ended. */
export interface LastHandoff {
  handoffId: string;
  fromAgent: string;
  toAgent: string;
  /** The package's `context_snapshot.summary`, when it had one. */
  summary: string | undefined;
  requestedAt: string;
  status: 'pending' | 'accepted' | 'rejected';
}

/** The current context items of a session, by id, the id each tag names, and the last handoff. */
export interface ContextState {
  items: ReadonlyMap<string, ContextItem>;
  byTag: ReadonlyMap<string, string>;
  /** The last handoff requested in the session, if any (a fork keeps its parent's). */
  lastHandoff: LastHandoff | undefined;
}

const itemsOf = (state: ContextState) => state.items as PersistentMap<string, ContextItem>;
const tagsOf = (state: ContextState) => state.byTag as PersistentMap<string, string>;

/**
 * The context-items projection: the items recorded and not dropped, each as
 * it was last updated. Persistent maps: one item's change is O(1), and every
 * older view keeps its own items (time travel). A fork keeps its parent's
 * items at the fork: it goes on with the same work.
 */
export const contextItemsProjection: Projection<ContextState> = {
  name: 'context',
  initialState: () => ({ items: PersistentMap.empty<string, ContextItem>(), byTag: PersistentMap.empty<string, string>(), lastHandoff: undefined }),
  evolve(state, event: StoredEvent) {
    switch (event.type) {
      case 'ContextItemRecorded': {
        const data = event.data;
        if (state.items.has(data.itemId)) return state;
        const item: ContextItem = {
          itemId: data.itemId,
          tier: data.tier,
          kind: data.kind,
          tag: data.tag,
          text: data.text,
          value: data.text === undefined ? data.value : undefined,
          tokens: data.tokens,
          source: data.source,
          recordedAt: event.meta.at,
          updatedAt: event.meta.at,
          recordedVersion: event.version,
          version: event.version,
        };
        return {
          items: itemsOf(state).set(item.itemId, item),
          byTag: item.tag === undefined ? state.byTag : tagsOf(state).set(item.tag, item.itemId),
          lastHandoff: state.lastHandoff,
        };
      }
      case 'ContextItemUpdated': {
        const data = event.data;
        const previous = state.items.get(data.itemId);
        if (previous === undefined) return state;
        const newText = data.text !== undefined;
        const newValue = !newText && Object.hasOwn(data, 'value') && data.value !== undefined;
        const item: ContextItem = {
          ...previous,
          tier: data.tier ?? previous.tier,
          kind: data.kind ?? previous.kind,
          text: newText ? data.text : newValue ? undefined : previous.text,
          value: newText ? undefined : newValue ? data.value : previous.value,
          // A size given goes; a new content without one makes the old size unknown.
          tokens: data.tokens ?? (newText || newValue ? undefined : previous.tokens),
          updatedAt: event.meta.at,
          version: event.version,
        };
        return { items: itemsOf(state).set(item.itemId, item), byTag: state.byTag, lastHandoff: state.lastHandoff };
      }
      case 'ContextItemDropped': {
        const previous = state.items.get(event.data.itemId);
        if (previous === undefined) return state;
        return {
          items: itemsOf(state).delete(previous.itemId),
          byTag: previous.tag === undefined ? state.byTag : tagsOf(state).delete(previous.tag),
          lastHandoff: state.lastHandoff,
        };
      }
      case 'HandoffRequested': {
        const snapshot = (event.data.package as { context_snapshot?: { summary?: unknown } }).context_snapshot;
        const summary = typeof snapshot?.summary === 'string' && snapshot.summary.trim() !== '' ? snapshot.summary : undefined;
        const { handoffId, fromAgent, toAgent } = event.data;
        return { ...state, lastHandoff: { handoffId, fromAgent, toAgent, summary, requestedAt: event.meta.at, status: 'pending' } };
      }
      case 'HandoffAccepted':
      case 'HandoffRejected': {
        const last = state.lastHandoff;
        if (last?.handoffId !== event.data.handoffId) return state;
        return { ...state, lastHandoff: { ...last, status: event.type === 'HandoffAccepted' ? 'accepted' : 'rejected' } };
      }
      default:
        return state;
    }
  },
};

/** The tiers from the most important to the least. */
export const CONTEXT_TIER_ORDER: readonly ContextTier[] = ['critical', 'supporting', 'temporary'];

/**
 * The current context items, most important first: by tier (critical,
 * supporting, temporary), then in the order they were recorded.
 */
export function contextItemsInOrder(context: ContextState): ContextItem[] {
  return [...context.items.values()].sort(
    (a, b) => CONTEXT_TIER_ORDER.indexOf(a.tier) - CONTEXT_TIER_ORDER.indexOf(b.tier) || a.recordedVersion - b.recordedVersion,
  );
}

/** The item an id or a tag names among the current items, if any (an id first). */
export function findContextItem(context: ContextState, idOrTag: string): ContextItem | undefined {
  const byId = context.items.get(idOrTag);
  if (byId !== undefined) return byId;
  const id = context.byTag.get(idOrTag);
  return id === undefined ? undefined : context.items.get(id);
}

/** An item's content as text: its text, or its JSON value written as JSON. */
export function contextItemText(item: Pick<ContextItem, 'text' | 'value'>): string {
  if (item.text !== undefined) return item.text;
  return typeof item.value === 'string' ? item.value : (JSON.stringify(item.value) ?? '');
}

/** Rebuild a context state from its JSON form (a checkpoint's state); a state written before context items had none. */
export function contextStateFromJson(json: unknown): ContextState {
  const plain = json as { items?: Record<string, ContextItem>; byTag?: Record<string, string>; lastHandoff?: LastHandoff } | undefined;
  if (plain?.items === undefined) return contextItemsProjection.initialState();
  const last = plain.lastHandoff;
  // JSON drops undefined keys; views keep every key. A state written before the last handoff was kept has none.
  const lastHandoff: LastHandoff | undefined =
    last === undefined
      ? undefined
      : {
          handoffId: last.handoffId,
          fromAgent: last.fromAgent,
          toAgent: last.toAgent,
          summary: last.summary,
          requestedAt: last.requestedAt,
          status: last.status,
        };
  const items = Object.values(plain.items)
    .sort((a, b) => a.recordedVersion - b.recordedVersion)
    .map((item) => [
      item.itemId,
      {
        // JSON drops undefined keys; views keep every key.
        itemId: item.itemId,
        tier: item.tier,
        kind: item.kind,
        tag: item.tag,
        text: item.text,
        value: item.value,
        tokens: item.tokens,
        source: item.source,
        recordedAt: item.recordedAt,
        updatedAt: item.updatedAt,
        recordedVersion: item.recordedVersion,
        version: item.version,
      } satisfies ContextItem,
    ] as const);
  return { items: PersistentMap.of(items), byTag: PersistentMap.of(Object.entries(plain.byTag ?? {})), lastHandoff };
}
