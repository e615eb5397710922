import type { StoredEvent } from '../events/envelope.js';

/**
 * A projection: a pure fold over a stream's events. `evolve` never mutates
 * its input state and costs O(1) per event whatever the history length.
 */
export interface Projection<TState> {
  readonly name: string;
  initialState(): TState;
  evolve(state: TState, event: StoredEvent): TState;
}

/** Fold `events` into a projection's state, from its initial state or from `state`. */
export function fold<TState>(projection: Projection<TState>, events: Iterable<StoredEvent>, state = projection.initialState()): TState {
  let current = state;
  for (const event of events) current = projection.evolve(current, event);
  return current;
}
