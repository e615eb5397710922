import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openStateFolder, sessionStream, type StoredEvent } from '../src/index.js';
import { settingsFromConfig } from '../src/engine/settings.js';
import { readSessionPage } from '../src/viz/readSessionPage.js';
import { renderSessionPage } from '../src/viz/sessionPage.js';
import { writeLongSession } from '../test/viz/longSession.js';
import { median, report } from './report.js';

const EVENTS = 100_000;
const CHROMIUM = '/usr/bin/chromium';

/**
 * The session inspector on a 100,000-event session, in Chromium: how long the
 * page takes from navigation to ready, and one step (→), against the issue's
 * budgets (2 s, 50 ms) and against a page that only parses the same events
 * stored one JSON object per event (what the columnar packing replaces).
 */
export async function benchInspector(): Promise<boolean> {
  if (!existsSync(CHROMIUM)) {
    console.log(`\ninspector: skipped, ${CHROMIUM} is not installed (apt-get install -y chromium)`);
    return process.env.CI !== 'true';
  }
  const cwd = await writeLongSession(EVENTS);
  const folder = await openStateFolder({ dir: '.moai', cwd, mode: 'read' });
  let page: string;
  let objects: string;
  const writeStarted = performance.now();
  try {
    const { data } = await readSessionPage(folder.engine.store, 'long', { settings: settingsFromConfig() });
    page = join(cwd, 'long.html');
    await writeFile(page, renderSessionPage(data));
    const events: StoredEvent[] = [];
    for await (const event of folder.engine.store.readStream(sessionStream('long'))) events.push(event);
    objects = join(cwd, 'objects.html');
    const json = JSON.stringify(events).replace(/</g, '\\u003c');
    await writeFile(
      objects,
      `<!doctype html><meta charset="utf-8"><body><script type="application/json" id="d">${json}</script>` +
        `<script>const events = JSON.parse(document.getElementById('d').textContent); document.body.dataset.count = events.length; document.body.dataset.readyAt = performance.now().toFixed(1); document.body.dataset.ready = 'true';</script>`,
    );
  } finally {
    await folder.close();
  }
  const writeMs = performance.now() - writeStarted;

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const readyAt = async (file: string): Promise<{ ms: number; page: import('playwright-core').Page }> => {
    const tab = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    await tab.goto(pathToFileURL(file).href);
    await tab.waitForSelector('body[data-ready]', { state: 'attached', timeout: 60_000 });
    return { ms: Number(await tab.evaluate(() => (globalThis as unknown as { document: { body: { dataset: { readyAt: string } } } }).document.body.dataset.readyAt)), page: tab };
  };
  try {
    const opens: number[] = [];
    const baselines: number[] = [];
    let last;
    for (let run = 0; run < 3; run++) {
      baselines.push((await readyAt(objects)).ms);
      last = await readyAt(page);
      opens.push(last.ms);
      if (run < 2) await last.page.close();
    }
    const tab = last!.page;
    const steps: number[] = [];
    await tab.keyboard.press('Home');
    for (let i = 0; i < 30; i++) {
      await tab.keyboard.press('ArrowRight');
      steps.push(Number(await tab.evaluate(() => (globalThis as unknown as { document: { body: { dataset: { stepMs: string } } } }).document.body.dataset.stepMs)));
    }
    const open = median(opens);
    const step = median(steps);
    console.log(`\ninspector: ${EVENTS.toLocaleString('en-US')}-event session, page written in ${Math.round(writeMs)} ms (log read, folded, packed, rendered)`);
    const opened = report(`inspector: ${EVENTS.toLocaleString('en-US')}-event page, navigation to ready in Chromium (median of 3)`, open, 'ms', [
      { baseline: "the issue's budget", baselineValue: 2000, ratio: open / 2000, target: { max: 1, label: '< 2 s' } },
      { baseline: 'a page that only parses the same events as one JSON object each', baselineValue: median(baselines), ratio: open / median(baselines) },
    ]);
    const stepped = report(`inspector: one step (→) on that page (median of ${steps.length}; slowest ${Math.max(...steps).toFixed(1)} ms)`, step, 'ms', [
      { baseline: "the issue's budget", baselineValue: 50, ratio: step / 50, target: { max: 1, label: '< 50 ms' } },
    ]);
    return opened && stepped;
  } finally {
    await browser.close();
  }
}
