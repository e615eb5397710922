import type { Observable } from 'rxjs';
import { rx } from '../util/rx.js';
import type { StoredEvent } from '../events/envelope.js';
import type { SubscribeOptions } from './eventStore.js';
import { checkReadBounds } from './readBounds.js';

/*
 * Live follow of a log some other process appends to, for any store: the
 * follower reads what was appended since it last looked whenever the log
 * says something may have been appended (a timer for the file store; a
 * LISTEN/NOTIFY channel for a database), and hands each event over once, in
 * position order. It needs nothing of the store but a read from a position,
 * the head position and that wake-up signal.
 */

/**
 * How a log tells a follower that lines it read were replaced: the file
 * store's reader reads a writer's batch before it is durable, and a batch
 * rolled back and written over replaces lines. Leave it out for a log whose
 * reads only ever see durable events.
 */
export interface LogRewrites {
  /** Grows by one each time the log found lines it had read replaced. */
  readonly count: number;
  /** The first position the last replacement changed. */
  readonly from: number;
  /** True when a read failed only because lines were replaced under it: reading again is enough. */
  isRewriteError(error: unknown): boolean;
  /** The error a subscription is stopped with when it had delivered events up to `delivered` that were replaced from `from`. */
  deliveredRewritten(from: number, delivered: number): Error;
}

/** What a {@link LiveFollower} needs of a log. */
export interface FollowedLog {
  /** The stored events from `fromPosition` on, in position order, in batches. */
  readFrom(fromPosition: number): AsyncIterable<readonly StoredEvent[]>;
  /** The position of the last stored event (0 for none): a subscription from `'end'` starts after it. */
  headPosition(): Promise<number>;
  /**
   * Call `wake` whenever something may have been appended, until the
   * returned function is called. Spurious wake-ups cost one empty read;
   * wake-ups during a read are coalesced into one more read after it.
   */
  watch(wake: () => void): () => void;
  /** Present when lines a read handed out can be replaced (see {@link LogRewrites}). */
  readonly rewrites?: LogRewrites;
}

/**
 * A wake-up signal that fires every `ms` milliseconds: for a log that has no
 * way to say it grew (a file another process writes).
 */
export function pollEvery(ms: number): FollowedLog['watch'] {
  return (wake) => {
    const timer = setInterval(wake, ms);
    return () => clearInterval(timer);
  };
}

/**
 * Subscriptions that catch up on a log, then follow it live, each event
 * exactly once in position order (filtered by stream when asked), from a
 * position or from the end; until unsubscribed, or until
 * {@link LiveFollower.completeAll} (the store closes), which completes them.
 *
 * @example
 * const follower = new LiveFollower({ readFrom, headPosition, watch: pollEvery(200) });
 * follower.follow({ fromPosition: 'end' }).subscribe(console.log);
 */
export class LiveFollower {
  /** Completes each live subscription: called by {@link completeAll}. */
  private readonly active = new Set<() => void>();

  constructor(private readonly log: FollowedLog) {}

  /** The events from `options.fromPosition` on (default 1; `'end'`: only those appended from now), then live ones. */
  follow(options: SubscribeOptions = {}): Observable<StoredEvent> {
    checkReadBounds({ fromPosition: options.fromPosition });
    const log = this.log;
    return new (rx().Observable)<StoredEvent>((subscriber) => {
      const wanted = (event: StoredEvent): boolean => options.stream === undefined || event.stream === options.stream;
      // The last position looked at; undefined until the head is known, for 'end'.
      let last = options.fromPosition === 'end' ? undefined : (options.fromPosition ?? 1) - 1;
      let stopped = false;
      let looking = false;
      let woken = false; // a wake-up came during a look: look again after it
      let soon: NodeJS.Timeout | undefined;
      let unwatch = (): void => {};
      const stop = (): void => {
        stopped = true;
        clearTimeout(soon);
        unwatch();
        this.active.delete(complete);
      };
      const complete = (): void => {
        stop();
        subscriber.complete();
      };
      this.active.add(complete);
      let rewrites = log.rewrites?.count ?? 0;
      let delivered: number | undefined; // the last position handed to the subscriber
      // After a rewrite: the lines written in place of replaced ones are read (they
      // count as new even for a subscription started after them: those were never
      // durable); true when it has to read again from there. Events it delivered
      // that were replaced cannot be taken back: that stops the subscription.
      const rewound = (): boolean => {
        const changes = log.rewrites;
        if (changes === undefined || changes.count === rewrites) return false;
        rewrites = changes.count;
        if (delivered !== undefined && delivered >= changes.from) throw changes.deliveredRewritten(changes.from, delivered);
        if (last === undefined || last < changes.from) return false;
        last = changes.from - 1;
        return true;
      };
      const wake = (): void => {
        if (stopped) return;
        if (looking) woken = true;
        else void look();
      };
      const look = async (): Promise<void> => {
        looking = true;
        woken = false;
        let again = false;
        try {
          last ??= await log.headPosition(); // 'end': only what comes after now
          for await (const batch of log.readFrom(last + 1)) {
            again = rewound();
            if (again) break;
            for (const event of batch) {
              if (stopped) return;
              last = event.position;
              if (!wanted(event)) continue;
              delivered = event.position;
              subscriber.next(event);
            }
          }
          again ||= rewound();
        } catch (error) {
          if (stopped) return;
          if (log.rewrites?.isRewriteError(error) !== true) {
            stop();
            subscriber.error(error);
            return;
          }
          again = true; // another read noticed a rewrite under this look: the next look deals with it
        } finally {
          looking = false;
        }
        if (stopped) return;
        if (again) soon = setTimeout(wake, 0);
        else if (woken) wake();
      };
      unwatch = log.watch(wake);
      void look();
      return stop;
    });
  }

  /** Complete every live subscription (the store is closing). */
  completeAll(): void {
    for (const complete of [...this.active]) complete();
  }
}
