import type { AnyStateMachine } from 'xstate';

/** One transition of a machine: from a state, on an event, to a state. */
export interface MachineTransition {
  from: string;
  event: string;
  to: string;
}

/** Every transition of a flat machine, in the order the definition lists them. */
export function machineTransitions(machine: AnyStateMachine): MachineTransition[] {
  const transitions: MachineTransition[] = [];
  for (const [from, node] of Object.entries(machine.root.states)) {
    for (const [event, candidates] of node.transitions) {
      for (const candidate of candidates) {
        for (const target of candidate.target ?? []) transitions.push({ from, event, to: target.key });
      }
    }
  }
  return transitions;
}

/**
 * The machine as a Mermaid state diagram, generated from its definition:
 * the chart in the docs is never drawn by hand.
 *
 * @example
 * console.log(toMermaid(taskLifecycleMachine));
 */
export function toMermaid(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2', `  [*] --> ${String(machine.config.initial)}`];
  for (const { from, event, to } of machineTransitions(machine)) lines.push(`  ${from} --> ${to}: ${event}`);
  for (const [name, node] of Object.entries(machine.root.states)) if (node.type === 'final') lines.push(`  ${name} --> [*]`);
  return lines.join('\n');
}
