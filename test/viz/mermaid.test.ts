import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { machineTransitions, sessionMachine, taskLifecycleMachine, toMermaid } from '../../src/index.js';

describe('state charts', () => {
  it('draws every transition of the task lifecycle machine', () => {
    const chart = toMermaid(taskLifecycleMachine);
    expect(chart.split('\n')[1]).toBe('  [*] --> pending');
    for (const { from, event, to } of machineTransitions(taskLifecycleMachine)) {
      expect(chart).toContain(`  ${from} --> ${to}: ${event}`);
    }
    expect(machineTransitions(taskLifecycleMachine)).toHaveLength(17);
    expect(chart).toContain('  completed --> [*]');
    expect(chart).not.toContain('failed --> [*]');
  });

  it('keeps the charts in docs/architecture.md identical to the machines', async () => {
    const doc = await readFile(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    expect(doc).toContain(`\`\`\`mermaid\n${toMermaid(taskLifecycleMachine)}\n\`\`\``);
    expect(doc).toContain(`\`\`\`mermaid\n${toMermaid(sessionMachine)}\n\`\`\``);
  });
});
