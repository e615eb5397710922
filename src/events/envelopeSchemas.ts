import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { ID_PATTERN_SOURCE, MAX_ID_LENGTH } from '../validation/ids.js';
import { CURRENT_SCHEMA_VERSIONS, type EventType } from './eventTypes.js';
import { EVENT_DATA_SCHEMAS } from './schemas.js';

/*
 * The envelope schemas: what every event carries around its data, as read
 * back from a store and as handed to `append`. Like the data schemas they are
 * compiled at build time (scripts/generateValidators.ts); only the build and
 * the generator's test import this module.
 */

/** `meta`: when, and who caused the event. */
export const MetaSchema = Type.Object(
  {
    at: Type.String({ minLength: 1 }),
    agent: Type.Optional(Type.String()),
    causationId: Type.Optional(Type.String()),
    correlationId: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

// A stream name is an id: it goes into file names and SQL.
const StreamName = Type.String({ pattern: ID_PATTERN_SOURCE });

/** The envelope of a stored event, its data unchecked: for the message about an event that fails its whole check. */
export const StoredEnvelopeSchema = Type.Object(
  {
    position: Type.Integer({ minimum: 1 }),
    stream: StreamName,
    version: Type.Integer({ minimum: 1 }),
    id: Type.String({ minLength: 1 }),
    type: Type.String({ minLength: 1 }),
    schemaVersion: Type.Integer({ minimum: 1 }),
    meta: MetaSchema,
    data: Type.Unknown(),
  },
  { additionalProperties: false },
);

/** The envelope of an event about to be appended, its data unchecked. */
export const NewEnvelopeSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH }),
    type: Type.String({ minLength: 1 }),
    schemaVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    meta: MetaSchema,
    data: Type.Unknown(),
  },
  { additionalProperties: false },
);

/** A whole stored event of `type` at its current schema version: envelope and data in one check. */
export function storedEventSchema(type: EventType): TObject {
  return Type.Object(
    {
      position: Type.Integer({ minimum: 1 }),
      stream: StreamName,
      version: Type.Integer({ minimum: 1 }),
      id: Type.String({ minLength: 1 }),
      type: Type.Literal(type),
      schemaVersion: Type.Literal(CURRENT_SCHEMA_VERSIONS[type]),
      meta: MetaSchema,
      data: EVENT_DATA_SCHEMAS[type] as TSchema,
    },
    { additionalProperties: false },
  );
}

/** A whole new event of `type`: envelope and data in one check. */
export function newEventSchema(type: EventType): TObject {
  return Type.Object(
    {
      id: Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH }),
      type: Type.Literal(type),
      schemaVersion: Type.Optional(Type.Literal(CURRENT_SCHEMA_VERSIONS[type])),
      meta: MetaSchema,
      data: EVENT_DATA_SCHEMAS[type] as TSchema,
    },
    { additionalProperties: false },
  );
}
