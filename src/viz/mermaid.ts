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

/**
 * Each state's id in the chart: its path, made safe for Mermaid (names may hold
 * spaces or dots, or start with a digit), and made unique when two names come
 * out alike (`in progress`, `in_progress`).
 */
function chartIds(machine: AnyStateMachine): Map<AnyStateNode, string> {
  const ids = new Map<AnyStateNode, string>();
  const used = new Set<string>();
  const visit = (node: AnyStateNode): void => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      let base = child.path.join('__').replace(/[^A-Za-z0-9_]/g, '_');
      if (/^[0-9]/.test(base)) base = `s_${base}`;
      let id = base;
      for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
      used.add(id);
      ids.set(child, id);
      visit(child);
    }
  };
  visit(machine.root as AnyStateNode);
  return ids;
}

/** The name of a transition's guard, for its label; undefined when it has none. */
function guardName(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'guard';
  if (typeof guard === 'object' && 'type' in guard) return String((guard as { type: unknown }).type);
  return 'guard';
}

/** The states of one node, drawn inside it: its initial, names, nested states and final states. */
function drawStates(node: AnyStateNode, ids: Map<AnyStateNode, string>, indent: string, lines: string[]): void {
  const children = Object.values(node.states) as AnyStateNode[];
  const initial = node.config.initial;
  if (typeof initial === 'string' && node.states[initial] !== undefined) lines.push(`${indent}[*] --> ${ids.get(node.states[initial] as AnyStateNode)!}`);
  for (const child of children) {
    if (child.key !== ids.get(child)) lines.push(`${indent}state "${child.key.replace(/"/g, "'")}" as ${ids.get(child)!}`);
  }
  let regions = 0;
  for (const child of children) {
    if (Object.keys(child.states).length === 0) continue;
    // The regions of a parallel state, all active at once, are split by Mermaid's concurrency line.
    if (node.type === 'parallel' && node !== node.machine.root && regions++ > 0) lines.push(`${indent}--`);
    lines.push(`${indent}state ${ids.get(child)!} {`);
    drawStates(child, ids, `${indent}  `, lines);
    for (const grandchild of Object.values(child.states) as AnyStateNode[]) {
      if (grandchild.type === 'final') lines.push(`${indent}  ${ids.get(grandchild)!} --> [*]`);
    }
    lines.push(`${indent}}`);
  }
}

/** Every transition, drawn at the top level: Mermaid would move a target named inside a block into it. */
function drawTransitions(node: AnyStateNode, ids: Map<AnyStateNode, string>, lines: string[]): void {
  for (const child of Object.values(node.states) as AnyStateNode[]) {
    for (const [event, candidates] of child.transitions) {
      for (const candidate of candidates) {
        const guard = guardName(candidate.guard);
        for (const target of candidate.target ?? []) {
          lines.push(`  ${ids.get(child)!} --> ${ids.get(target)!}: ${event}${guard === undefined ? '' : ` [${guard}]`}`);
        }
      }
    }
    drawTransitions(child, ids, lines);
  }
}

/**
 * The machine as a Mermaid state diagram, generated from its definition:
 * the chart in the docs is never drawn by hand. Nested states are drawn
 * inside their parent (transitions at the top level, so one that leaves its
 * parent is drawn as such), guarded transitions carry their guard's name in
 * brackets, and a state whose name Mermaid cannot take as an id (a space, a
 * dot, a leading digit, or a name that comes out like another's) is drawn
 * under a safe, unique id with its own name as the label.
 *
 * @example
 * console.log(toMermaid(taskLifecycleMachine));
 */
export function toMermaid(machine: AnyStateMachine): string {
  const ids = chartIds(machine);
  const root = machine.root as AnyStateNode;
  const lines = ['stateDiagram-v2'];
  drawStates(root, ids, '  ', lines);
  drawTransitions(root, ids, lines);
  for (const state of Object.values(root.states) as AnyStateNode[]) if (state.type === 'final') lines.push(`  ${ids.get(state)!} --> [*]`);
  return lines.join('\n');
}
