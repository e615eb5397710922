import { createHash } from 'node:crypto';
import { INSPECTOR_SCRIPT, INSPECTOR_STYLE } from './generated/inspectorAssets.js';
import type { SessionPageData } from './sessionPageData.js';

/** Options of {@link renderSessionPage}. */
export interface SessionPageOptions {
  /** For `moai-session inspect`: the path the page follows the log at (server-sent events, same origin). */
  liveUrl?: string;
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Text for an HTML element or attribute: `&`, `<`, `>`, `"` and `'` as entities. */
export const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/**
 * JSON that can sit inside a `<script type="application/json">` element: no
 * `<` (so no `</script>` can end it early), and U+2028/U+2029 escaped.
 */
export const jsonForScript = (value: unknown): string =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/**
 * The Content-Security-Policy of a session's page: nothing from anywhere but
 * its own inline script and style (by hash), images only as data URLs, and a
 * connection only back to the server that served a live page.
 */
export function sessionPagePolicy(live: boolean): string {
  return [
    "default-src 'none'",
    `script-src ${sha256(INSPECTOR_SCRIPT)}`,
    `style-src ${sha256(INSPECTOR_STYLE)}`,
    'img-src data:',
    `connect-src ${live ? "'self'" : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/**
 * A session's page: one self-contained HTML document (all code and data
 * inline, nothing fetched) with the state chart, the task list, the token
 * history, the timeline, the event list, what changed at the chosen event and
 * the fork tree. Event data travels as JSON in a data element and is shown as
 * text only; the page's policy lets no other script run.
 */
export function renderSessionPage(data: SessionPageData, options: SessionPageOptions = {}): string {
  const live = options.liveUrl !== undefined;
  const title = data.title === undefined ? `Session ${data.sessionId}` : `${data.title} (${data.sessionId})`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(sessionPagePolicy(live))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${live ? `<meta name="moai-live" content="${escapeHtml(options.liveUrl!)}">\n` : ''}<title>${escapeHtml(title)} · moai-session</title>
<style>${INSPECTOR_STYLE}</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <span class="meta">session <code id="session-id"></code></span>
  <span class="meta" id="status"></span>
  <span class="meta" id="totals"></span>
  <span class="meta" id="cost"></span>
  <span id="live" hidden></span>
  <p id="aggregation" hidden></p>
</header>
<div id="scrub">
  <input id="slider" type="range" min="0" max="0" value="0" aria-label="the chosen event">
  <span id="position"></span>
</div>
<main>
  <section id="chart-panel">
    <h2>State chart <span class="aside">each state's count of tasks; the moved task's state marked</span></h2>
    <div id="chart"></div>
  </section>
  <section id="tasks-panel">
    <h2>Tasks <select id="task-filter" aria-label="only the tasks in this state"><option value="">every state</option></select> <span class="aside" id="task-count"></span></h2>
    <div id="task-list" class="list"></div>
  </section>
  <section id="tokens-panel" class="wide">
    <h2>Token history <span class="aside" id="token-readout"></span></h2>
    <div id="token-legend"></div>
    <div class="canvas-pair"><canvas id="tokens"></canvas><canvas id="tokens-overlay"></canvas></div>
  </section>
  <section id="timeline-panel" class="wide">
    <h2>Timeline <button id="zoom-fit" type="button">zoom to fit</button> <select id="x-axis" aria-label="the x axis of the timeline and the token history"><option value="time">by time</option><option value="steps">one step a unit</option></select> <span class="aside">wheel to zoom, drag to pan, click an event to go there</span></h2>
    <div id="lane-filters"></div>
    <div class="canvas-pair"><canvas id="timeline"></canvas><canvas id="timeline-overlay"></canvas></div>
  </section>
  <section id="events-panel">
    <h2>Events <span class="aside">←/→ step, Home/End, click to go</span></h2>
    <div id="event-list" class="list"></div>
  </section>
  <section id="change-panel">
    <h2>What changed</h2>
    <div id="diff"></div>
    <h2>The event</h2>
    <pre id="event-json"></pre>
  </section>
  <section id="forks-panel" class="wide">
    <h2>Fork tree</h2>
    <ul id="fork-tree"></ul>
  </section>
</main>
<div id="tooltip" hidden></div>
<script type="application/json" id="session-data">${jsonForScript(data)}</script>
<script>${INSPECTOR_SCRIPT}</script>
</body>
</html>
`;
}
