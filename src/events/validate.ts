import { InvalidEventError } from '../errors.js';
import { describeValue } from '../util/describeValue.js';
import { explainSchemaErrors, type JsonSchema } from '../validation/explainSchemaErrors.js';
import { idProblem, idRule, showId } from '../validation/ids.js';
import type { NewEvent, StoredEvent } from './envelope.js';
import { STREAM_NAME_PATTERN } from './envelope.js';
import { CURRENT_SCHEMA_VERSIONS, isEventType, type EventType } from './eventTypes.js';
import {
  checkEventData,
  checkNewEnvelope,
  checkNewEvent,
  checkStoredEnvelope,
  checkStoredEvent,
  eventDataSchemas,
  newEnvelopeSchema,
  storedEnvelopeSchema,
} from './generated/eventChecks.js';
import { UpcasterRegistry } from './upcasters.js';

/*
 * Events are checked against their schemas on append and on read, with the
 * checks `npm run build` generated from `schemas.ts` and `envelopeSchemas.ts`:
 * this module loads no TypeBox. Only an event that fails is explained, by the
 * shared explainer, which loads TypeBox then.
 */

// The checks by type name; a name that is no event type finds no check.
const storedChecks: Readonly<Record<string, ((value: unknown) => boolean) | undefined>> = checkStoredEvent;
const newChecks: Readonly<Record<string, ((value: unknown) => boolean) | undefined>> = checkNewEvent;

/** What is wrong with `value` against `schema`, as the reason of an {@link InvalidEventError} (the first problem only). */
function firstProblem(schema: JsonSchema, value: unknown, prefix: readonly string[], documentName: string): string {
  const [problem] = explainSchemaErrors(schema, value, { documentName, noun: 'field', prefix, limit: 1 });
  // InvalidEventError ends the sentence itself.
  return problem === undefined ? 'does not match its schema' : problem.message.replace(/\.$/, '');
}

function checkData(type: string, data: unknown, where: string): asserts type is EventType {
  if (!isEventType(type)) {
    throw new InvalidEventError(where, `unknown event type ${describeValue(type)}`);
  }
  if (!checkEventData[type](data)) {
    throw new InvalidEventError(where, `${type}: ${firstProblem(eventDataSchemas()[type], data, ['data'], 'data')}`);
  }
}

const defaultRegistry = new UpcasterRegistry();

/**
 * Validate an event read back from a store and upcast it to the current schema.
 * `place` names where it is (file and line, table row) for the error message;
 * a function is only called when the event is bad.
 *
 * @throws {InvalidEventError} naming the place, the field, the value and what is allowed.
 */
export function parseStoredEvent(
  value: unknown,
  place: string | (() => string),
  upcasters: UpcasterRegistry = defaultRegistry,
): StoredEvent {
  // The fast path: one check of a current-version event, envelope and data.
  if (storedChecks[(value as { type?: unknown } | null)?.type as string]?.(value) === true) {
    return value as StoredEvent;
  }
  // Only an event that fails needs its place spelled out.
  const where = typeof place === 'string' ? place : place();
  if (!checkStoredEnvelope(value)) {
    throw new InvalidEventError(where, `envelope: ${firstProblem(storedEnvelopeSchema(), value, [], 'the event')}`);
  }
  const event = value as StoredEvent;
  const type: string = event.type;
  if (!isEventType(type)) throw new InvalidEventError(where, `unknown event type ${describeValue(type)}`);
  if (event.schemaVersion !== CURRENT_SCHEMA_VERSIONS[type]) {
    let result: ReturnType<UpcasterRegistry['upcast']>;
    try {
      result = upcasters.upcast(type, event.schemaVersion, event.data);
    } catch (error) {
      throw new InvalidEventError(where, `upcasting ${type} from schema version ${event.schemaVersion} failed: ${(error as Error).message}`);
    }
    if ('error' in result) throw new InvalidEventError(where, result.error);
    (event as { data: unknown }).data = result.data;
    (event as { schemaVersion: number }).schemaVersion = CURRENT_SCHEMA_VERSIONS[type];
  }
  checkData(type, event.data, where);
  return event;
}

/**
 * Validate events about to be appended, so a bad event is refused before
 * anything is written. One generated check per event on the fast path; the
 * detailed message is worked out only for an event that fails.
 *
 * @throws {InvalidEventError} for a stream name that is not an id, or the
 *   first event that does not match its schema.
 */
export function validateNewEvents(stream: string, events: readonly NewEvent[]): void {
  if (!validStreams.has(stream)) checkStreamName(stream);
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    if (newChecks[(event as { type?: unknown }).type as string]?.(event) === true) continue;
    explainInvalidNewEvent(event, `${stream} (event ${index + 1} of the append)`);
  }
}

// Streams already found valid: an appender writes to few streams, many times each. Bounded, so it never grows unchecked.
const validStreams = new Set<string>();

function checkStreamName(stream: string): void {
  if (!STREAM_NAME_PATTERN.test(stream)) {
    throw new InvalidEventError(
      `stream ${showId(stream)}`,
      `${idProblem('stream', stream) ?? 'it is not an id'}; a stream name is ${idRule('stream')}`,
    );
  }
  if (validStreams.size >= 4_096) validStreams.clear();
  validStreams.add(stream);
}

function explainInvalidNewEvent(event: NewEvent, where: string): never {
  if (!checkNewEnvelope(event)) {
    throw new InvalidEventError(where, `envelope: ${firstProblem(newEnvelopeSchema(), event, [], 'the event')}`);
  }
  const type: string = event.type;
  checkData(type, event.data, where);
  throw new InvalidEventError(
    where,
    `${type} is written at schema version ${CURRENT_SCHEMA_VERSIONS[type]}, not ${String(event.schemaVersion)}`,
  );
}
