import type { StoredEvent } from '../events/envelope.js';

/** What a listener of {@link LiveEvents} is told. */
export interface LiveListener {
  next(event: StoredEvent): void;
  error(error: unknown): void;
  complete(): void;
}

/**
 * The events a store appends, handed to whoever listens as they are stored:
 * the plain fan-out under every store's `subscribe()`. Not an rxjs Subject, so
 * that a store loads rxjs only when someone asks it for an Observable.
 */
export class LiveEvents {
  private readonly listeners = new Set<LiveListener>();
  private ended: { error: unknown } | 'completed' | undefined;

  /** True while someone listens: a store skips the hand-out otherwise. */
  get observed(): boolean {
    return this.listeners.size > 0;
  }

  /** Listen from now on; returns the function that stops it. A listener that comes after the end is told at once. */
  listen(listener: LiveListener): () => void {
    if (this.ended === 'completed') {
      listener.complete();
      return () => {};
    }
    if (this.ended !== undefined) {
      listener.error(this.ended.error);
      return () => {};
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  next(event: StoredEvent): void {
    for (const listener of this.listeners) listener.next(event);
  }

  /** The store closed: every listener completes. */
  complete(): void {
    if (this.ended !== undefined) return;
    this.ended = 'completed';
    for (const listener of [...this.listeners]) listener.complete();
    this.listeners.clear();
  }
}
