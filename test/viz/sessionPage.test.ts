import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStateFolder, sessionStream, type StoredEvent } from '../../src/index.js';
import { packRecords, unpackRecord } from '../../src/viz/columns.js';
import { INSPECTOR_SCRIPT, INSPECTOR_STYLE } from '../../src/viz/generated/inspectorAssets.js';
import type { SessionPageData } from '../../src/viz/sessionPageData.js';
import { inspectorAssetsModule } from '../../scripts/bundleInspectorPage.js';
import { tempDir } from '../helpers.js';
import { runInProcess } from '../cli/runInProcess.js';
import { writeLongSession } from './longSession.js';

async function readEvents(cwd: string, sessionId: string): Promise<StoredEvent[]> {
  const folder = await openStateFolder({ dir: '.moai', cwd, mode: 'read' });
  try {
    const events: StoredEvent[] = [];
    for await (const event of folder.engine.store.readStream(sessionStream(sessionId))) events.push(event);
    return events;
  } finally {
    await folder.close();
  }
}

/** The page data `viz session --format json` prints. */
async function pageData(cwd: string, ...args: string[]): Promise<SessionPageData> {
  const result = await runInProcess(['viz', 'session', ...args, '--format', 'json'], cwd);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as SessionPageData;
}

describe('viz session', () => {
  let demo: string;
  beforeAll(async () => {
    demo = await tempDir('moai-viz-session-');
    expect((await runInProcess(['demo'], demo)).code).toBe(0);
  });

  it('ships the page code the sources bundle to (regenerate: node --import tsx scripts/bundleInspectorPage.ts)', async () => {
    const generated = await readFile(new URL('../../src/viz/generated/inspectorAssets.ts', import.meta.url), 'utf8');
    expect(generated).toBe(await inspectorAssetsModule());
  });

  it('packs events by column and rebuilds each one exactly', async () => {
    const events = [...(await readEvents(demo, 'demo')), ...(await readEvents(demo, 'demo-r1-alt'))];
    const odd = [
      { type: 'X', data: {}, meta: { at: '2026-01-01T00:00:00.000Z' } },
      { type: 'Y', data: { git: { commit: null, branch: 'main', changedFiles: 0 }, list: [1, 'two'] }, meta: { at: 'not a time' } },
    ];
    const records = [...events, ...odd] as unknown as Record<string, unknown>[];
    const packed = packRecords(records);
    records.forEach((record, row) => expect(unpackRecord(packed, row)).toEqual(JSON.parse(JSON.stringify(record))));
    const kinds = Object.fromEntries(packed.columns.map((c) => [c.path.join('.'), c.kind]));
    expect(kinds).toMatchObject({ id: 'str', stream: 'dict', version: 'num', 'meta.at': 'str', type: 'dict', 'data.git.commit': 'json', 'data.list': 'json' });
    // Without the odd time, times are packed as times.
    expect(Object.fromEntries(packRecords(events as unknown as Record<string, unknown>[]).columns.map((c) => [c.path.join('.'), c.kind]))['meta.at']).toBe('time');
  });

  it('packs a field most records lack as sparse, and a field that counts up as a sequence', () => {
    const records = Array.from({ length: 10 }, (_, i) => ({ version: i + 1, data: i % 5 === 0 ? { reason: `r${i}` } : { other: true } }));
    const packed = packRecords(records);
    const column = (path: string) => packed.columns.find((c) => c.path.join('.') === path)!;
    expect(column('version')).toEqual({ path: ['version'], kind: 'seq', start: 1, step: 1 });
    expect(column('data.reason')).toMatchObject({ kind: 'str', rows: [0, 5], values: ['r0', 'r5'] });
    expect(column('data.other').rows).toBeUndefined();
    records.forEach((record, row) => expect(unpackRecord(packed, row)).toEqual(record));
  });

  it("packs the demo's steps: every version once, each task's state changes, the fork starting from its parent's tasks", async () => {
    const data = await pageData(demo, 'demo');
    const events = await readEvents(demo, 'demo');
    const forked = (await readEvents(demo, 'demo-r1-alt'))[0]!;
    expect(forked.type).toBe('SessionForked');
    const { parentVersion, title } = forked.data as { parentVersion: number; title: string };
    expect(data.steps.version).toEqual(events.map((e) => e.version));
    expect(data.totalEvents).toBe(events.length);
    expect(data.aggregation).toBeUndefined();
    expect(data.forks).toEqual({ parent: undefined, children: [{ sessionId: 'demo-r1-alt', title, atVersion: parentVersion, href: 'demo-r1-alt.html' }] });
    const moves = events.filter((e) => e.type === 'TaskAdded' || e.type === 'TaskTransitioned').length;
    expect(data.taskStates.length / 3).toBe(moves);
    const fork = await pageData(demo, 'demo-r1-alt');
    expect(fork.forks.parent).toMatchObject({ sessionId: 'demo', atVersion: parentVersion, href: 'demo.html' });
    const folder = await openStateFolder({ dir: '.moai', cwd: demo, mode: 'read' });
    const atFork = await folder.engine.sessionState('demo', { atVersion: parentVersion }).finally(() => folder.close());
    // Step 0 of the fork sets every task it inherits, in the parent's state at the fork point.
    const first: [string, string][] = [];
    for (let i = 0; i < fork.taskStates.length && fork.taskStates[i] === 0; i += 3) first.push([fork.tasks.ids[fork.taskStates[i + 1]!]!, fork.dict.states[fork.taskStates[i + 2]!]!]);
    expect(first).toEqual(atFork.tasks.order.toArray().map((id) => [id, atFork.tasks.byId.get(id)!.state]));
  });

  it('aggregates a long session into about --max-steps steps, keeping the rare events one by one, and says so', async () => {
    const cwd = await writeLongSession(5_000);
    const result = await runInProcess(['viz', 'session', 'long', '--max-steps', '500', '-o', 'long.html'], cwd);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('moai-session: 5,000 events, shown as ');
    const data = await pageData(cwd, 'long', '--max-steps', '500');
    const events = await readEvents(cwd, 'long');
    expect(data.aggregation!.stride).toBe(10);
    expect(data.steps.covers!.reduce((a, b) => a + b, 0)).toBe(5_000);
    expect(data.steps.version.at(-1)).toBe(5_000);
    const rare = events.filter((e) => ['BudgetThresholdCrossed', 'BudgetThresholdCleared', 'ContextCompacted', 'SessionStarted'].includes(e.type));
    const kept = new Set(data.steps.version);
    for (const event of rare) expect(kept.has(event.version)).toBe(true);
    expect(data.steps.version.length).toBe(500 + rare.filter((e) => e.version % 10 !== 0).length);
    // A step is exact at its last event: its context is the engine's at that version.
    const folder = await openStateFolder({ dir: '.moai', cwd, mode: 'read' });
    try {
      for (const step of [3, 100, data.steps.version.length - 1]) {
        const view = await folder.engine.sessionState('long', { atVersion: data.steps.version[step]! });
        expect(data.steps.contextTokens[step]).toBe(view.tokens.contextTokens);
      }
    } finally {
      await folder.close();
    }
    expect(data.aggregation!.note).toBe(
      `5,000 events, shown as ${data.steps.version.length} steps: runs of up to 10 consecutive events are aggregated into one step ` +
        "(the state shown is exact at each step's last event; the event shown is that last one); " +
        'thresholds, compactions, checkpoints, handoffs, recovery, model switches and session events are kept one by one.',
    );
  });

  it('writes a page whose policy allows its own script and style only, with the data unable to end its element', async () => {
    const cwd = await tempDir('moai-viz-page-');
    await runInProcess(['start', '--session', 's', '--agent', 'a', '--model', 'claude-sonnet-4-5', '--title', '</script><script>alert(1)</script>'], cwd);
    expect((await runInProcess(['viz', 'session', 's', '-o', 'page.html'], cwd)).code).toBe(0);
    const html = await readFile(join(cwd, 'page.html'), 'utf8');
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    expect(html.replace(/&#39;/g, "'")).toContain(`script-src ${hash(INSPECTOR_SCRIPT)}; style-src ${hash(INSPECTOR_STYLE)};`);
    expect(html).toContain(`<script>${INSPECTOR_SCRIPT}</script>`);
    const json = /<script type="application\/json" id="session-data">([^<]*)<\/script>/.exec(html)![1]!;
    expect((JSON.parse(json) as SessionPageData).title).toBe('</script><script>alert(1)</script>');
    expect(html).toContain('<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; (s) · moai-session</title>');
  });

  it('writes the page of every session of the fork tree beside it with --forks, so each fork link opens', async () => {
    const cwd = await tempDir('moai-viz-forks-');
    const run = async (...args: string[]) => expect((await runInProcess(args, cwd)).code).toBe(0);
    await run('start', '--session', 'root', '--agent', 'a', '--model', 'claude-sonnet-4-5');
    await run('fork', 'root', '--session', 'child');
    await run('fork', 'child', '--session', 'grandchild');
    await mkdir(join(cwd, 'pages'));
    const result = await runInProcess(['viz', 'session', 'child', '-o', 'pages/child.html', '--forks'], cwd);
    expect(result.code, result.stderr).toBe(0);
    expect((await readdir(join(cwd, 'pages'))).sort()).toEqual(['child.html', 'grandchild.html', 'root.html']);
    const links = (file: string) => readFile(join(cwd, 'pages', file), 'utf8').then((html) => [...html.matchAll(/"href":"([^"]+)"/g)].map((m) => m[1]).sort());
    expect(await links('child.html')).toEqual(['grandchild.html', 'root.html']);
    expect(await links('root.html')).toEqual(['child.html']);
    expect(await links('grandchild.html')).toEqual(['child.html']);
    expect((await runInProcess(['viz', 'session', 'child', '--forks', '-o', '-'], cwd)).code).toBe(2);
  });

  it('says plainly what is wrong with what it was asked', async () => {
    const unknown = await runInProcess(['viz', 'session', 'nobody', '-o', 'x.html'], demo);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('nobody');
    expect((await runInProcess(['viz', 'session', 'demo', '--format', 'pdf'], demo)).stderr).toContain('--format "pdf" is not one of html, json.');
    const steps = await runInProcess(['viz', 'session', 'demo', '--max-steps', '0'], demo);
    expect(steps.code).not.toBe(0);
    expect(steps.stderr).toContain('--max-steps');
  });
});

describe('the timeline of a page', () => {
  it('places each step when it happened: the time an imported event gives, else its recorded distance from the step before, but no later than the next given time', async () => {
    const { timeline } = await import('../../src/viz/sessionPageData.js');
    // An import: recorded at 1000 (all at once), the calls it read happened at 10, 20 and 30.
    expect(timeline([
      { at: 1000, happenedAt: undefined }, // SessionStarted
      { at: 1000, happenedAt: 10 },
      { at: 1000, happenedAt: undefined }, // TaskAdded, between the calls
      { at: 1000, happenedAt: 20 },
      { at: 1000, happenedAt: 30 },
      { at: 1001, happenedAt: undefined }, // recorded 1 ms after the import's other events
    ])).toEqual([10, 10, 10, 20, 30, 31]);
    // A live session: the record times, never going back.
    expect(timeline([{ at: 5, happenedAt: undefined }, { at: 3, happenedAt: undefined }, { at: 9, happenedAt: undefined }])).toEqual([5, 5, 9]);
  });
});
