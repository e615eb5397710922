// The session inspector: one page, all code and data inline. It reads the
// packed session from the page's JSON script element, draws the state chart,
// the task list, the token history, the timeline and the event list, and keeps
// them on one chosen step (slider, ←/→/Home/End, clicks, the URL fragment).
import { el, virtualList } from './dom.js';
import { brief, diffLines, digits, dollars, isoTime } from './format.js';
import { followLive } from './live.js';
import { createModel, lastAtMost } from './model.js';
import { createTimeline, createTimeRange, LANE_COLOURS } from './timeline.js';
import { createTokenChart, LINE_COLOURS, MARKS } from './tokens.js';

const started = performance.now();
const data = JSON.parse(document.getElementById('session-data').textContent);
const model = createModel(data);
const $ = (id) => document.getElementById(id);
const ROW = 20;

// ---- header -------------------------------------------------------------------
$('title').textContent = data.title ? `${data.title}` : `Session ${data.sessionId}`;
$('session-id').textContent = data.sessionId;
$('totals').textContent = `${digits(data.totalEvents)} events`;
if (data.aggregation) {
  $('aggregation').textContent = data.aggregation.note;
  $('aggregation').hidden = false;
}

// ---- the state chart -------------------------------------------------------------
const svg = new DOMParser().parseFromString(data.machine.svg, 'image/svg+xml').documentElement;
$('chart').append(document.importNode(svg, true));
const chartNodes = new Map();
for (const state of data.machine.chart.states) {
  const node = document.getElementById(`state-${state.id}`);
  if (node === null) continue;
  const shape = node.querySelector('path, polygon, ellipse');
  const label = node.querySelector('text');
  const badge = document.createElementNS('http://www.w3.org/2000/svg', 'text');
  badge.setAttribute('class', 'badge');
  if (label !== null) {
    badge.setAttribute('x', String(Number(label.getAttribute('x')) + 0));
    badge.setAttribute('y', String(Number(label.getAttribute('y')) - 16));
    badge.setAttribute('text-anchor', 'middle');
  }
  node.append(badge);
  node.addEventListener('click', () => {
    filter.value = filter.value === state.id ? '' : state.id;
    refreshTasks();
  });
  chartNodes.set(state.id, { node, shape, badge });
}

// ---- the task list ------------------------------------------------------------
const filter = $('task-filter');
for (const state of data.dict.states) filter.append(el('option', { value: state, text: state }));
let taskStates = new Int32Array(0);
let stateCounts = new Int32Array(data.dict.states.length + 16);
let tasksAtStep = -1;
let tasksShown = 0;
let taskRows = [];
const taskList = virtualList($('task-list'), ROW, (i, row) => {
  const t = taskRows[i];
  const state = data.dict.states[taskStates[t]];
  row.dataset.task = data.tasks.ids[t];
  row.dataset.state = state;
  if (t === data.steps.task[current]) row.classList.add('current');
  row.append(el('span', { class: `state s-${state}`, text: state }), el('span', { class: 'id', text: data.tasks.ids[t] }), el('span', { class: 'title', text: data.tasks.titles[t] }));
  row.addEventListener('click', () => {
    const step = data.steps.task.lastIndexOf(t, current);
    if (step >= 0) go(step);
  });
});
const refreshTasks = () => {
  const wanted = filter.value === '' ? -1 : data.dict.states.indexOf(filter.value);
  taskRows = [];
  for (let t = 0; t < taskStates.length; t++) if (taskStates[t] >= 0 && (wanted < 0 || taskStates[t] === wanted)) taskRows.push(t);
  $('task-count').textContent = `${digits(taskRows.length)} of ${digits(tasksShown)} tasks`;
  taskList.setCount(taskRows.length);
};
filter.addEventListener('change', refreshTasks);

// ---- the timeline and the token chart ---------------------------------------------
const range = createTimeRange(model);
const shownLanes = new Set(data.dict.kinds.map((_, i) => i));
const filters = $('lane-filters');
data.dict.kinds.forEach((kind, lane) => {
  if (model.lanes[lane].length === 0) return;
  const box = el('input', { type: 'checkbox', checked: true, 'data-kind': kind.id });
  box.addEventListener('change', () => {
    if (box.checked) shownLanes.add(lane);
    else shownLanes.delete(lane);
    timeline.redraw();
    refreshEvents();
  });
  const swatch = el('span', { class: 'swatch' });
  swatch.style.background = LANE_COLOURS[lane % LANE_COLOURS.length];
  filters.append(el('label', {}, box, swatch, `${kind.label} (${digits(model.lanes[lane].length)})`));
});
const timeline = createTimeline({ model, range, base: $('timeline'), overlay: $('timeline-overlay'), tooltip: $('tooltip'), shownLanes, onPick: (step) => go(step) });
const tokens = createTokenChart({ model, range, base: $('tokens'), overlay: $('tokens-overlay') });
$('zoom-fit').addEventListener('click', () => range.fit());
// The span both charts show, for a reader's tools and the tests.
range.listeners.push(() => (document.body.dataset.range = `${range.from}..${range.to}`));
document.body.dataset.range = `${range.from}..${range.to}`;
$('x-axis').addEventListener('change', (event) => {
  model.axis = event.target.value;
  range.fit();
});
const legend = $('token-legend');
for (const [name, colour] of Object.entries(LINE_COLOURS)) {
  const swatch = el('span', { class: 'swatch' });
  swatch.style.background = colour;
  const label = name === 'context' ? 'context in use' : name === 'window' ? 'window' : `${name} (${data.thresholds[name]}%)`;
  legend.append(el('span', {}, swatch, label));
}
for (const [name, mark] of Object.entries(MARKS)) {
  const glyph = el('span', { class: 'glyph', text: mark.glyph });
  glyph.style.color = mark.colour;
  legend.append(el('span', {}, glyph, name === 'model' ? 'model switch' : name));
}

// ---- the event list -----------------------------------------------------------------
let eventRows = [];
const eventList = virtualList($('event-list'), ROW, (i, row) => {
  const step = eventRows[i];
  const event = model.event(step);
  row.dataset.step = String(step);
  if (step === current) row.classList.add('current');
  const swatch = el('span', { class: 'swatch' });
  swatch.style.background = LANE_COLOURS[model.laneOf(step) % LANE_COLOURS.length];
  const covers = model.covers(step);
  row.append(
    swatch,
    el('span', { class: 'v', text: covers > 1 ? `v${model.version(step) - covers + 1}–${model.version(step)}` : `v${model.version(step)}` }),
    el('span', { class: 'time', text: isoTime(model.time(step)).slice(11, 23) }),
    el('span', { class: 'type', text: event.type }),
    el('span', { class: 'brief', text: brief(event) }),
  );
  row.addEventListener('click', () => go(step));
});
const refreshEvents = () => {
  eventRows = [];
  for (let step = 0; step < model.length; step++) if (shownLanes.has(model.laneOf(step))) eventRows.push(step);
  eventList.setCount(eventRows.length);
};

// ---- the fork tree ------------------------------------------------------------------
const forkTree = $('fork-tree');
const forkLink = (fork, text) => el('a', { href: fork.href, text: `${fork.sessionId}${fork.title ? ` (${fork.title})` : ''}` }, text);
if (data.forks.parent) {
  forkTree.append(el('li', { class: 'parent' }, 'forked from ', forkLink(data.forks.parent), ` at v${data.forks.parent.atVersion}`));
}
const children = el('ul');
forkTree.append(el('li', { class: 'self' }, el('strong', { text: data.sessionId }), children));
for (const child of data.forks.children) {
  const jump = el('button', { type: 'button', text: `v${child.atVersion}`, title: 'go to the fork point' });
  jump.addEventListener('click', () => go(model.stepOfVersion(child.atVersion)));
  children.append(el('li', {}, forkLink(child), ' forked at ', jump));
}
if (!data.forks.parent && data.forks.children.length === 0) forkTree.append(el('li', { class: 'none', text: 'no forks' }));

// ---- the chosen step -------------------------------------------------------------------
const slider = $('slider');
let current = -1;
const lastMs = { step: 0 };

function showChange(step) {
  // Only the tasks this step moved can differ: the rest of the state is a handful of fields.
  const moved = model.tasksChangedAt(step);
  const before = model.summary(step - 1, moved);
  const after = model.summary(step, moved);
  const diff = $('diff');
  diff.replaceChildren();
  for (const line of diffLines(before, after)) diff.append(el('div', { class: line.sign === '+' ? 'add' : 'del', text: `${line.sign} ${line.text}` }));
  if (diff.childElementCount === 0) diff.append(el('div', { class: 'same', text: 'no change to the state shown' }));
  $('event-json').textContent = JSON.stringify(model.event(step), null, 2);
}

/** The index of `value` in the ascending array `values`, or -1. */
function sortedIndexOf(values, value) {
  const i = lastAtMost(values, value);
  return i >= 0 && values[i] === value ? i : -1;
}

/** Show step `step` everywhere: slider, position, chart, tasks, tokens, timeline, event list, change. */
function go(step, { keepHash = false } = {}) {
  if (model.length === 0) return;
  const t0 = performance.now();
  step = Math.max(0, Math.min(model.length - 1, step));
  current = step;
  slider.max = String(model.length - 1);
  slider.value = String(step);
  const v = model.version(step);
  $('position').textContent = `step ${digits(step + 1)} of ${digits(model.length)} · v${v} · ${isoTime(model.time(step))} · ${model.typeOf(step)}`;
  document.body.dataset.step = String(step);
  document.body.dataset.version = String(v);
  // The chart: how many tasks are in each state, the current task's state marked.
  if (taskStates.length !== model.taskCount || stateCounts.length < data.dict.states.length) {
    // New tasks or states (live): start again from a fresh look-up.
    taskStates = new Int32Array(model.taskCount).fill(-1);
    stateCounts = new Int32Array(data.dict.states.length + 16);
    tasksAtStep = -1;
  }
  model.moveTasks(taskStates, stateCounts, tasksAtStep, step);
  tasksAtStep = step;
  tasksShown = 0;
  for (let i = 0; i < data.dict.states.length; i++) tasksShown += stateCounts[i];
  const task = data.steps.task[step];
  const taskState = task >= 0 ? data.dict.states[taskStates[task]] : undefined;
  for (const [state, { node, badge }] of chartNodes) {
    const count = stateCounts[data.dict.states.indexOf(state)] ?? 0;
    node.dataset.count = String(count);
    node.classList.toggle('occupied', count > 0);
    node.classList.toggle('current', state === taskState);
    badge.textContent = count > 0 ? String(count) : '';
  }
  refreshTasks();
  // The tokens.
  const s = data.steps;
  const window = s.contextWindow[step];
  const percent = window === null ? '' : ` of ${digits(window)} (${((s.contextTokens[step] / window) * 100).toFixed(1)}%, ${data.dict.levels[s.level[step]]})`;
  const readout = $('token-readout');
  readout.textContent = `context ${digits(s.contextTokens[step])}${percent} · model ${data.dict.models[s.model[step]]} · cost so far ${dollars(s.costUsd[step])}`;
  readout.dataset.context = String(s.contextTokens[step]);
  readout.dataset.cost = String(s.costUsd[step]);
  $('cost').textContent = `cost so far ${dollars(s.costUsd[step])}`;
  $('status').textContent = data.dict.statuses[s.status[step]];
  tokens.show(step);
  timeline.show(step);
  const row = sortedIndexOf(eventRows, step);
  if (row >= 0) eventList.reveal(row);
  else eventList.refresh();
  showChange(step);
  if (!keepHash) history.replaceState(null, '', `#v=${v}`);
  void document.body.offsetHeight; // the layout the step costs is part of it
  lastMs.step = performance.now() - t0;
  document.body.dataset.stepMs = lastMs.step.toFixed(2);
}

slider.addEventListener('input', () => go(Number(slider.value)));
document.addEventListener('keydown', (event) => {
  if (event.target instanceof HTMLInputElement && event.target.type !== 'range') return;
  if (event.target instanceof HTMLSelectElement) return;
  const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: model.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  go(moves[event.key]);
});
const fromHash = () => {
  const match = /^#v=(\d+)$/.exec(location.hash);
  return match ? model.stepOfVersion(Number(match[1])) : model.length - 1;
};
window.addEventListener('hashchange', () => go(fromHash(), { keepHash: true }));
window.addEventListener('resize', () => {
  timeline.redraw();
  tokens.redraw();
});

refreshEvents();
timeline.redraw();
tokens.redraw();
go(fromHash(), { keepHash: true });
document.body.dataset.loadMs = (performance.now() - started).toFixed(1);
document.body.dataset.readyAt = performance.now().toFixed(1); // since navigation started: parsing the page included
document.body.dataset.ready = 'true';

// ---- live ----------------------------------------------------------------------------
const live = document.querySelector('meta[name="moai-live"]');
if (live !== null) {
  followLive({
    url: live.getAttribute('content'),
    after: () => (model.length === 0 ? 0 : model.version(model.length - 1)),
    onSteps(steps) {
      const atEnd = current === model.length - 1;
      for (const step of steps) model.append(step);
      $('totals').textContent = `${digits(data.totalEvents)} events`;
      refreshEvents();
      if (atEnd) range.fit(); // following the end: the charts stretch to the new events
      timeline.redraw();
      tokens.redraw();
      go(atEnd ? model.length - 1 : current, { keepHash: !atEnd });
    },
    onStatus(text, ok) {
      const status = $('live');
      status.hidden = false;
      status.textContent = text;
      status.classList.toggle('down', !ok);
      document.body.dataset.live = ok ? 'up' : 'down';
    },
  });
}
