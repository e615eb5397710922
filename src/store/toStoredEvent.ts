import type { NewEvent, StoredEvent } from '../events/envelope.js';
import { CURRENT_SCHEMA_VERSIONS } from '../events/schemas.js';
import { deepFreeze } from '../util/deepFreeze.js';

/**
 * The stored form of a validated new event, frozen. Its keys come in the
 * order the file log writes them. Stores take ownership of appended events:
 * `data` and `meta` are frozen in place rather than copied, so an append
 * costs no deep copy and nobody can change an event once it is stored.
 */
export function toStoredEvent(event: NewEvent, stream: string, version: number, position: number): StoredEvent {
  return deepFreeze({
    position,
    stream,
    version,
    id: event.id,
    type: event.type,
    schemaVersion: CURRENT_SCHEMA_VERSIONS[event.type],
    meta: event.meta,
    data: event.data,
  } as StoredEvent);
}
