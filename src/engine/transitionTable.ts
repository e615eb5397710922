import { transition, type AnyStateMachine } from 'xstate';

/**
 * What a machine does with an event in a state, asked of XState's pure
 * `transition()` and remembered. The lifecycle machines are finite (no
 * context, no guards on data), so the answer depends on state and event
 * type alone, and each pair is computed once.
 */
export interface TransitionTable {
  /** The state `eventType` leads to from `state`, or undefined when the machine refuses it. */
  next(state: string, eventType: string): string | undefined;
  /** The events the machine accepts in `state`. */
  accepted(state: string): readonly string[];
  /** The machine's initial state. */
  readonly initial: string;
}

const tables = new WeakMap<AnyStateMachine, TransitionTable>();

/** The (memoised) transition table of a finite XState machine. */
export function transitionTableFor(machine: AnyStateMachine): TransitionTable {
  let table = tables.get(machine);
  if (table === undefined) {
    table = buildTable(machine);
    tables.set(machine, table);
  }
  return table;
}

function buildTable(machine: AnyStateMachine): TransitionTable {
  // state -> event type -> next state (null: refused); no key strings built per call.
  const nextCache = new Map<string, Map<string, string | null>>();
  const acceptedCache = new Map<string, readonly string[]>();
  const snapshotOf = (state: string) => machine.resolveState({ value: state, context: {} });
  const stateNames = new Set(Object.keys(machine.root.states));
  const eventTypes = machine.events.filter((type) => !type.startsWith('xstate.'));

  const next = (state: string, eventType: string): string | undefined => {
    let byEvent = nextCache.get(state);
    if (byEvent === undefined) {
      byEvent = new Map();
      nextCache.set(state, byEvent);
    }
    let answer = byEvent.get(eventType);
    if (answer === undefined) {
      answer = null;
      if (stateNames.has(state)) {
        const snapshot = snapshotOf(state);
        if (snapshot.can({ type: eventType })) {
          const [after] = transition(machine, snapshot, { type: eventType });
          answer = typeof after.value === 'string' ? after.value : JSON.stringify(after.value);
        }
      }
      byEvent.set(eventType, answer);
    }
    return answer ?? undefined;
  };

  const accepted = (state: string): readonly string[] => {
    let answer = acceptedCache.get(state);
    if (answer === undefined) {
      answer = eventTypes.filter((type) => next(state, type) !== undefined);
      acceptedCache.set(state, answer);
    }
    return answer;
  };

  const initial = machine.config.initial;
  if (typeof initial !== 'string') throw new Error(`machine ${machine.id} has no initial state`);
  return { next, accepted, initial };
}
