import type { Observable } from 'rxjs';
import type { NewEvent, StoredEvent } from '../events/envelope.js';

/**
 * What an append expects of the stream: its exact current version (0 for a
 * stream that does not exist yet), `'no_stream'`, `'stream_exists'`, or `'any'`.
 */
export type ExpectedVersion = number | 'any' | 'no_stream' | 'stream_exists';

/** Options of {@link EventStore.append}. */
export interface AppendOptions {
  /** Defaults to `'any'`. Anything else is checked atomically with the write. */
  expectedVersion?: ExpectedVersion;
}

/** What {@link EventStore.append} returns: the stored events and the stream's new version. */
export interface AppendResult {
  stream: string;
  /** The stream's version after the append; pass it as the next `expectedVersion`. */
  nextExpectedVersion: number;
  /** The events as stored, with versions and positions. */
  events: StoredEvent[];
}

/** Options of {@link EventStore.readStream}. */
export interface ReadStreamOptions {
  /** The first version to read; defaults to 1. */
  fromVersion?: number;
  /** The last version to read, inclusive; defaults to the end. */
  toVersion?: number;
}

/** Options of {@link EventStore.readAll}. */
export interface ReadAllOptions {
  /** The first position to read; defaults to 1. */
  fromPosition?: number;
  /** The last position to read, inclusive; defaults to the end. */
  toPosition?: number;
}

/** Options of {@link EventStore.subscribe}. */
export interface SubscribeOptions {
  /** Catch up from this position (default 1), then follow live appends. `'end'` follows live only. */
  fromPosition?: number | 'end';
  /** Only the events of this stream. */
  stream?: string;
}

/** A stream and where it stands. */
export interface StreamInfo {
  stream: string;
  version: number;
  firstPosition: number;
  lastPosition: number;
}

/**
 * The durable event log. Every store (memory, file, PostgreSQL) implements this
 * interface and passes the shared contract suite in `moai-session/testing`.
 */
export interface EventStore {
  /**
   * Append events to one stream, atomically: all of them or none. Checks
   * `expectedVersion` in the same step and throws `ExpectedVersionConflictError`
   * when the stream has moved on; a bad event is refused with `InvalidEventError`.
   */
  append(stream: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /** The events of one stream in version order, validated and upcast. */
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<StoredEvent>;
  /** Every event of the store in position order, validated and upcast. */
  readAll(options?: ReadAllOptions): AsyncIterable<StoredEvent>;
  /**
   * The same events as `readAll`, handed over in arrays: for consumers that
   * fold a whole log (replay), where one await per event would cost more than
   * the fold.
   */
  readAllBatches(options?: ReadAllOptions): AsyncIterable<readonly StoredEvent[]>;
  /** The current version of a stream; 0 when it does not exist. */
  streamVersion(stream: string): Promise<number>;
  /** Every stream, in the order of its first event. */
  listStreams(): Promise<StreamInfo[]>;
  /** The position of the last event; 0 for an empty store. */
  headPosition(): Promise<number>;
  /**
   * The events from a position on: first the stored ones (catch-up), then live
   * appends as they happen, each exactly once and in position order.
   */
  subscribe(options?: SubscribeOptions): Observable<StoredEvent>;
  /** Flush, release locks and complete subscriptions. Further use throws. */
  close(): Promise<void>;
}
