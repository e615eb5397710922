import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { createServer, get as httpGet } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateFolder, sessionStream, tasksInOrder, type SessionView, type StoredEvent } from '../../src/index.js';
import { TRANSCRIPT_FIXTURES } from '../claudeCodeFixtures.js';
import { tempDir } from '../helpers.js';
import { runInProcess } from '../cli/runInProcess.js';
import { inspectCommand } from '../../src/cli/commands/inspect.js';
import { chromiumMissing, launchChromium, watchedPage, type PageWatch } from './chromium.js';
import { writeLongSession } from './longSession.js';

// The functions handed to page.evaluate run in the page; this project's types
// have no DOM (it is a Node library), so the page's globals are loosely typed here.
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const location: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any
type HTMLElement = { dataset: Record<string, string | undefined>; style: { height: string }; id: string };

const missing = chromiumMissing();

/** The engine's view of a session at a version, from the state folder opened read-only. */
async function engineViews(cwd: string, sessionId: string, versions: readonly number[]): Promise<Map<number, SessionView>> {
  const folder = await openStateFolder({ dir: '.moai', cwd, mode: 'read' });
  try {
    const views = new Map<number, SessionView>();
    for (const v of versions) views.set(v, await folder.engine.sessionState(sessionId, { atVersion: v }));
    return views;
  } finally {
    await folder.close();
  }
}

async function storedEvents(cwd: string, sessionId: string): Promise<StoredEvent[]> {
  const folder = await openStateFolder({ dir: '.moai', cwd, mode: 'read' });
  try {
    const events: StoredEvent[] = [];
    for await (const event of folder.engine.store.readStream(sessionStream(sessionId))) events.push(event);
    return events;
  } finally {
    await folder.close();
  }
}

/** Write a session's page with the command a user runs; its file URL. */
async function writePage(cwd: string, sessionId: string, ...more: string[]): Promise<string> {
  const out = join(cwd, `${sessionId}.html`);
  const result = await runInProcess(['viz', 'session', sessionId, '-o', out, ...more], cwd);
  expect(result.code, result.stderr).toBe(0);
  return pathToFileURL(out).href;
}

/** What the page shows at its chosen step: the version, each task's state in the list, the chart's counts, the context. */
async function shown(page: Page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll('#task-list .row')].map((row) => [row.dataset.task!, row.dataset.state!] as const);
    const counts = Object.fromEntries(
      [...document.querySelectorAll('#chart g.state')].map((node) => [node.id.replace(/^state-/, ''), Number(node.dataset.count ?? '0')]),
    );
    return {
      version: Number(document.body.dataset.version),
      tasks: rows,
      counts,
      context: Number(document.querySelector('#token-readout')!.dataset.context),
      currentRow: document.querySelector('#event-list .row.current')?.dataset.step,
      hash: location.hash,
    };
  });
}

/** What the engine says the page should show. */
function expected(view: SessionView) {
  const tasks = tasksInOrder(view).map((task) => [task.taskId, task.state] as const);
  const counts: Record<string, number> = {};
  for (const [, state] of tasks) counts[state] = (counts[state] ?? 0) + 1;
  return { version: view.version, tasks, context: view.tokens.contextTokens, counts };
}

const nonZero = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));

describe.skipIf(missing !== undefined)('the session inspector in Chromium', () => {
  let browser: Browser;
  let demo: string;
  const watches: PageWatch[] = [];
  const open = async (url: string) => {
    const { page, watch } = await watchedPage(browser, (u) => u.split('#')[0] === url.split('#')[0]);
    watches.push(watch);
    await page.goto(url);
    await page.waitForSelector('body[data-ready]');
    return { page, watch };
  };

  /** The demo's length and where its fork branched, read from its log (the demo's script may change). */
  let last: number;
  let forkedAt: number;
  let forkLength: number;
  beforeAll(async () => {
    browser = await launchChromium();
    demo = await tempDir('moai-inspector-');
    expect((await runInProcess(['demo'], demo)).code).toBe(0);
    last = (await storedEvents(demo, 'demo')).length;
    const fork = await storedEvents(demo, 'demo-r1-alt');
    forkedAt = (fork[0]!.data as { parentVersion: number }).parentVersion;
    forkLength = fork.length;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('scrubs the demo with the keyboard: the chart, the task list and the token chart agree with sessionState at each point', async () => {
    const url = await writePage(demo, 'demo');
    const { page, watch } = await open(url);
    const versions = [1, 5, 12, 30, forkedAt, last];
    const views = await engineViews(demo, 'demo', versions);
    await page.keyboard.press('Home');
    let at = 1;
    for (const v of versions) {
      for (; at < v; at++) await page.keyboard.press('ArrowRight');
      const page_ = await shown(page);
      const want = expected(views.get(v)!);
      expect(page_.version).toBe(v);
      expect(page_.tasks).toEqual(want.tasks);
      expect(nonZero(page_.counts)).toEqual(want.counts);
      expect(page_.context).toBe(want.context);
      expect(page_.currentRow).toBe(String(v - 1));
      expect(page_.hash).toBe(`#v=${v}`);
    }
    await page.keyboard.press('End');
    expect((await shown(page)).version).toBe(last);
    await page.keyboard.press('ArrowRight'); // past the end stays at the end
    expect((await shown(page)).version).toBe(last);
    expect(watch).toEqual({ requests: [], errors: [], dialogs: [] });
  });

  it('opens at the event its URL fragment names, jumps to a clicked event, and shows that event whole with what it changed', async () => {
    const url = await writePage(demo, 'demo');
    const { page } = await open(`${url}#v=30`);
    expect((await shown(page)).version).toBe(30);
    const events = await storedEvents(demo, 'demo');
    const target = events[25]!;
    await page.click(`#event-list .row[data-step="${target.version - 1}"]`);
    expect((await shown(page)).version).toBe(target.version);
    expect(JSON.parse((await page.textContent('#event-json'))!)).toEqual(JSON.parse(JSON.stringify(target)));
    // What changed: a task move shows the task's state before and after.
    const move = events.find((e) => e.type === 'TaskTransitioned' && e.data.event === 'START')!;
    await page.evaluate((v) => (location.hash = `#v=${v}`), move.version);
    await page.waitForFunction((v) => document.body.dataset.version === String(v), move.version);
    const diff = await page.locator('#diff div').allTextContents();
    const { taskId } = move.data as { taskId: string };
    expect(diff).toEqual([`- tasks.${taskId}: "pending"`, `+ tasks.${taskId}: "in_progress"`]);
  });

  it('filters the task list by state and the events by kind', async () => {
    const url = await writePage(demo, 'demo');
    const { page } = await open(url);
    const final = expected((await engineViews(demo, 'demo', [last])).get(last)!);
    await page.selectOption('#task-filter', 'completed');
    const rows = await page.locator('#task-list .row').evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.task));
    expect(rows).toEqual(final.tasks.filter(([, state]) => state === 'completed').map(([id]) => id));
    const before = await page.locator('#event-list .spacer').evaluate((el) => (el as HTMLElement).style.height);
    await page.uncheck('#lane-filters input[data-kind="task"]');
    const after = await page.locator('#event-list .spacer').evaluate((el) => (el as HTMLElement).style.height);
    const taskEvents = (await storedEvents(demo, 'demo')).filter((e) => e.type === 'TaskAdded' || e.type === 'TaskTransitioned').length;
    expect(parseInt(before, 10) - parseInt(after, 10)).toBe(taskEvents * 20);
    const types = await page.locator('#event-list .row .type').allTextContents();
    expect(types.some((t) => t.startsWith('Task'))).toBe(false);
  });

  it('zooms the timeline around the pointer and back to fit, and tells the time and durations of the event under the pointer', async () => {
    const { page, watch } = await open(await writePage(demo, 'demo'));
    const span = async () => {
      const [from, to] = (await page.evaluate(() => document.body.dataset.range as string)).split('..').map(Number);
      return { from: from!, to: to!, width: to! - from! };
    };
    const fit = await span();
    const box = (await page.locator('#timeline-overlay').boundingBox())!;
    // The first lane (task moves) is 6-22 px from the top; its events start after the 110 px of labels.
    const x = box.x + 110 + (box.width - 118) * 0.5;
    const y = box.y + 14;
    await page.mouse.move(x, y);
    await page.mouse.wheel(0, -300);
    await page.waitForFunction((w) => Number(document.body.dataset.range.split('..')[1]) - Number(document.body.dataset.range.split('..')[0]) < w, fit.width);
    const zoomed = await span();
    expect(zoomed.width).toBeLessThan(fit.width);
    expect(zoomed.from).toBeGreaterThanOrEqual(fit.from);
    expect(zoomed.to).toBeLessThanOrEqual(fit.to);
    await page.click('#zoom-fit');
    expect(await span()).toEqual(fit);
    await page.mouse.move(x, y);
    const tip = (await page.textContent('#tooltip'))!.split('\n');
    expect(await page.locator('#tooltip').isVisible()).toBe(true);
    expect(tip[0]).toMatch(/^Task(Added|Transitioned) · v\d+$/);
    expect(tip[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(tip[2]).toMatch(/^\+[\d.]+ (ms|s|min \d+ s) after the event before$/);
    // A click picks that event.
    const version = Number(/v(\d+)$/.exec(tip[0]!)![1]);
    await page.mouse.down();
    await page.mouse.up();
    expect((await shown(page)).version).toBe(version);
    const events = await storedEvents(demo, 'demo');
    expect(tip[1]).toBe(events[version - 1]!.meta.at);
    // One step a unit: the charts span the steps.
    await page.selectOption('#x-axis', 'steps');
    const steps = await span();
    expect(steps.from).toBeLessThan(0);
    expect(steps.to).toBeGreaterThan(events.length - 1);
    expect(steps.to).toBeLessThan(events.length + 2);
    expect(watch).toEqual({ requests: [], errors: [], dialogs: [] });
  });

  it('shows the fork tree: the parent links its child at the fork point, the child its parent', async () => {
    const parent = await open(await writePage(demo, 'demo'));
    const link = parent.page.locator('#fork-tree a');
    expect(await link.getAttribute('href')).toBe('demo-r1-alt.html');
    expect(await parent.page.locator('#fork-tree').textContent()).toContain(`forked at v${forkedAt}`);
    expect(await parent.page.locator('#lane-filters').textContent()).toContain('forks (1)'); // the child's fork point, on the timeline
    await parent.page.click('#fork-tree button');
    expect((await shown(parent.page)).version).toBe(forkedAt);
    const childUrl = await writePage(demo, 'demo-r1-alt');
    const child = await open(childUrl);
    expect(await child.page.locator('#fork-tree .parent').textContent()).toContain('forked from demo');
    expect(await child.page.locator('#fork-tree .parent a').getAttribute('href')).toBe('demo.html');
    // A fork starts from its parent's tasks at the fork point.
    const views = await engineViews(demo, 'demo-r1-alt', [1, forkLength]);
    await child.page.keyboard.press('Home');
    expect((await shown(child.page)).tasks).toEqual(expected(views.get(1)!).tasks);
    await child.page.keyboard.press('End');
    expect((await shown(child.page)).tasks).toEqual(expected(views.get(forkLength)!).tasks);
  });

  it('renders titles, reasons and summaries as text: no script of theirs runs', async () => {
    const cwd = await tempDir('moai-inspector-xss-');
    const payloads = ['<script>window.__pwned = 1</script>', '"><img src=x onerror="window.__pwned = 2">', "<svg onload='window.__pwned = 3'></svg>", '</script><script>window.__pwned = 4</script>'];
    const run = async (...args: string[]) => expect((await runInProcess(args, cwd)).code).toBe(0);
    await run('start', '--session', 'xss', '--agent', 'a', '--model', 'claude-sonnet-4-5', '--title', payloads[0]!);
    await run('task', 'add', 'xss', 't1', '--title', payloads[1]!);
    await run('task', 'send', 'xss', 't1', 'START', '--reason', payloads[2]!);
    await run('task', 'send', 'xss', 't1', 'FAIL', '--reason', payloads[3]!);
    const url = await writePage(cwd, 'xss');
    const html = await readFile(new URL(url), 'utf8');
    expect(html.match(/<\/script>/g)).toHaveLength(2); // the data element's and the page code's own
    const { page, watch } = await open(url);
    for (let v = 1; v <= 4; v++) {
      await page.evaluate((n) => (location.hash = `#v=${n}`), v);
      await page.waitForFunction((n) => document.body.dataset.version === String(n), v);
    }
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(2);
    expect(await page.textContent('#title')).toBe(payloads[0]);
    expect(await page.locator('#task-list .row .title').first().textContent()).toBe(payloads[1]);
    expect(await page.textContent('#event-json')).toContain(JSON.stringify(payloads[3]).slice(1, -1));
    const briefs = await page.locator('#event-list .row .brief').allTextContents();
    expect(briefs.some((b) => b.includes(payloads[2]!))).toBe(true);
    expect(watch).toEqual({ requests: [], errors: [], dialogs: [] });
    const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(policy).toMatch(/^default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; img-src data:; connect-src 'none'/);
  });

  it('shows a session imported from real Claude Code transcripts: the token history agrees with sessionState, the compaction marked', async () => {
    const cwd = await tempDir('moai-inspector-cc-');
    const folder = join(TRANSCRIPT_FIXTURES, 'spotter-manual-compact');
    const file = join(folder, (await readdir(folder)).find((name) => name.endsWith('.jsonl'))!);
    const imported = await runInProcess(['import', 'claude-code', file], cwd);
    expect(imported.code, imported.stderr).toBe(0);
    const sessionId = 'ae4a77f8-aedd-4bc1-888f-c94edc91af04';
    const events = await storedEvents(cwd, sessionId);
    const compaction = events.find((e) => e.type === 'ContextCompacted')!;
    expect(compaction).toBeDefined();
    const { page, watch } = await open(await writePage(cwd, sessionId));
    const versions = [1, compaction.version - 1, compaction.version, Math.floor(events.length / 2), events.length];
    const views = await engineViews(cwd, sessionId, versions);
    for (const v of versions) {
      await page.evaluate((n) => (location.hash = `#v=${n}`), v);
      await page.waitForFunction((n) => document.body.dataset.version === String(n), v);
      const state = await shown(page);
      expect(state.context).toBe(views.get(v)!.tokens.contextTokens);
      expect(state.tasks).toEqual(expected(views.get(v)!).tasks);
    }
    expect(await page.locator('#lane-filters').textContent()).toContain('compactions (1)');
    expect(watch).toEqual({ requests: [], errors: [], dialogs: [] });
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      await page.evaluate((n) => (location.hash = `#v=${n}`), compaction.version + 3);
      await page.waitForFunction((n) => document.body.dataset.version === String(n), compaction.version + 3);
      await mkdir(new URL('../../docs/images/', import.meta.url), { recursive: true });
      await page.screenshot({ path: new URL('../../docs/images/inspector.png', import.meta.url).pathname, fullPage: true });
    }
  });

  it('shows every session imported from the Claude Code fixture transcripts as sessionState has it, subagents and sidechains included', async () => {
    const cwd = await tempDir('moai-inspector-cc-all-');
    const files: string[] = [];
    for (const source of await readdir(TRANSCRIPT_FIXTURES)) {
      for (const name of await readdir(join(TRANSCRIPT_FIXTURES, source))) if (name.endsWith('.jsonl')) files.push(join(TRANSCRIPT_FIXTURES, source, name));
    }
    const imported = await runInProcess(['import', 'claude-code', ...files], cwd);
    expect(imported.code, imported.stderr).toBe(0);
    const folder = await openStateFolder({ dir: '.moai', cwd, mode: 'read' });
    const sessions = await folder.engine.listSessions().finally(() => folder.close());
    expect(sessions.length).toBeGreaterThanOrEqual(files.length);
    for (const { sessionId } of sessions) {
      const length = (await storedEvents(cwd, sessionId)).length;
      const { page, watch } = await open(await writePage(cwd, sessionId));
      const versions = [...new Set([1, Math.ceil(length / 3), Math.ceil((2 * length) / 3), length])];
      const views = await engineViews(cwd, sessionId, versions);
      for (const v of versions) {
        await page.evaluate((n) => (location.hash = `#v=${n}`), v);
        await page.waitForFunction((n) => document.body.dataset.version === String(n), v);
        const state = await shown(page);
        expect(state.context, `${sessionId} v${v}`).toBe(views.get(v)!.tokens.contextTokens);
        expect(state.tasks, `${sessionId} v${v}`).toEqual(expected(views.get(v)!).tasks);
        expect(nonZero(state.counts), `${sessionId} v${v}`).toEqual(expected(views.get(v)!).counts);
      }
      expect(watch).toEqual({ requests: [], errors: [], dialogs: [] });
      await page.close();
    }
  });

  it('prints how long a 100,000-event page takes to open and to step (the targets are 2 s and 50 ms; npm run bench -- inspector checks them), and says what a longer one aggregated', async () => {
    const cwd = await writeLongSession(100_000);
    const url = await writePage(cwd, 'long');
    const started = Date.now();
    const { page, watch } = await open(url);
    const wall = Date.now() - started;
    const readyAt = await page.evaluate(() => Number(document.body.dataset.readyAt));
    const steps: number[] = [];
    await page.keyboard.press('Home');
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('ArrowRight');
      steps.push(Number(await page.evaluate(() => document.body.dataset.stepMs)));
    }
    await page.keyboard.press('End');
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('ArrowLeft');
      steps.push(Number(await page.evaluate(() => document.body.dataset.stepMs)));
    }
    steps.sort((a, b) => a - b);
    const median = steps[Math.floor(steps.length / 2)]!;
    console.log(
      `inspector, 100,000 events: page ready ${readyAt.toFixed(0)} ms after navigation (${wall} ms as the test saw it; target < 2000); ` +
        `one step median ${median.toFixed(1)} ms, slowest ${steps[steps.length - 1]!.toFixed(1)} ms of ${steps.length} (target < 50)`,
    );
    expect((await shown(page)).version).toBe(100_000 - 10);
    expect(await page.locator('#aggregation').isHidden()).toBe(true);
    expect(watch).toEqual({ requests: [], errors: [], dialogs: [] });

    const aggregated = await open(await writePage(cwd, 'long', '--max-steps', '10000'));
    const note = await aggregated.page.textContent('#aggregation');
    expect(note).toMatch(/^100,000 events, shown as [\d,]+ steps: runs of up to 10 consecutive events are aggregated into one step/);
    await aggregated.page.keyboard.press('End');
    expect((await shown(aggregated.page)).version).toBe(100_000);
    const max = Number(await aggregated.page.getAttribute('#slider', 'max'));
    expect(max).toBeLessThan(10_000 * 1.3); // the rare events kept one by one come on top
    expect(max).toBeGreaterThanOrEqual(10_000 - 1);
  }, 120_000);
});

describe.skipIf(missing !== undefined)('moai-session inspect in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Run the real command line in another process (through tsx, as a user's agent would run the binary). */
  const otherProcess = (args: string[], cwd: string) =>
    new Promise<number>((resolve, reject) => {
      const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], { cwd, stdio: 'ignore' });
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? -1));
    });

  it('follows the log live: an event another process appends appears and the slider extends; the page survives the server going away and says so', async () => {
    const cwd = await tempDir('moai-inspect-live-');
    expect((await runInProcess(['start', '--session', 'live', '--agent', 'a', '--model', 'claude-sonnet-4-5', '--title', 'Live'], cwd)).code).toBe(0);
    expect((await runInProcess(['task', 'add', 'live', 't1', '--title', 'First'], cwd)).code).toBe(0);
    const controller = new AbortController();
    let stdout = '';
    let listening!: (url: string) => void;
    const url = new Promise<string>((resolve) => (listening = resolve));
    const done = inspectCommand(
      { dir: '.moai', json: false, debug: false, sessionId: 'live', onListening: listening },
      { stdout: (t) => (stdout += t), stderr: () => {}, cwd, env: process.env, signal: controller.signal },
    );
    const address = await url;
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/session\/live$/);
    expect(stdout).toContain(`Inspecting session live at ${address}`);
    const origin = new URL(address).origin;

    // The server's own answers: the page's policy, and nothing for a name that is not its own.
    const served = await fetch(address);
    expect(served.headers.get('content-security-policy')).toMatch(/connect-src 'self'/);
    const rebound = await new Promise<number>((resolve) => {
      const request = httpGet(address, { headers: { host: 'attacker.example' } }, (response) => resolve(response.statusCode ?? 0));
      request.end();
    });
    expect(rebound).toBe(421);

    const { page, watch } = await watchedPage(browser, (u) => u.startsWith(origin));
    await page.goto(address);
    await page.waitForSelector('body[data-ready]');
    await page.waitForFunction(() => document.body.dataset.live === 'up');
    expect((await shown(page)).version).toBe(2);

    expect(await otherProcess(['task', 'add', 'live', 't2', '--title', 'From another process'], cwd)).toBe(0);
    await page.waitForFunction(() => document.body.dataset.version === '3', undefined, { timeout: 15_000 });
    expect(await page.getAttribute('#slider', 'max')).toBe('2');
    expect((await shown(page)).tasks).toEqual([['t1', 'pending'], ['t2', 'pending']]);
    expect(await page.textContent('#totals')).toBe('3 events');
    expect(await page.textContent('#live')).toBe('live: following the log'); // on the first connection, not after a reconnect

    controller.abort();
    expect(await done).toBe(0);
    await page.waitForFunction(() => document.body.dataset.live === 'down', undefined, { timeout: 15_000 });
    expect(await page.textContent('#live')).toMatch(/the server went away at \d\d:\d\d:\d\d UTC: showing what was received \(up to v3\)/);
    await page.keyboard.press('Home');
    expect((await shown(page)).version).toBe(1);
    expect(watch.errors.filter((e) => !e.includes('ERR_CONNECTION_REFUSED') && !e.includes('EventSource'))).toEqual([]);
    expect(watch.requests).toEqual([]);
    expect(watch.dialogs).toEqual([]);
  }, 60_000);

  it('warns when told to listen beyond the loopback address, and says plainly when the port is taken', async () => {
    const cwd = await tempDir('moai-inspect-opts-');
    await runInProcess(['start', '--session', 's', '--agent', 'a', '--model', 'claude-sonnet-4-5'], cwd);
    let stderr = '';
    const io = { stdout: () => {}, stderr: (t: string) => (stderr += t), cwd, env: process.env, signal: AbortSignal.abort() };
    expect(await inspectCommand({ dir: '.moai', json: false, debug: false, sessionId: 's', host: '0.0.0.0' }, io)).toBe(0);
    expect(stderr).toContain('warning: listening on 0.0.0.0, not only the loopback address');
    const taken = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    const port = String((taken.address() as { port: number }).port);
    const busy = await runInProcess(['inspect', 's', '--port', port], cwd);
    taken.close();
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`Port ${port} on 127.0.0.1 is in use`);
  });
});
