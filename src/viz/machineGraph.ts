import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** One state of a machine's chart, as XState's own definition has it. */
export interface ChartState {
  /** The state's path from the root, joined with dots (`working.review`): unique in the machine. */
  id: string;
  /** Its own name (`review`). */
  key: string;
  /** The path of its parent, or undefined for a top-level state. */
  parent: string | undefined;
  /** XState's node type: `atomic`, `compound`, `parallel`, `final` or `history`. */
  type: string;
  /** For a history state: `shallow` or `deep`. */
  history?: 'shallow' | 'deep';
  /** The id of its initial child, for a compound state. */
  initial: string | undefined;
  /** The ids of its child states, in definition order. */
  children: string[];
}

/** One transition of a machine's chart: from a state, on an event, to a state, with its guard's name. */
export interface ChartTransition {
  from: string;
  event: string;
  to: string;
  /** The guard's name, when the transition has one. */
  guard: string | undefined;
}

/** A machine's structure, read from its XState definition: what every chart format draws. */
export interface MachineChart {
  /** The machine's id. */
  id: string;
  /** The root's type: `parallel` when its top-level states are regions all active at once. */
  type: string;
  /** The id of the top-level initial state. */
  initial: string | undefined;
  /** Every state, parents before their children, in definition order. */
  states: ChartState[];
  /** Every transition, in definition order. */
  transitions: ChartTransition[];
}

/** The name of a transition's guard, for its label; undefined when it has none. */
export function guardName(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'guard';
  if (typeof guard === 'object' && 'type' in guard) return String((guard as { type: unknown }).type);
  return 'guard';
}

const pathOf = (node: AnyStateNode): string => node.path.join('.');

/**
 * The structure of a machine as XState defines it: its states (nested ones
 * under their parent), each state's type (final states included) and initial
 * child, and every transition with its guard. The chart formats (`toDot`,
 * `toSvg`, the JSON of `viz machine`) draw from this, never from a hand-made list.
 *
 * @example
 * machineChart(taskLifecycleMachine).states.map((s) => s.id); // ['pending', 'in_progress', ...]
 */
export function machineChart(machine: AnyStateMachine): MachineChart {
  const states: ChartState[] = [];
  const transitions: ChartTransition[] = [];
  const visit = (node: AnyStateNode, parent: string | undefined): void => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      const id = pathOf(child);
      const initialKey = child.config.initial;
      const children = Object.values(child.states) as AnyStateNode[];
      const state: ChartState = {
        id,
        key: child.key,
        parent,
        type: child.type,
        initial: typeof initialKey === 'string' && child.states[initialKey] !== undefined ? `${id}.${initialKey}` : undefined,
        children: children.map(pathOf),
      };
      if (child.type === 'history') state.history = (child.config as { history?: string }).history === 'deep' ? 'deep' : 'shallow';
      states.push(state);
      for (const [event, candidates] of child.transitions) {
        for (const candidate of candidates) {
          const guard = guardName(candidate.guard);
          for (const target of candidate.target ?? []) transitions.push({ from: id, event, to: pathOf(target as AnyStateNode), guard });
        }
      }
      visit(child, id);
    }
  };
  const root = machine.root as AnyStateNode;
  visit(root, undefined);
  const initial = root.config.initial;
  return {
    id: machine.id,
    type: root.type,
    initial: typeof initial === 'string' && root.states[initial] !== undefined ? initial : undefined,
    states,
    transitions,
  };
}
