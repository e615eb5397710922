import { ID_PATTERN, SESSION_STREAM_PREFIX } from '../validation/ids.js';
import type { EventData, EventType, SessionEventBody } from './eventTypes.js';

/** Who and when: the metadata every stored event carries. */
export interface EventMeta {
  /** When the event happened, ISO-8601 from the engine's clock. */
  at: string;
  /** The agent that caused it, when one did. */
  agent?: string;
  /** The id of the event or command that caused this one. */
  causationId?: string;
  /** The id shared by every event of one unit of work (a command, a recovery). */
  correlationId?: string;
}

/**
 * An event as it is stored: the envelope around one `SessionEventBody`.
 * `version` counts from 1 within a stream; `position` orders all events of a store.
 */
export type StoredEvent<TBody extends SessionEventBody = SessionEventBody> = TBody & {
  id: string;
  stream: string;
  version: number;
  position: number;
  schemaVersion: number;
  meta: EventMeta;
};

/** A stored event of one type. */
export type StoredEventOf<T extends EventType> = StoredEvent<Extract<SessionEventBody, { type: T }>>;

/** An event ready to append: the store gives it its version and position. */
export type NewEvent<TBody extends SessionEventBody = SessionEventBody> = TBody & {
  id: string;
  meta: EventMeta;
  /** Defaults to the type's current schema version. */
  schemaVersion?: number;
};

/** Build a {@link NewEvent}; handy in tests and embedders that write events directly. */
export function newEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  meta: EventMeta,
  id: string,
): NewEvent {
  return { type, data, meta, id } as NewEvent;
}

/** The stream name of a session: `session-<sessionId>`. */
export const sessionStream = (sessionId: string): string => `${SESSION_STREAM_PREFIX}${sessionId}`;

/** The session id in a `session-<sessionId>` stream name, or undefined for another stream. */
export const sessionIdOfStream = (stream: string): string | undefined =>
  stream.startsWith(SESSION_STREAM_PREFIX) ? stream.slice(SESSION_STREAM_PREFIX.length) : undefined;

/** What a stream name may look like: an id (`validation/ids.ts`), since it is also written into file names and SQL. */
export const STREAM_NAME_PATTERN = ID_PATTERN;
