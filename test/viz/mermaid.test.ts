import { readFile } from 'node:fs/promises';
import { setup } from 'xstate';
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

  it('draws a custom machine\'s nested states, guards and names Mermaid cannot take as ids', () => {
    const machine = setup({ guards: { reviewed: () => true } }).createMachine({
      id: 'custom',
      initial: 'to do',
      states: {
        'to do': { on: { START: 'to_do' } }, // two names that come out alike as ids
        to_do: { on: { START: 'working' } },
        working: {
          initial: 'drafting',
          states: {
            drafting: { on: { DRAFTED: 'review' } },
            review: { on: { APPROVE: { target: '#custom.done', guard: 'reviewed' } } }, // leaves its parent
            '2nd look': { type: 'final' },
          },
          on: { FAIL: 'failed' },
        },
        failed: {},
        done: { type: 'final' },
      },
    });
    expect(toMermaid(machine).split('\n')).toEqual([
      'stateDiagram-v2',
      '  [*] --> to_do',
      '  state "to do" as to_do',
      '  state "to_do" as to_do_2',
      '  state working {',
      '    [*] --> working__drafting',
      '    state "drafting" as working__drafting',
      '    state "review" as working__review',
      '    state "2nd look" as working__2nd_look',
      '    working__2nd_look --> [*]',
      '  }',
      '  to_do --> to_do_2: START',
      '  to_do_2 --> working: START',
      '  working --> failed: FAIL',
      '  working__drafting --> working__review: DRAFTED',
      '  working__review --> done: APPROVE [reviewed]', // drawn at the top level: done stays outside working
      '  done --> [*]',
    ]);
  });
});
