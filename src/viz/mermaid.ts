import type { AnyStateMachine, AnyStateNode } from 'xstate';

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

/** A state's id in the chart: its path, made safe for Mermaid (names may hold spaces or dots). */
function chartId(node: AnyStateNode): string {
  return node.path.join('__').replace(/[^A-Za-z0-9_]/g, '_');
}

/** The name of a transition's guard, for its label; undefined when it has none. */
function guardName(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'guard';
  if (typeof guard === 'object' && 'type' in guard) return String((guard as { type: unknown }).type);
  return 'guard';
}

/** The lines of one state node's children: initial, names, nested states, transitions, final states. */
function drawChildren(node: AnyStateNode, indent: string, lines: string[]): void {
  const children = Object.values(node.states) as AnyStateNode[];
  const initial = node.config.initial;
  if (typeof initial === 'string' && node.states[initial] !== undefined) lines.push(`${indent}[*] --> ${chartId(node.states[initial] as AnyStateNode)}`);
  for (const child of children) {
    if (child.key !== chartId(child)) lines.push(`${indent}state "${child.key.replace(/"/g, "'")}" as ${chartId(child)}`);
  }
  for (const child of children) {
    if (Object.keys(child.states).length === 0) continue;
    lines.push(`${indent}state ${chartId(child)} {`);
    drawChildren(child, `${indent}  `, lines);
    lines.push(`${indent}}`);
  }
  for (const child of children) {
    for (const [event, candidates] of child.transitions) {
      for (const candidate of candidates) {
        const guard = guardName(candidate.guard);
        for (const target of candidate.target ?? []) {
          lines.push(`${indent}${chartId(child)} --> ${chartId(target)}: ${event}${guard === undefined ? '' : ` [${guard}]`}`);
        }
      }
    }
  }
  for (const child of children) if (child.type === 'final') lines.push(`${indent}${chartId(child)} --> [*]`);
}

/**
 * The machine as a Mermaid state diagram, generated from its definition:
 * the chart in the docs is never drawn by hand. Nested states are drawn
 * inside their parent, guarded transitions carry their guard's name in
 * brackets, and a state whose name Mermaid cannot take as an id (a space, a
 * dot) is drawn under a safe id with its own name as the label.
 *
 * @example
 * console.log(toMermaid(taskLifecycleMachine));
 */
export function toMermaid(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2'];
  drawChildren(machine.root as AnyStateNode, '  ', lines);
  return lines.join('\n');
}
