import { Type } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { InvalidEventError } from '../errors.js';
import type { NewEvent, StoredEvent } from './envelope.js';
import { STREAM_NAME_PATTERN } from './envelope.js';
import { CURRENT_SCHEMA_VERSIONS, EVENT_DATA_SCHEMAS, isEventType, type EventType } from './schemas.js';
import { UpcasterRegistry } from './upcasters.js';

const MetaSchema = Type.Object(
  {
    at: Type.String({ minLength: 1 }),
    agent: Type.Optional(Type.String()),
    causationId: Type.Optional(Type.String()),
    correlationId: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const StoredEnvelopeSchema = Type.Object(
  {
    position: Type.Integer({ minimum: 1 }),
    stream: Type.String({ pattern: STREAM_NAME_PATTERN.source }),
    version: Type.Integer({ minimum: 1 }),
    id: Type.String({ minLength: 1 }),
    type: Type.String({ minLength: 1 }),
    schemaVersion: Type.Integer({ minimum: 1 }),
    meta: MetaSchema,
    data: Type.Unknown(),
  },
  { additionalProperties: false },
);

const NewEnvelopeSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.String({ minLength: 1 }),
    schemaVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    meta: MetaSchema,
    data: Type.Unknown(),
  },
  { additionalProperties: false },
);

const storedEnvelopeCheck = TypeCompiler.Compile(StoredEnvelopeSchema);
const newEnvelopeCheck = TypeCompiler.Compile(NewEnvelopeSchema);
const dataChecks = new Map<string, TypeCheck<never>>(
  Object.entries(EVENT_DATA_SCHEMAS).map(([type, schema]) => [type, TypeCompiler.Compile(schema) as TypeCheck<never>]),
);

function firstError(check: TypeCheck<never>, value: unknown, prefix: string): string {
  const error = check.Errors(value).First();
  if (error === undefined) return 'does not match its schema';
  const path = `${prefix}${error.path}` || '(root)';
  const message = (error.type === ValueErrorType.Union ? allowedValues(error.schema) : undefined) ?? error.message;
  return `${path}: ${message} (got ${JSON.stringify(error.value) ?? 'undefined'})`;
}

/** For a choice of literal values (a task state, a threshold level), the values it allows, spelled out. */
function allowedValues(schema: unknown): string | undefined {
  const choices = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (choices === undefined || choices.length === 0 || !choices.every((choice) => 'const' in choice)) return undefined;
  return `Expected one of ${choices.map((choice) => JSON.stringify(choice.const)).join(', ')}`;
}

function checkData(type: string, data: unknown, where: string): asserts type is EventType {
  if (!isEventType(type)) {
    throw new InvalidEventError(where, `unknown event type ${JSON.stringify(type)}`);
  }
  const check = dataChecks.get(type)!;
  if (!check.Check(data)) throw new InvalidEventError(where, `${type} ${firstError(check, data, 'data')}`);
}

const defaultRegistry = new UpcasterRegistry();

/** One compiled check per event type of a whole stored event at its current schema version. */
const storedEventChecks = new Map<string, TypeCheck<never>>(
  Object.entries(EVENT_DATA_SCHEMAS).map(([type, schema]) => [
    type,
    TypeCompiler.Compile(
      Type.Object(
        {
          position: Type.Integer({ minimum: 1 }),
          stream: Type.String({ pattern: STREAM_NAME_PATTERN.source }),
          version: Type.Integer({ minimum: 1 }),
          id: Type.String({ minLength: 1 }),
          type: Type.Literal(type),
          schemaVersion: Type.Literal(CURRENT_SCHEMA_VERSIONS[type as EventType]),
          meta: MetaSchema,
          data: schema,
        },
        { additionalProperties: false },
      ),
    ) as TypeCheck<never>,
  ]),
);

/**
 * Validate an event read back from a store and upcast it to the current schema.
 * `place` names where it is (file and line, table row) for the error message;
 * a function is only called when the event is bad.
 */
export function parseStoredEvent(
  value: unknown,
  place: string | (() => string),
  upcasters: UpcasterRegistry = defaultRegistry,
): StoredEvent {
  // The fast path: one compiled check of a current-version event, envelope and data.
  if (storedEventChecks.get((value as { type?: unknown } | null)?.type as string)?.Check(value) === true) {
    return value as StoredEvent;
  }
  // Only an event that fails needs its place spelled out.
  const where = typeof place === 'string' ? place : place();
  if (!storedEnvelopeCheck.Check(value)) {
    throw new InvalidEventError(where, `envelope ${firstError(storedEnvelopeCheck as TypeCheck<never>, value, '')}`);
  }
  const event = value as StoredEvent;
  const type: string = event.type;
  if (!isEventType(type)) throw new InvalidEventError(where, `unknown event type ${JSON.stringify(type)}`);
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

/** One compiled check per event type of a whole new event: envelope and data together. */
const newEventChecks = new Map<string, TypeCheck<never>>(
  Object.entries(EVENT_DATA_SCHEMAS).map(([type, schema]) => [
    type,
    TypeCompiler.Compile(
      Type.Object(
        {
          id: Type.String({ minLength: 1, maxLength: 200 }),
          type: Type.Literal(type),
          schemaVersion: Type.Optional(Type.Literal(CURRENT_SCHEMA_VERSIONS[type as EventType])),
          meta: MetaSchema,
          data: schema,
        },
        { additionalProperties: false },
      ),
    ) as TypeCheck<never>,
  ]),
);

/**
 * Validate events about to be appended, so a bad event is refused before
 * anything is written. One compiled check per event on the fast path; the
 * detailed message is worked out only for an event that fails.
 */
export function validateNewEvents(stream: string, events: readonly NewEvent[]): void {
  if (!STREAM_NAME_PATTERN.test(stream)) {
    throw new InvalidEventError(
      `stream ${JSON.stringify(stream)}`,
      'a stream name is 1 to 200 letters, digits, dots, colons, underscores or dashes, starting with a letter or digit',
    );
  }
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    if (newEventChecks.get((event as { type?: unknown }).type as string)?.Check(event) === true) continue;
    explainInvalidNewEvent(event, `${stream} (event ${index + 1} of the append)`);
  }
}

function explainInvalidNewEvent(event: NewEvent, where: string): never {
  if (!newEnvelopeCheck.Check(event)) {
    throw new InvalidEventError(where, `envelope ${firstError(newEnvelopeCheck as TypeCheck<never>, event, '')}`);
  }
  const type: string = event.type;
  checkData(type, event.data, where);
  throw new InvalidEventError(
    where,
    `${type} is written at schema version ${CURRENT_SCHEMA_VERSIONS[type]}, not ${String(event.schemaVersion)}`,
  );
}
