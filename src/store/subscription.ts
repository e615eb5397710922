import type { Observable } from 'rxjs';
import { rx } from '../util/rx.js';
import type { LiveEvents } from './liveEvents.js';
import type { StoredEvent } from '../events/envelope.js';
import type { ReadAllOptions, SubscribeOptions } from './eventStore.js';
import { checkReadBounds } from './readBounds.js';

/**
 * The catch-up-then-live subscription every store shares: live events that
 * arrive while the stored ones are read are held back, then delivered without
 * gaps or duplicates, in position order.
 */
export function catchUpThenFollow(
  options: SubscribeOptions,
  readAll: (options: ReadAllOptions) => AsyncIterable<StoredEvent>,
  live: LiveEvents,
): Observable<StoredEvent> {
  checkReadBounds({ fromPosition: options.fromPosition });
  return new (rx().Observable)<StoredEvent>((subscriber) => {
    const wanted = (event: StoredEvent): boolean => options.stream === undefined || event.stream === options.stream;
    const followOnly = options.fromPosition === 'end';
    let lastDelivered = typeof options.fromPosition === 'number' ? options.fromPosition - 1 : 0;
    let held: StoredEvent[] | undefined = followOnly ? undefined : [];

    const deliver = (event: StoredEvent): void => {
      if (event.position <= lastDelivered) return;
      lastDelivered = event.position;
      if (wanted(event)) subscriber.next(event);
    };

    const stopListening = live.listen({
      next: (event) => (held === undefined ? deliver(event) : held.push(event)),
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    if (followOnly) return stopListening;

    void (async () => {
      try {
        for await (const event of readAll({ fromPosition: lastDelivered + 1 })) {
          if (subscriber.closed) return;
          deliver(event);
        }
        const pending = held ?? [];
        held = undefined;
        for (const event of pending) deliver(event);
      } catch (error) {
        subscriber.error(error);
      }
    })();
    return stopListening;
  });
}
