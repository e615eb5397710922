import type { Observable } from 'rxjs';
import type { NewEvent, StoredEvent } from '../events/envelope.js';
import { StoreClosedError } from '../errors.js';
import { checkReadBounds } from './readBounds.js';
import { acceptNewEvents, toStoredEvent } from './toStoredEvent.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  StreamInfo,
  SubscribeOptions,
} from './eventStore.js';
import { checkExpectedVersion } from './expectedVersion.js';
import { LiveEvents } from './liveEvents.js';
import { catchUpThenFollow } from './subscription.js';

/**
 * An {@link EventStore} in memory: for tests and short-lived embedding.
 * Like every store, it takes ownership of the events it is given and freezes
 * them, so what is stored can never change afterwards.
 *
 * @example
 * const store = createMemoryEventStore();
 * const engine = await createEngine({ store });
 */
export function createMemoryEventStore(): EventStore {
  const all: StoredEvent[] = [];
  const streams = new Map<string, { events: StoredEvent[]; first: number }>();
  const live = new LiveEvents();
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new StoreClosedError();
  };

  return {
    async append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
      ensureOpen();
      acceptNewEvents(stream, events);
      const existing = streams.get(stream);
      const version = existing?.events.length ?? 0;
      checkExpectedVersion(stream, options.expectedVersion ?? 'any', version);
      const stored = events.map((event, index) => toStoredEvent(event, stream, version + index + 1, all.length + index + 1));
      if (stored.length === 0) return { stream, nextExpectedVersion: version, events: [] };
      const entry = existing ?? { events: [], first: stored[0]!.position };
      if (existing === undefined) streams.set(stream, entry);
      for (const event of stored) {
        all.push(event);
        entry.events.push(event);
      }
      if (live.observed) for (const event of stored) live.next(event);
      return { stream, nextExpectedVersion: version + stored.length, events: stored };
    },

    async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<StoredEvent> {
      ensureOpen();
      checkReadBounds({ fromVersion: options.fromVersion, toVersion: options.toVersion });
      const events = streams.get(stream)?.events ?? [];
      const from = Math.max(1, options.fromVersion ?? 1);
      const to = Math.min(events.length, options.toVersion ?? events.length);
      for (let version = from; version <= to; version++) yield events[version - 1]!;
    },

    async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
      ensureOpen();
      checkReadBounds({ fromPosition: options.fromPosition, toPosition: options.toPosition });
      const from = Math.max(1, options.fromPosition ?? 1);
      for (let position = from; position <= all.length; position++) {
        if (options.toPosition !== undefined && position > options.toPosition) return;
        yield all[position - 1]!;
      }
    },

    async *readAllBatches(options: ReadAllOptions = {}): AsyncIterable<readonly StoredEvent[]> {
      ensureOpen();
      checkReadBounds({ fromPosition: options.fromPosition, toPosition: options.toPosition });
      const from = Math.max(1, options.fromPosition ?? 1);
      const to = Math.min(all.length, options.toPosition ?? all.length);
      for (let start = from; start <= to; start += 1000) yield all.slice(start - 1, Math.min(to, start + 999));
    },

    async streamVersion(stream: string): Promise<number> {
      ensureOpen();
      return streams.get(stream)?.events.length ?? 0;
    },

    async listStreams(): Promise<StreamInfo[]> {
      ensureOpen();
      return [...streams].map(([stream, entry]) => ({
        stream,
        version: entry.events.length,
        firstPosition: entry.first,
        lastPosition: entry.events.at(-1)!.position,
      }));
    },

    async headPosition(): Promise<number> {
      ensureOpen();
      return all.length;
    },

    subscribe(options: SubscribeOptions = {}): Observable<StoredEvent> {
      ensureOpen();
      return catchUpThenFollow(options, (o) => this.readAll(o), live);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      live.complete();
    },
  };
}
