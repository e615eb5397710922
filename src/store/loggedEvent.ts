import type { StoredEvent } from '../events/envelope.js';
import type { UpcasterRegistry } from '../events/upcasters.js';
import { parseStoredEvent } from '../events/validate.js';
import { CorruptLogError, isInvalidEventError } from '../errors.js';

/**
 * The event a line of the log holds, validated and upcast. A line whose
 * checksum is right but which is no valid event (an unknown type, a field of
 * the wrong kind) is the log's damage, not the reader's bad input: a
 * `CorruptLogError` naming the file and line, with the event's problem as
 * its reason and cause.
 */
export function parseLoggedEvent(value: unknown, file: string, line: number, upcasters?: UpcasterRegistry): StoredEvent {
  try {
    return parseStoredEvent(value, () => `${file}:${line}`, upcasters);
  } catch (error) {
    if (isInvalidEventError(error)) throw new CorruptLogError(file, line, error.reason, { cause: error });
    throw error;
  }
}
