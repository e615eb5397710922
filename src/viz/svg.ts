import type { AnyStateMachine } from 'xstate';
import { toDot, type DotOptions } from './dot.js';
import type { MachineChart } from './machineGraph.js';

/**
 * The machine as an SVG chart, laid out by Graphviz compiled to WebAssembly
 * (`@viz-js/viz`, bundled with the package): no network and no system
 * Graphviz. The drawing is {@link toDot}'s; each state's element has the id
 * `state-<path>`.
 *
 * @example
 * await writeFile('task.svg', await toSvg(taskLifecycleMachine));
 */
export async function toSvg(machine: AnyStateMachine | MachineChart, options: DotOptions = {}): Promise<string> {
  return renderDotToSvg(toDot(machine, options));
}

/** A DOT graph laid out and drawn as SVG by Graphviz in WebAssembly (no XML prologue, so it can be inlined in HTML). */
export async function renderDotToSvg(dot: string): Promise<string> {
  // Loaded on use: the WebAssembly module is large, and only the charts need it.
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  const svg = viz.renderString(dot, { format: 'svg' });
  return svg.slice(svg.indexOf('<svg'));
}
