import type { SessionEventBody } from '../events/eventTypes.js';
import { InvalidArgumentError, CommandRejectedError } from '../errors.js';
import {
  contextItemText,
  findContextItem,
  type ContextItem,
  type ContextKind,
  type ContextState,
  type ContextTier,
} from '../projections/contextItems.js';
import { idProblem, idRule, isValidId, showId } from '../validation/ids.js';
import { clipText } from '../util/clipText.js';

/*
 * The decisions about context items, pure: which events a context command
 * (or a compaction, or an accepted handoff) gives against a session's
 * current items. `decide` calls these; nothing here does I/O.
 */

/** The tiers, for checks and messages. */
export const CONTEXT_TIER_NAMES: readonly ContextTier[] = ['critical', 'supporting', 'temporary'];
/** The kinds, for checks and messages. */
export const CONTEXT_KIND_NAMES: readonly ContextKind[] = ['objective', 'constraint', 'preference', 'summary', 'note'];

/** The tag of the supporting item a compaction's summary becomes. */
export const COMPACTION_SUMMARY_TAG = 'compaction-summary';

/** The most characters a context item's text, or its value written as JSON, may have. */
export const MAX_CONTEXT_TEXT = 100_000;

/** What a context item holds: its text, or a JSON value. */
export interface ContextContent {
  text?: string;
  value?: unknown;
}

/** Refuse an id or tag that is not one (the same rule as every id: it goes into the log and file names). */
export function checkContextName(label: 'Context item id' | 'Context tag', value: unknown): asserts value is string {
  if (isValidId('task', value)) return;
  throw new InvalidArgumentError(
    `${label} ${showId(value)} is not valid: ${idProblem('task', value) ?? 'it does not match the id rule'}. Use ${idRule('task')}.`,
  );
}

function checkTier(tier: unknown): asserts tier is ContextTier {
  if (!(CONTEXT_TIER_NAMES as readonly unknown[]).includes(tier)) {
    throw new InvalidArgumentError(`A context item's tier is one of ${CONTEXT_TIER_NAMES.join(', ')}; got ${JSON.stringify(tier)}.`);
  }
}

function checkKind(kind: unknown): asserts kind is ContextKind {
  if (!(CONTEXT_KIND_NAMES as readonly unknown[]).includes(kind)) {
    throw new InvalidArgumentError(`A context item's kind is one of ${CONTEXT_KIND_NAMES.join(', ')}; got ${JSON.stringify(kind)}.`);
  }
}

function checkTokens(tokens: unknown): void {
  if (tokens !== undefined && (!Number.isSafeInteger(tokens) || (tokens as number) < 0)) {
    throw new InvalidArgumentError(`A context item's size is a whole number of tokens, 0 or more; got ${String(tokens)}.`);
  }
}

/** Exactly one of text (not blank) and a JSON value, within {@link MAX_CONTEXT_TEXT}. */
function checkContent(content: ContextContent, what: string, required: boolean): void {
  const hasText = content.text !== undefined;
  const hasValue = content.value !== undefined;
  if (hasText && hasValue) throw new InvalidArgumentError(`${what} holds text or a JSON value, not both.`);
  if (!hasText && !hasValue) {
    if (required) throw new InvalidArgumentError(`${what} needs its text (or a JSON value).`);
    return;
  }
  if (hasText) {
    if (typeof content.text !== 'string' || content.text.trim() === '') throw new InvalidArgumentError(`${what} needs a text that is not blank.`);
    if (content.text.length > MAX_CONTEXT_TEXT) {
      throw new InvalidArgumentError(`${what} has ${content.text.length} characters, more than ${MAX_CONTEXT_TEXT}: shorten or summarise it.`);
    }
    return;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(content.value);
  } catch (error) {
    throw new InvalidArgumentError(`${what}'s value cannot be written as JSON: ${(error as Error).message}.`);
  }
  if (json === undefined) throw new InvalidArgumentError(`${what}'s value cannot be written as JSON (it is ${typeof content.value}).`);
  if (json.length > MAX_CONTEXT_TEXT) {
    throw new InvalidArgumentError(`${what}'s value is ${json.length} characters of JSON, more than ${MAX_CONTEXT_TEXT}: shorten or summarise it.`);
  }
}

const sameContent = (item: ContextItem, content: ContextContent): boolean =>
  content.text !== undefined ? item.text === content.text : item.text === undefined && JSON.stringify(item.value) === JSON.stringify(content.value);

/** The item an id or tag names, or a refusal that lists the items there are. */
export function requireContextItem(context: ContextState, sessionId: string, ref: string): ContextItem {
  const item = findContextItem(context, ref);
  if (item !== undefined) return item;
  checkContextName('Context item id', ref);
  // Tags are what a person types; an item without one is named by its id.
  const known = [...context.items.values()].map((i) => i.tag ?? i.itemId);
  throw new CommandRejectedError(
    `Session ${sessionId} has no context item with the id or tag ${JSON.stringify(ref)}` +
      (known.length > 0 ? `; its items are ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''}.` : '; it has no context items.'),
  );
}

/** Input of {@link recordContextItem}: a `RecordContextItem` command's fields. */
export interface RecordContextItemInput extends ContextContent {
  itemId: string;
  tier: ContextTier;
  kind?: ContextKind;
  tag?: string;
  tokens?: number;
  source?: string;
}

/**
 * The events of recording an item: `ContextItemRecorded`; or, when a current
 * item has the tag, `ContextItemUpdated` of that item (nothing when it already
 * holds the same tier, kind and content).
 */
export function recordContextItem(context: ContextState, sessionId: string, input: RecordContextItemInput): SessionEventBody[] {
  checkContextName('Context item id', input.itemId);
  checkTier(input.tier);
  if (input.kind !== undefined) checkKind(input.kind);
  if (input.tag !== undefined) checkContextName('Context tag', input.tag);
  checkTokens(input.tokens);
  checkContent(input, `Context item ${input.tag ?? input.itemId}`, true);
  if (input.source !== undefined && input.source.length > 200) {
    throw new InvalidArgumentError(`A context item's source is at most 200 characters; got ${input.source.length}.`);
  }
  const tagged = input.tag === undefined ? undefined : findTagged(context, input.tag);
  if (tagged !== undefined) {
    if (tagged.tier === input.tier && (input.kind === undefined || tagged.kind === input.kind) && sameContent(tagged, input)) {
      return input.tokens === undefined || input.tokens === tagged.tokens ? [] : [updated(tagged.itemId, { tokens: input.tokens })];
    }
    const changes: Omit<UpdateContextItemInput, 'item'> = { tier: input.tier };
    if (input.kind !== undefined) changes.kind = input.kind;
    if (input.text !== undefined) changes.text = input.text;
    else changes.value = input.value;
    if (input.tokens !== undefined) changes.tokens = input.tokens;
    return [updated(tagged.itemId, changes)];
  }
  if (context.items.has(input.itemId)) {
    throw new CommandRejectedError(`Session ${sessionId} already has a context item ${input.itemId}; pick another id, or update it.`);
  }
  const data: Extract<SessionEventBody, { type: 'ContextItemRecorded' }>['data'] = { itemId: input.itemId, tier: input.tier };
  if (input.kind !== undefined) data.kind = input.kind;
  if (input.tag !== undefined) data.tag = input.tag;
  if (input.text !== undefined) data.text = input.text;
  else data.value = input.value;
  if (input.tokens !== undefined) data.tokens = input.tokens;
  if (input.source !== undefined) data.source = input.source;
  return [{ type: 'ContextItemRecorded', data }];
}

const findTagged = (context: ContextState, tag: string): ContextItem | undefined => {
  const id = context.byTag.get(tag);
  return id === undefined ? undefined : context.items.get(id);
};

/** Input of {@link updateContextItem}: the item (id or tag) and what changes. */
export interface UpdateContextItemInput extends ContextContent {
  item: string;
  tier?: ContextTier;
  kind?: ContextKind;
  tokens?: number;
  reason?: string;
}

function updated(itemId: string, changes: Omit<UpdateContextItemInput, 'item'>): SessionEventBody {
  const data: Extract<SessionEventBody, { type: 'ContextItemUpdated' }>['data'] = { itemId };
  if (changes.tier !== undefined) data.tier = changes.tier;
  if (changes.kind !== undefined) data.kind = changes.kind;
  if (changes.text !== undefined) data.text = changes.text;
  else if (changes.value !== undefined) data.value = changes.value;
  if (changes.tokens !== undefined) data.tokens = changes.tokens;
  if (changes.reason !== undefined) data.reason = changes.reason;
  return { type: 'ContextItemUpdated', data };
}

/** The event of changing an item, or nothing when nothing would change. */
export function updateContextItem(context: ContextState, sessionId: string, input: UpdateContextItemInput): SessionEventBody[] {
  const item = requireContextItem(context, sessionId, input.item);
  if (input.tier !== undefined) checkTier(input.tier);
  if (input.kind !== undefined) checkKind(input.kind);
  checkTokens(input.tokens);
  checkContent(input, `Context item ${item.tag ?? item.itemId}`, false);
  const changes: Omit<UpdateContextItemInput, 'item'> = {};
  if (input.tier !== undefined && input.tier !== item.tier) changes.tier = input.tier;
  if (input.kind !== undefined && input.kind !== item.kind) changes.kind = input.kind;
  if ((input.text !== undefined || input.value !== undefined) && !sameContent(item, input)) {
    if (input.text !== undefined) changes.text = input.text;
    else changes.value = input.value;
  }
  if (input.tokens !== undefined && input.tokens !== item.tokens) changes.tokens = input.tokens;
  if (Object.keys(changes).length === 0) return [];
  if (input.reason !== undefined) changes.reason = input.reason;
  return [updated(item.itemId, changes)];
}

/** The event of dropping an item named by id or tag. */
export function dropContextItem(context: ContextState, sessionId: string, ref: string, reason?: string): SessionEventBody[] {
  const item = requireContextItem(context, sessionId, ref);
  const data: Extract<SessionEventBody, { type: 'ContextItemDropped' }>['data'] = { itemId: item.itemId };
  if (reason !== undefined) data.reason = reason;
  return [{ type: 'ContextItemDropped', data }];
}

/**
 * What a compaction does to the items: every temporary item not in `keep`
 * (ids or tags) is dropped; the summary, when there is one, becomes the
 * supporting item tagged {@link COMPACTION_SUMMARY_TAG} (recorded with
 * `summaryItemId`, or the existing one updated). Critical and supporting
 * items stay as they are.
 */
export function compactionContextEvents(
  context: ContextState,
  trigger: string,
  summary: string | undefined,
  summaryItemId: string | undefined,
  keep: readonly string[] = [],
): SessionEventBody[] {
  const kept = new Set<string>();
  for (const ref of keep) {
    const item = findContextItem(context, ref);
    if (item !== undefined) kept.add(item.itemId);
  }
  const events: SessionEventBody[] = [];
  for (const item of [...context.items.values()].sort((a, b) => a.recordedVersion - b.recordedVersion)) {
    if (item.tier === 'temporary' && !kept.has(item.itemId)) {
      events.push({ type: 'ContextItemDropped', data: { itemId: item.itemId, reason: `compaction (${trigger})`.slice(0, 10_000) } });
    }
  }
  if (summary !== undefined && summary.trim() !== '') {
    const text = clipText(summary, MAX_CONTEXT_TEXT);
    const existing = findTagged(context, COMPACTION_SUMMARY_TAG);
    if (existing !== undefined) {
      if (contextItemText(existing) !== text || existing.tier !== 'supporting') {
        events.push(updated(existing.itemId, { tier: 'supporting', text, reason: `compaction (${trigger})`.slice(0, 10_000) }));
      }
    } else if (summaryItemId !== undefined && !context.items.has(summaryItemId)) {
      events.push({
        type: 'ContextItemRecorded',
        data: { itemId: summaryItemId, tier: 'supporting', kind: 'summary', tag: COMPACTION_SUMMARY_TAG, text, source: 'compaction' },
      });
    }
  }
  return events;
}

/** What an accepted handoff does to the items: the temporary ones were the sender's, and are dropped. */
export function handoffContextEvents(context: ContextState, handoffId: string): SessionEventBody[] {
  return [...context.items.values()]
    .filter((item) => item.tier === 'temporary')
    .sort((a, b) => a.recordedVersion - b.recordedVersion)
    .map((item) => ({ type: 'ContextItemDropped' as const, data: { itemId: item.itemId, reason: `handoff ${handoffId}` } }));
}
