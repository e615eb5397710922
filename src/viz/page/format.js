// Text the page shows: numbers, times, durations, an event in one line, a diff.

/** 1234567 as 1,234,567. */
export const digits = (n) => (typeof n === 'number' ? Math.round(n).toLocaleString('en-US') : String(n));

/** A US-dollar amount. */
export const dollars = (usd) => `$${usd.toFixed(usd >= 100 ? 0 : 2)}`;

/** A time as ISO-8601 UTC, to the millisecond. */
export const isoTime = (ms) => new Date(ms).toISOString();

/** A duration in the largest units that say it: 350 ms, 4.2 s, 3 min 5 s, 2 h 10 min, 3 d 4 h. */
export function duration(ms) {
  if (!Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m - h * 60} min`;
  const d = Math.floor(h / 24);
  return `${d} d ${h - d * 24} h`;
}

/** What an event says, in a few words after its type. */
export function brief(event) {
  const d = event.data ?? {};
  switch (event.type) {
    case 'TaskAdded':
      return `${d.taskId}: ${d.title}`;
    case 'TaskTransitioned':
      return `${d.taskId}: ${d.from} → ${d.to} (${d.event})${d.reason ? `: ${d.reason}` : ''}`;
    case 'TokenUsageRecorded':
      return `${d.model}${d.main === false ? ' (sidechain)' : ''}: in ${digits(d.inputTokens)}, out ${digits(d.outputTokens)}, cache ${digits(d.cacheCreationInputTokens)}+${digits(d.cacheReadInputTokens)}`;
    case 'BudgetThresholdCrossed':
    case 'BudgetThresholdCleared':
      return `${d.level}`;
    case 'ContextCompacted':
      return `${digits(d.tokensBefore)} → ${digits(d.tokensAfter)}${d.trigger ? ` (${d.trigger})` : ''}`;
    case 'CheckpointCreated':
      return `${d.checkpointId}: ${d.reason}`;
    case 'ModelSwitched':
      return `${d.from} → ${d.to}`;
    case 'HandoffRequested':
      return `${d.fromAgent} → ${d.toAgent}`;
    case 'SessionForked':
      return `from ${d.parentSessionId} at v${d.parentVersion}`;
    case 'SessionStarted':
    case 'SessionResumed':
      return `${d.agent ?? ''}${d.title ? `: ${d.title}` : ''}`;
    case 'SessionEnded':
      return d.reason ?? '';
    default: {
      const text = JSON.stringify(d);
      return text.length > 120 ? `${text.slice(0, 117)}...` : text;
    }
  }
}

/** Flatten a summary into `path: value` lines. */
function flatten(value, path, out) {
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) flatten(value[key], path === '' ? key : `${path}.${key}`, out);
  } else out.set(path, JSON.stringify(value));
  return out;
}

/**
 * The lines of a diff between two states: `- path: before` and `+ path: after`
 * for each field that changed (a field only in one is only - or +).
 */
export function diffLines(before, after) {
  const a = flatten(before, '', new Map());
  const b = flatten(after, '', new Map());
  const lines = [];
  for (const [path, value] of a) {
    if (!b.has(path)) lines.push({ sign: '-', text: `${path}: ${value}` });
    else if (b.get(path) !== value) {
      lines.push({ sign: '-', text: `${path}: ${value}` });
      lines.push({ sign: '+', text: `${path}: ${b.get(path)}` });
    }
  }
  for (const [path, value] of b) if (!a.has(path)) lines.push({ sign: '+', text: `${path}: ${value}` });
  return lines;
}
