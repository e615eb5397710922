// The token history: the context in use after each step against the model's
// window and the monitor / warning / emergency lines, with compactions,
// checkpoints, handoffs and model switches marked.
import { sizeCanvas } from './dom.js';
import { digits } from './format.js';

const LEFT = 110;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 18;
export const LINE_COLOURS = { context: '#2b6cb0', window: '#1a202c', monitor: '#d69e2e', warning: '#dd6b20', emergency: '#e53e3e' };
export const MARKS = {
  compaction: { colour: '#805ad5', glyph: '▼' },
  checkpoint: { colour: '#38a169', glyph: '■' },
  handoff: { colour: '#dd6b20', glyph: '◆' },
  model: { colour: '#3182ce', glyph: '●' },
};

export function createTokenChart({ model, range, base, overlay }) {
  const steps = model.data.steps;
  const thresholds = model.data.thresholds;
  let current = 0;
  const yMax = () => {
    let max = 1;
    for (let i = 0; i < model.length; i++) {
      const window = steps.contextWindow[i];
      if (window !== null && window > max) max = window;
      if (steps.contextTokens[i] > max) max = steps.contextTokens[i];
    }
    return max * 1.05;
  };
  let top = yMax();
  const geometry = (width, height) => ({
    x: (at) => LEFT + ((at - range.from) / (range.to - range.from)) * (width - LEFT - RIGHT),
    y: (tokens) => TOP + (1 - tokens / top) * (height - TOP - BOTTOM),
  });

  /** A step line over every step: one vertical span per pixel column, so a long session draws as fast as a short one. */
  const series = (context, g, width, value) => {
    context.beginPath();
    let started = false;
    let lastPx = -Infinity;
    let lastY = 0;
    for (let i = 0; i < model.length; i++) {
      const v = value(i);
      if (v === null) {
        started = false;
        continue;
      }
      const px = g.x(model.x(i));
      if (px < LEFT - 50 || px > width + 50) continue;
      const py = g.y(v);
      if (!started) {
        context.moveTo(px, py);
        started = true;
      } else if (px - lastPx < 0.5) {
        context.lineTo(lastPx, py);
      } else {
        context.lineTo(px, lastY);
        context.lineTo(px, py);
      }
      lastPx = Math.max(px, lastPx);
      lastY = py;
    }
    context.stroke();
  };

  const drawBase = () => {
    top = yMax();
    const { context, width, height } = sizeCanvas(base);
    const g = geometry(width, height);
    context.clearRect(0, 0, width, height);
    context.font = '10px sans-serif';
    context.fillStyle = '#4a5568';
    for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
      const tokens = top * fraction;
      context.fillText(digits(tokens), 4, g.y(tokens) + 3);
      context.fillStyle = '#edf2f7';
      context.fillRect(LEFT, g.y(tokens), width - LEFT - RIGHT, 1);
      context.fillStyle = '#4a5568';
    }
    context.save();
    context.beginPath();
    context.rect(LEFT, 0, width - LEFT - RIGHT, height);
    context.clip();
    context.lineWidth = 1;
    context.setLineDash([4, 3]);
    context.strokeStyle = LINE_COLOURS.window;
    series(context, g, width, (i) => steps.contextWindow[i]);
    for (const level of ['monitor', 'warning', 'emergency']) {
      context.strokeStyle = LINE_COLOURS[level];
      series(context, g, width, (i) => (steps.contextWindow[i] === null ? null : (steps.contextWindow[i] * thresholds[level]) / 100));
    }
    context.setLineDash([]);
    context.lineWidth = 1.5;
    context.strokeStyle = LINE_COLOURS.context;
    series(context, g, width, (i) => steps.contextTokens[i]);
    context.font = '11px sans-serif';
    for (const [kind, mark] of Object.entries(MARKS)) {
      const lane = model.data.dict.kinds.findIndex((k) => k.id === kind);
      if (lane < 0) continue;
      context.fillStyle = mark.colour;
      for (const step of model.lanes[lane]) {
        const px = g.x(model.x(step));
        context.globalAlpha = 0.35;
        context.fillRect(px, TOP, 1, height - TOP - BOTTOM);
        context.globalAlpha = 1;
        context.fillText(mark.glyph, px - 4, TOP + 2);
      }
    }
    context.restore();
  };

  const drawOverlay = () => {
    const { context, width, height } = sizeCanvas(overlay);
    const g = geometry(width, height);
    context.clearRect(0, 0, width, height);
    if (model.length === 0) return;
    const px = g.x(model.x(current));
    context.fillStyle = '#e53e3e';
    context.fillRect(px - 1, 0, 2, height);
    context.beginPath();
    context.arc(px, g.y(steps.contextTokens[current]), 4, 0, Math.PI * 2);
    context.fillStyle = LINE_COLOURS.context;
    context.fill();
  };

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
