import type { StoredEvent } from '../events/envelope.js';
import type { EventStore } from './eventStore.js';

/** The event of `stream` at `version`, if it has one. */
export async function eventAt(store: EventStore, stream: string, version: number): Promise<StoredEvent | undefined> {
  for await (const event of store.readStream(stream, { fromVersion: version, toVersion: version })) return event;
  return undefined;
}
