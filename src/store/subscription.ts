import { Observable, type Subject } from 'rxjs';
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
  live: Subject<StoredEvent>,
): Observable<StoredEvent> {
  checkReadBounds({ fromPosition: options.fromPosition });
  return new Observable<StoredEvent>((subscriber) => {
    const wanted = (event: StoredEvent): boolean => options.stream === undefined || event.stream === options.stream;
    const followOnly = options.fromPosition === 'end';
    let lastDelivered = typeof options.fromPosition === 'number' ? options.fromPosition - 1 : 0;
    let held: StoredEvent[] | undefined = followOnly ? undefined : [];

    const deliver = (event: StoredEvent): void => {
      if (event.position <= lastDelivered) return;
      lastDelivered = event.position;
      if (wanted(event)) subscriber.next(event);
    };

    const liveSubscription = live.subscribe({
      next: (event) => (held === undefined ? deliver(event) : held.push(event)),
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    if (followOnly) return () => liveSubscription.unsubscribe();

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
    return () => liveSubscription.unsubscribe();
  });
}
