import { describe, expect, it } from 'vitest';
import { documentedGraph, moduleGraph, moduleGraphMermaid } from '../../scripts/moduleGraph.js';

describe('the picture of the code in docs/architecture.md', () => {
  it('is the one the imports draw (regenerate with node --import tsx scripts/moduleGraph.ts --write)', () => {
    expect(documentedGraph()).toBe(moduleGraphMermaid());
  });

  it('shows the layers the design keeps: nothing but the CLI imports the CLI, and the engine never imports the runtime', () => {
    const graph = moduleGraph();
    for (const [from, targets] of graph) {
      if (from !== 'cli') expect(targets.has('cli'), `${from} imports cli`).toBe(false);
    }
    expect(graph.get('engine')?.has('runtime')).toBe(false);
    expect(graph.get('projections')?.has('engine')).toBe(false);
    expect(graph.get('machines')?.size ?? 0).toBe(0);
  });
});
