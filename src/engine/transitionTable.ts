import { transition, type AnyStateMachine } from 'xstate';
import { InvalidArgumentError } from '../errors.js';

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

/**
 * The (memoised) transition table of a finite XState machine.
 *
 * @throws {InvalidArgumentError} for a machine without an initial state, or whose initial state is not one of its states.
 */
export function transitionTableFor(machine: AnyStateMachine): TransitionTable {
  let table = tables.get(machine);
  if (table === undefined) {
    table = buildTable(machine);
    tables.set(machine, table);
  }
  return table;
}

function buildTable(machine: AnyStateMachine): TransitionTable {
  const name = JSON.stringify(machine.id);
  const initial: unknown = machine.config.initial;
  const configured = Object.keys(machine.config.states ?? {});
  const states = configured.length > 0 ? configured.join(', ') : 'its states (it has none)';
  if (typeof initial !== 'string') {
    throw new InvalidArgumentError(`The task machine ${name} has no initial state: give its config an \`initial\` naming one of ${states}.`);
  }
  if (!configured.includes(initial)) {
    throw new InvalidArgumentError(
      `The task machine ${name} starts in ${JSON.stringify(initial)}, which is not one of its states: name one of ${states} as its \`initial\`.`,
    );
  }
  let topStates: string[];
  try {
    topStates = Object.keys(machine.root.states);
  } catch (error) {
    // XState refuses a state tree it cannot build (a nested state without an initial one, say) when it is first used.
    throw new InvalidArgumentError(`The task machine ${name} cannot be used: ${(error as Error).message}`);
  }
  // state -> event type -> next state (null: refused); no key strings built per call.
  const nextCache = new Map<string, Map<string, string | null>>();
  const acceptedCache = new Map<string, readonly string[]>();
  const snapshotOf = (state: string) => machine.resolveState({ value: state, context: {} });
  const stateNames = new Set(topStates);
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

  return { next, accepted, initial };
}
