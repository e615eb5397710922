// The timeline: one lane per kind of event, each event a tick at its time;
// wheel to zoom around the pointer, drag to pan, "zoom to fit" to see it all,
// hover for the time and how long since the event before.
import { sizeCanvas } from './dom.js';
import { duration, isoTime } from './format.js';

export const LANE_COLOURS = ['#2b6cb0', '#718096', '#d69e2e', '#805ad5', '#38a169', '#dd6b20', '#e53e3e', '#3182ce', '#d53f8c', '#1a202c', '#319795', '#a0aec0'];
const LABEL_WIDTH = 110;
const LANE_HEIGHT = 16;

/** The time range both charts show, shared so they line up. */
export function createTimeRange(model) {
  const range = { from: 0, to: 1, listeners: [] };
  range.fit = () => {
    const first = model.x(0);
    const last = model.x(Math.max(0, model.length - 1));
    const pad = Math.max(1, (last - first) * 0.02);
    range.set(first - pad, last + pad);
  };
  range.set = (from, to) => {
    range.from = from;
    range.to = Math.max(to, from + 1);
    for (const listener of range.listeners) listener();
  };
  range.fit();
  return range;
}

/** The timeline's canvas pair (lanes below, cursor and hover above). */
export function createTimeline({ model, range, base, overlay, tooltip, shownLanes, onPick }) {
    const x = (at, width) => LABEL_WIDTH + ((at - range.from) / (range.to - range.from)) * (width - LABEL_WIDTH - 8);
  const xAt = (px, width) => range.from + ((px - LABEL_WIDTH) / (width - LABEL_WIDTH - 8)) * (range.to - range.from);
  const lanesShown = () => model.data.dict.kinds.map((_, i) => i).filter((i) => shownLanes.has(i) && model.lanes[i].length > 0);
  let current = 0;

  const drawBase = () => {
    const lanes = lanesShown();
    const wanted = `${12 + lanes.length * LANE_HEIGHT}px`;
    if (base.style.height !== wanted) base.style.height = overlay.style.height = wanted;
    const { context, width, height } = sizeCanvas(base);
    context.clearRect(0, 0, width, height);
    context.font = '11px sans-serif';
    lanes.forEach((lane, row) => {
      const y = 6 + row * LANE_HEIGHT;
      context.fillStyle = '#4a5568';
      context.fillText(`${model.data.dict.kinds[lane].label} (${model.lanes[lane].length})`, 4, y + 11);
      context.fillStyle = LANE_COLOURS[lane % LANE_COLOURS.length];
      let lastPx = -1;
      for (const step of model.lanes[lane]) {
        const px = Math.round(x(model.x(step), width));
        if (px === lastPx || px < LABEL_WIDTH || px > width) continue; // one tick a pixel is all the eye sees
        lastPx = px;
        context.fillRect(px, y + 2, 1.5, LANE_HEIGHT - 5);
      }
    });
  };

  const drawOverlay = (hover) => {
    const { context, width, height } = sizeCanvas(overlay);
    context.clearRect(0, 0, width, height);
    const px = x(model.x(current), width);
    context.fillStyle = '#e53e3e';
    context.fillRect(px - 1, 0, 2, height);
    if (hover !== undefined) {
      context.strokeStyle = '#1a202c';
      context.strokeRect(x(model.x(hover), width) - 3, 0, 6, height);
    }
  };

  /** The step nearest the pointer in the lane under it. */
  const nearest = (event) => {
    const rect = overlay.getBoundingClientRect();
    const lanes = lanesShown();
    const lane = lanes[Math.floor((event.clientY - rect.top - 6) / LANE_HEIGHT)];
    if (lane === undefined) return undefined;
    const at = xAt(event.clientX - rect.left, rect.width);
    const steps = model.lanes[lane];
    let lo = 0;
    let hi = steps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (model.x(steps[mid]) < at) lo = mid + 1;
      else hi = mid;
    }
    const candidates = [steps[lo - 1], steps[lo]].filter((s) => s !== undefined);
    candidates.sort((a, b) => Math.abs(model.x(a) - at) - Math.abs(model.x(b) - at));
    return candidates[0];
  };

  let drag;
  overlay.addEventListener('mousemove', (event) => {
    if (drag !== undefined) {
      const width = overlay.getBoundingClientRect().width - LABEL_WIDTH - 8;
      const shift = ((event.clientX - drag.x) / width) * (drag.to - drag.from);
      drag.moved = drag.moved || Math.abs(event.clientX - drag.x) > 3;
      range.set(drag.from - shift, drag.to - shift);
      return;
    }
    const step = nearest(event);
    if (step === undefined) {
      tooltip.hidden = true;
      drawOverlay();
      return;
    }
    const lines = [`${model.typeOf(step)} · v${model.version(step)}`, isoTime(model.time(step))];
    if (step > 0) lines.push(`+${duration(model.time(step) - model.time(step - 1))} after the event before`);
    const task = model.data.steps.task[step];
    if (task >= 0) {
      const previous = model.taskChangeBefore(task, step);
      if (previous !== undefined) lines.push(`task ${model.data.tasks.ids[task]}: ${duration(model.time(step) - model.time(previous))} since its last move`);
    }
    if (model.covers(step) > 1) lines.push(`${model.covers(step)} events aggregated`);
    for (const child of model.forksAt(step)) lines.push(`${child} forked here`);
    tooltip.textContent = lines.join('\n');
    tooltip.hidden = false;
    tooltip.style.left = `${event.clientX + 12}px`;
    tooltip.style.top = `${event.clientY + 12}px`;
    drawOverlay(step);
  });
  overlay.addEventListener('mouseleave', () => {
    tooltip.hidden = true;
    drag = undefined;
    drawOverlay();
  });
  overlay.addEventListener('mousedown', (event) => {
    drag = { x: event.clientX, from: range.from, to: range.to, moved: false };
  });
  overlay.addEventListener('mouseup', (event) => {
    const moved = drag?.moved;
    drag = undefined;
    if (moved) return;
    const step = nearest(event);
    if (step !== undefined) onPick(step);
  });
  overlay.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const rect = overlay.getBoundingClientRect();
      const at = xAt(event.clientX - rect.left, rect.width);
      const factor = event.deltaY > 0 ? 1.25 : 0.8;
      range.set(at - (at - range.from) * factor, at + (range.to - at) * factor);
    },
    { passive: false },
  );
  range.listeners.push(() => {
    drawBase();
    drawOverlay();
  });

  return {
    redraw() {
      drawBase();
      drawOverlay();
    },
    show(step) {
      current = step;
      drawOverlay();
    },
  };
}
