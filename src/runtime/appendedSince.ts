import type { StoredEvent } from '../events/envelope.js';

/**
 * The events of `appended` (what this process appended, in any order) in log
 * order, when they are exactly the log from position `from` to `head`: what
 * a fold that stopped before `from` needs to catch up without reading the
 * log again. Undefined when they are not (another writer's events between
 * them, or some missing): the caller reads the log then.
 */
export function appendedSince(appended: readonly StoredEvent[], from: number, head: number): StoredEvent[] | undefined {
  if (head < from || appended.length < head - from + 1) return undefined;
  const tail = appended.filter((event) => event.position >= from);
  if (tail.length !== head - from + 1) return undefined;
  let ordered = true;
  for (let i = 1; i < tail.length && ordered; i++) ordered = tail[i - 1]!.position < tail[i]!.position;
  if (!ordered) tail.sort((a, b) => a.position - b.position);
  for (let i = 0; i < tail.length; i++) if (tail[i]!.position !== from + i) return undefined;
  return tail;
}
