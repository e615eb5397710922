import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { machineChart, sessionMachine, taskLifecycleMachine, toDot, toMermaid, toSvg } from '../../src/index.js';
import { runInProcess } from '../cli/runInProcess.js';

const docs = (path: string) => readFile(new URL(`../../docs/${path}`, import.meta.url), 'utf8');

/** A machine with what the flat built-in ones lack: a nested state, a guard, a final state inside a parent, odd names. */
const reviewMachine = setup({ guards: { reviewed: () => true } }).createMachine({
  id: 'review',
  initial: 'to do',
  states: {
    'to do': { on: { START: 'working' } },
    working: {
      initial: 'drafting',
      states: {
        drafting: { on: { DRAFTED: 'checking' } },
        checking: { on: { APPROVE: { target: '#review.done', guard: 'reviewed' } } },
        abandoned: { type: 'final' },
      },
      on: { FAIL: 'failed' },
    },
    failed: {},
    done: { type: 'final' },
  },
});

describe('viz machine', () => {
  it('reads the structure from XState: nesting, initial states, final states, guards', () => {
    const chart = machineChart(reviewMachine);
    expect(chart.initial).toBe('to do');
    expect(chart.states.map((s) => [s.id, s.type, s.parent])).toEqual([
      ['to do', 'atomic', undefined],
      ['working', 'compound', undefined],
      ['working.drafting', 'atomic', 'working'],
      ['working.checking', 'atomic', 'working'],
      ['working.abandoned', 'final', 'working'],
      ['failed', 'atomic', undefined],
      ['done', 'final', undefined],
    ]);
    expect(chart.states[1]!.initial).toBe('working.drafting');
    expect(chart.transitions).toEqual([
      { from: 'to do', event: 'START', to: 'working', guard: undefined },
      { from: 'working', event: 'FAIL', to: 'failed', guard: undefined },
      { from: 'working.drafting', event: 'DRAFTED', to: 'working.checking', guard: undefined },
      { from: 'working.checking', event: 'APPROVE', to: 'done', guard: 'reviewed' },
    ]);
  });

  it('draws a compound state as a cluster, its edges to the cluster border, and final states with a double border', () => {
    const dot = toDot(reviewMachine);
    expect(dot).toContain('subgraph "cluster_working" {');
    expect(dot).toContain('"initial-working" -> "state-working.drafting";');
    expect(dot).toContain('"state-to do" -> "initial-working" [label="START", lhead="cluster_working"];');
    expect(dot).toContain('"initial-working" -> "state-failed" [label="FAIL", ltail="cluster_working"];');
    expect(dot).toContain('"state-working.checking" -> "state-done" [label="APPROVE [reviewed]"];');
    expect(dot).toMatch(/"state-done" \[[^\]]*peripheries=2/);
    expect(dot).not.toMatch(/"state-failed" \[[^\]]*peripheries=2/);
  });

  it('draws a parallel machine entering every region, a parallel state dashed, and history states as H and H*', async () => {
    const player = setup({}).createMachine({
      id: 'player',
      type: 'parallel',
      states: {
        audio: { initial: 'muted', states: { muted: { on: { UNMUTE: 'loud' } }, loud: { on: { MUTE: 'muted' } }, back: { type: 'history' } } },
        video: {
          type: 'parallel',
          states: {
            screen: { initial: 'off', states: { off: { on: { ON: 'on' } }, on: {}, last: { type: 'history', history: 'deep' } } },
            subtitles: { initial: 'hidden', states: { hidden: {} } },
          },
        },
      },
    });
    const chart = machineChart(player);
    expect(chart.type).toBe('parallel');
    expect(chart.states.filter((s) => s.type === 'history').map((s) => [s.id, s.history])).toEqual([['audio.back', 'shallow'], ['video.screen.last', 'deep']]);
    const dot = toDot(player);
    expect(dot).toContain('"start" -> "initial-audio" [style=dashed];');
    expect(dot).toContain('"start" -> "initial-video" [style=dashed];');
    expect(dot).toContain('label="video ∥"; id="state-video"; class="state"; style="rounded,dashed";');
    expect(dot).toContain('"initial-video" -> "initial-video.screen" [style=dashed];');
    expect(dot).toContain('"state-audio.back" [label="H", shape=circle, width=0.3, tooltip="back", id="state-audio.back", class="state"];');
    expect(dot).toContain('"state-video.screen.last" [label="H*"');
    expect(await toSvg(player)).toContain('>H*</text>');
    // Mermaid splits the regions of a nested parallel state with its concurrency line.
    const mermaid = toMermaid(player).split('\n');
    const video = mermaid.indexOf('  state video {');
    expect(mermaid.slice(video, video + 12).map((line) => line.trim())).toEqual([
      'state video {',
      'state "screen" as video__screen',
      'state "subtitles" as video__subtitles',
      'state video__screen {',
      '[*] --> video__screen__off',
      'state "off" as video__screen__off',
      'state "on" as video__screen__on',
      'state "last" as video__screen__last',
      '}',
      '--',
      'state video__subtitles {',
      '[*] --> video__subtitles__hidden',
    ]);
  });

  it('lays the SVG out in WebAssembly: every state and every event label is drawn', async () => {
    const svg = await toSvg(taskLifecycleMachine);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const state of machineChart(taskLifecycleMachine).states) expect(svg).toContain(`id="state&#45;${state.id}"`);
    const labels = [...svg.matchAll(/font-size="10.00">([A-Z_]+)</g)].map((m) => m[1]);
    expect(labels.sort()).toEqual(machineChart(taskLifecycleMachine).transitions.map((t) => t.event).sort());
    expect(labels).toHaveLength(17);
  });

  it('prints each format, and writes a file with -o', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'moai-viz-'));
    const json = await runInProcess(['viz', 'machine', 'session', '--format', 'json'], cwd);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(machineChart(sessionMachine))));
    const dot = await runInProcess(['viz', 'machine', 'task', '--format', 'dot'], cwd);
    expect(dot.stdout).toBe(`${toDot(taskLifecycleMachine)}\n`);
    const written = await runInProcess(['viz', 'machine', '--format', 'svg', '-o', 'task.svg'], cwd);
    expect(written.code).toBe(0);
    expect((await readFile(join(cwd, 'task.svg'), 'utf8')).trimEnd()).toBe((await toSvg(taskLifecycleMachine)).trimEnd());
  });

  it('refuses an -o it cannot write, naming the path and why, as a usage error', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'moai-viz-'));
    const missing = await runInProcess(['viz', 'machine', '-o', 'no/such/folder/task.mmd'], cwd);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`moai-session: Cannot write ${join(cwd, 'no/such/folder/task.mmd')}: the folder ${join(cwd, 'no/such/folder')} does not exist. Give -o a file in a folder that exists.\n`);
    const folder = await runInProcess(['viz', 'machine', '-o', '.'], cwd);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/: it is a folder\. Give -o a file/);
    const session = await runInProcess(['viz', 'session', 'nobody', '-o', 'no/such/x.html'], cwd);
    expect(session.code).not.toBe(0);
    expect(session.stderr).not.toMatch(/internal error/);
  });

  it('draws a machine from a module, and says plainly what is wrong with a bad one', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'moai-viz-'));
    const xstate = new URL('../../node_modules/xstate/dist/xstate.esm.js', import.meta.url).href;
    await writeFile(join(cwd, 'one.mjs'), `import { createMachine } from '${xstate}';\nexport const door = createMachine({ id: 'door', initial: 'shut', states: { shut: { on: { OPEN: 'open' } }, open: { type: 'final' } } });\n`);
    await writeFile(join(cwd, 'two.mjs'), `export { door } from './one.mjs';\nexport { door as gate } from './one.mjs';\nimport { createMachine } from '${xstate}';\nexport const lamp = createMachine({ id: 'lamp', initial: 'off', states: { off: {} } });\n`);
    await writeFile(join(cwd, 'none.mjs'), 'export const answer = 42;\n');
    const one = await runInProcess(['viz', 'machine', 'one.mjs'], cwd);
    expect(one.stdout).toBe('stateDiagram-v2\n  [*] --> shut\n  shut --> open: OPEN\n  open --> [*]\n');
    const two = await runInProcess(['viz', 'machine', 'two.mjs'], cwd);
    expect(two.code).toBe(1);
    expect(two.stderr).toContain('exports 2 machines (door, gate, lamp): pick one with --export <name>');
    expect((await runInProcess(['viz', 'machine', 'two.mjs', '--export', 'lamp', '--format', 'json'], cwd)).stdout).toContain('"id": "lamp"');
    const none = await runInProcess(['viz', 'machine', 'none.mjs'], cwd);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`${join(cwd, 'none.mjs')} exports no XState machine`);
    const missing = await runInProcess(['viz', 'machine', 'nowhere'], cwd);
    expect(missing.stderr).toContain('No machine named "nowhere"');
    expect((await runInProcess(['viz', 'machine', '--format', 'png'], cwd)).code).toBe(2);
  });

  it('keeps the charts in docs/architecture.md and docs/images what the command prints', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'moai-viz-'));
    const architecture = await docs('architecture.md');
    for (const [name, image] of [['task', 'task-machine.svg'], ['session', 'session-machine.svg']] as const) {
      const mermaid = await runInProcess(['viz', 'machine', name, '--format', 'mermaid'], cwd);
      expect(architecture).toContain(`\`\`\`mermaid\n${mermaid.stdout}\`\`\``);
      expect(architecture).toContain(`(images/${image})`);
      const svg = await runInProcess(['viz', 'machine', name, '--format', 'svg'], cwd);
      // Regenerate with: moai-session viz machine <name> --format svg -o docs/images/<image>
      expect(await docs(`images/${image}`)).toBe(svg.stdout);
    }
  });
});
