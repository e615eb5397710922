import type { AnyStateMachine } from 'xstate';
import { machineChart, type ChartState, type MachineChart } from './machineGraph.js';

/** A string as a DOT quoted string: backslashes and quotes escaped, newlines kept as `\n`. */
export const dotString = (text: string): string => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;

/** The DOT id of a state's node (and, on the SVG, the element id `state-<path>` the inspector highlights). */
const nodeId = (state: string): string => dotString(`state-${state}`);
/** The DOT id of the point a compound state's edges attach to (its initial marker). */
const anchorId = (state: string): string => dotString(`initial-${state}`);
const clusterId = (state: string): string => dotString(`cluster_${state}`);

/** Options of {@link toDot}. */
export interface DotOptions {
  /** Graphviz's `rankdir`; `LR` (left to right) by default. */
  rankdir?: 'LR' | 'TB';
}

/**
 * The machine as a Graphviz DOT graph, generated from its definition: a
 * compound state is a cluster holding its children, with its initial marker
 * (a dot) inside; a transition to or from a compound state is drawn to or
 * from the cluster's edge; a final state has a double border; a guarded
 * transition carries its guard in brackets; a parallel state (or machine)
 * has a dashed border and enters every region, a history state is a circled H
 * (H* when deep). Each state's node has the id
 * `state-<path>` (so its SVG element can be found and highlighted).
 *
 * @example
 * const dot = toDot(taskLifecycleMachine); // 'digraph "taskLifecycle" { ...'
 */
export function toDot(machine: AnyStateMachine | MachineChart, options: DotOptions = {}): string {
  const chart = 'states' in machine && Array.isArray(machine.states) ? (machine as MachineChart) : machineChart(machine as AnyStateMachine);
  const byId = new Map(chart.states.map((state) => [state.id, state]));
  const compound = (id: string): boolean => (byId.get(id)?.children.length ?? 0) > 0;
  const lines = [
    `digraph ${dotString(chart.id)} {`,
    `  graph [rankdir=${options.rankdir ?? 'LR'}, compound=true, fontname="Helvetica", fontsize=12, nodesep=0.35, ranksep=0.45];`,
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#4a5568", fontname="Helvetica", fontsize=12, height=0.35];',
    '  edge [fontname="Helvetica", fontsize=10, color="#4a5568", arrowsize=0.7];',
    `  ${dotString('start')} [shape=point, width=0.14, label="", id="initial"];`,
  ];
  const draw = (state: ChartState, indent: string): void => {
    if (state.children.length === 0) {
      const attributes = [`label=${dotString(state.key)}`, `id=${nodeId(state.id)}`, `class="state"`];
      if (state.type === 'final') attributes.push('peripheries=2');
      // A history state is the statechart's circled H (H* for deep history), its name as the tooltip.
      if (state.type === 'history') attributes.splice(0, 1, `label=${dotString(state.history === 'deep' ? 'H*' : 'H')}`, 'shape=circle', 'width=0.3', `tooltip=${dotString(state.key)}`);
      lines.push(`${indent}${nodeId(state.id)} [${attributes.join(', ')}];`);
      return;
    }
    lines.push(`${indent}subgraph ${clusterId(state.id)} {`);
    // A parallel state's regions are all active at once: a dashed border and ∥ after its name.
    const parallel = state.type === 'parallel';
    lines.push(
      `${indent}  label=${dotString(parallel ? `${state.key} ∥` : state.key)}; id=${nodeId(state.id)}; class="state"; style="${parallel ? 'rounded,dashed' : 'rounded'}"; color="#4a5568";`,
    );
    lines.push(`${indent}  ${anchorId(state.id)} [shape=point, width=0.1, label=""];`);
    for (const child of state.children) draw(byId.get(child)!, `${indent}  `);
    lines.push(`${indent}}`);
    if (state.initial !== undefined) lines.push(`${indent}${anchorId(state.id)} -> ${endpoint(state.initial)};`);
    // Entering a parallel state enters every region.
    if (parallel) for (const region of state.children) lines.push(`${indent}${anchorId(state.id)} -> ${endpoint(region)} [style=dashed];`);
  };
  // An edge to or from a compound state meets the cluster's border at its initial marker.
  const endpoint = (id: string): string => (compound(id) ? anchorId(id) : nodeId(id));
  for (const state of chart.states) if (state.parent === undefined) draw(state, '  ');
  if (chart.initial !== undefined) lines.push(`  ${dotString('start')} -> ${endpoint(chart.initial)};`);
  // A parallel machine starts in every top-level region at once.
  if (chart.type === 'parallel') {
    for (const state of chart.states) if (state.parent === undefined) lines.push(`  ${dotString('start')} -> ${endpoint(state.id)} [style=dashed];`);
  }
  for (const transition of chart.transitions) {
    const label = `${transition.event}${transition.guard === undefined ? '' : ` [${transition.guard}]`}`;
    const attributes = [`label=${dotString(label)}`];
    if (compound(transition.from)) attributes.push(`ltail=${clusterId(transition.from)}`);
    if (compound(transition.to)) attributes.push(`lhead=${clusterId(transition.to)}`);
    lines.push(`  ${endpoint(transition.from)} -> ${endpoint(transition.to)} [${attributes.join(', ')}];`);
  }
  lines.push('}');
  return lines.join('\n');
}
