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
    table = flatTable(machine) ?? buildTable(machine);
    tables.set(machine, table);
  }
  return table;
}

/**
 * The table of a flat machine read off its config: every state's `on` maps
 * events to the names of top-level states (no guards, no nested states, no
 * eventless or delayed transitions, nothing on the root). For such a machine
 * that is exactly what XState's `transition()` answers (a test compares the
 * two on the lifecycle machines), without running it for each pair: a
 * process that asks a few questions once (a Claude Code hook) saves the
 * table's building. Undefined for any other machine.
 */
function flatTable(machine: AnyStateMachine): TransitionTable | undefined {
  const config = machine.config as { initial?: unknown; on?: unknown; states?: Record<string, Record<string, unknown>> };
  const states = config.states;
  if (typeof config.initial !== 'string' || config.on !== undefined || states === undefined || !(config.initial in states)) return undefined;
  const table = new Map<string, Map<string, string>>();
  for (const [name, state] of Object.entries(states)) {
    if (typeof state !== 'object' || state === null) return undefined;
    for (const key of Object.keys(state)) if (key !== 'on' && key !== 'type' && key !== 'description' && key !== 'meta' && key !== 'tags') return undefined;
    if (state.type !== undefined && state.type !== 'final' && state.type !== 'atomic') return undefined;
    const on = state.on;
    const edges = new Map<string, string>();
    if (on !== undefined) {
      if (typeof on !== 'object' || on === null || Array.isArray(on)) return undefined;
      for (const [event, target] of Object.entries(on as Record<string, unknown>)) {
        if (typeof target !== 'string' || !(target in states) || event.startsWith('xstate.') || event === '*') return undefined;
        edges.set(event, target);
      }
    }
    table.set(name, edges);
  }
  const eventTypes = machine.events.filter((type) => !type.startsWith('xstate.'));
  const acceptedCache = new Map<string, readonly string[]>();
  return {
    initial: config.initial,
    next: (state, eventType) => table.get(state)?.get(eventType),
    accepted(state) {
      let answer = acceptedCache.get(state);
      if (answer === undefined) {
        const edges = table.get(state);
        answer = edges === undefined ? [] : eventTypes.filter((type) => edges.has(type));
        acceptedCache.set(state, answer);
      }
      return answer;
    },
  };
}

/** The table XState's `transition()` gives, pair by pair (memoised); {@link transitionTableFor} uses it for machines {@link flatTable} cannot read. */
export function xstateTransitionTable(machine: AnyStateMachine): TransitionTable {
  return buildTable(machine);
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
