import type { NewEvent, StoredEvent } from '../events/envelope.js';
import { CURRENT_SCHEMA_VERSIONS } from '../events/eventTypes.js';
import { validateNewEvents } from '../events/validate.js';
import { deepFreeze } from '../util/deepFreeze.js';

/**
 * Check the events of an append and take ownership of them: they are
 * validated, then frozen in place rather than copied, so an append costs no
 * deep copy and what was validated is what gets stored.
 */
export function acceptNewEvents(stream: string, events: readonly NewEvent[]): void {
  validateNewEvents(stream, events);
  for (const event of events) deepFreeze(event);
}

/**
 * The stored form of an accepted (validated and frozen) new event, frozen.
 * Its keys come in the order the file log writes them.
 */
export function toStoredEvent(event: NewEvent, stream: string, version: number, position: number): StoredEvent {
  return Object.freeze({
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
