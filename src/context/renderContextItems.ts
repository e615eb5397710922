import { contextItemText, type ContextItem, type ContextTier } from '../projections/contextItems.js';

/**
 * One context item as one line of text for an agent to read:
 * `[critical constraint] must_use_pytest: Tests use pytest`. Line breaks in
 * the text are kept as ` / ` so that each item stays one line.
 */
export function contextItemLine(item: ContextItem): string {
  const label = item.kind === undefined ? item.tier : `${item.tier} ${item.kind}`;
  const text = contextItemText(item).replace(/\s*\r?\n\s*/g, ' / ').trim();
  return `[${label}] ${item.tag === undefined ? '' : `${item.tag}: `}${text}`;
}

/**
 * The items of the given tiers (all by default) as text, one line each, in
 * the order given (`contextItemsInOrder` gives the most important first).
 * Empty when there are none.
 */
export function renderContextItems(items: readonly ContextItem[], tiers?: readonly ContextTier[]): string {
  return items
    .filter((item) => tiers === undefined || tiers.includes(item.tier))
    .map(contextItemLine)
    .join('\n');
}
