import { TASK_STATES } from '../../machines/taskLifecycleNames.js';
import type { BudgetThresholds } from '../budget/thresholds.js';
import { packRecords, type PackedRecords } from './columns.js';
import { EVENT_KIND_LABELS, EVENT_KINDS, eventKindOf, KINDS_KEPT_WHEN_AGGREGATING } from './eventKinds.js';
import type { MachineChart } from './machineGraph.js';
import type { SessionStep } from './sessionSteps.js';

/** A session related to the page's one by a fork, with the version it branched at. */
export interface ForkLink {
  sessionId: string;
  title: string | undefined;
  /** The parent's version the fork branched at. */
  atVersion: number;
  /** Where its own page is (relative to this one). */
  href: string;
}

/** The fork tree around a session: its parent (and where it branched) and its children. */
export interface ForkTree {
  parent: ForkLink | undefined;
  children: ForkLink[];
}

/** How a long session was aggregated into steps. */
export interface Aggregation {
  /** Events per step, at most. */
  stride: number;
  /** The kinds kept one event per step. */
  keptKinds: string[];
  /** One sentence the page shows. */
  note: string;
}

/**
 * Everything a session's page shows, packed by column (one array per field,
 * not one object per event): `steps` holds the state after each step,
 * `events` each step's event, `taskStates` every change of a task's state as
 * (step, task, state) triples. Strings repeat as indices into `dict`.
 */
export interface SessionPageData {
  format: 1;
  sessionId: string;
  title: string | undefined;
  /** How many events the session has (more than `steps.version.length` when aggregated). */
  totalEvents: number;
  aggregation: Aggregation | undefined;
  /** The time of the first step, ms since the epoch; `steps.at` counts from it. */
  t0: number;
  dict: {
    types: string[];
    /** The lane of each of `types`, as an index into `kinds`. */
    typeKinds: number[];
    kinds: { id: string; label: string }[];
    states: string[];
    statuses: string[];
    agents: string[];
    models: string[];
    levels: string[];
  };
  tasks: { ids: string[]; titles: string[] };
  /** Flat (step, task, state) triples, in step order. */
  taskStates: number[];
  steps: {
    version: number[];
    /** Events each step stands for; absent when every step is one event. */
    covers?: number[];
    /** When each step happened (see {@link timeline}), in ms after `t0`. */
    at: number[];
    type: number[];
    /** -1 for an event that names no task. */
    task: number[];
    contextTokens: number[];
    /** Null where the window is not known. */
    contextWindow: (number | null)[] | Runs<number | null>;
    /** -1 where the window is not known. */
    level: number[] | Runs<number>;
    costUsd: number[];
    status: number[] | Runs<number>;
    agent: number[] | Runs<number>;
    model: number[] | Runs<number>;
    checkpoints: number[] | Runs<number>;
  };
  events: PackedRecords;
  thresholds: BudgetThresholds;
  machine: { chart: MachineChart; svg: string };
  forks: ForkTree;
}

/** A column that changes rarely, as runs: value, how many steps in a row have it, value, count, ... */
export interface Runs<T> {
  runs: (T | number)[];
}

/** A column as runs when that is less than half its length (the page expands it on load). */
export function asRuns<T>(values: readonly T[]): T[] | Runs<T> {
  const runs: (T | number)[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i + 1;
    while (j < values.length && values[j] === values[i]) j++;
    runs.push(values[i]!, j - i);
    i = j;
  }
  return runs.length < values.length / 2 ? { runs } : [...values];
}

/** What a page needs besides the steps. */
export interface SessionPageMeta {
  sessionId: string;
  title: string | undefined;
  totalEvents: number;
  stride: number;
  thresholds: BudgetThresholds;
  machine: { chart: MachineChart; svg: string };
  forks: ForkTree;
}

/** A growing dictionary: each string's index, given once. */
class Interner {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  constructor(initial: readonly string[] = []) {
    for (const value of initial) this.of(value);
  }
  of(value: string): number {
    let n = this.index.get(value);
    if (n === undefined) {
      n = this.values.length;
      this.values.push(value);
      this.index.set(value, n);
    }
    return n;
  }
}

const thousands = (n: number): string => n.toLocaleString('en-US');

/** The sentence a page says about how it aggregated a long session. */
export function aggregationNote(totalEvents: number, steps: number, stride: number): string {
  return (
    `${thousands(totalEvents)} events, shown as ${thousands(steps)} steps: runs of up to ${stride} consecutive events are aggregated into one step ` +
    `(the state shown is exact at each step's last event; the event shown is that last one); ` +
    `thresholds, compactions, checkpoints, handoffs, recovery, model switches and session events are kept one by one.`
  );
}

/**
 * When each step happened, in order. An event that gives its own time (an
 * imported call's or compaction's `data.at`) is placed there; any other keeps
 * its distance from the event before it as recorded, but no later than the
 * next time an event gives (an import records everything at once, long after
 * it happened, so the events it wrote between two calls sit between them).
 * A session recorded live is placed at its record times. No step goes before
 * the one before it.
 */
export function timeline(steps: readonly Pick<SessionStep, 'at' | 'happenedAt'>[]): number[] {
  const nextGiven = new Array<number>(steps.length);
  let next = Infinity;
  for (let i = steps.length - 1; i >= 0; i--) {
    nextGiven[i] = next;
    const given = steps[i]!.happenedAt;
    if (given !== undefined) next = Math.min(next, given);
  }
  const times = new Array<number>(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const followed = i === 0 ? step.at : times[i - 1]! + (step.at - steps[i - 1]!.at);
    times[i] = step.happenedAt ?? Math.min(followed, nextGiven[i]!);
  }
  for (let i = 1; i < times.length; i++) if (times[i]! < times[i - 1]!) times[i] = times[i - 1]!;
  return times;
}

/**
 * Pack a session's steps for its page. The strings (types, states, agents,
 * models, task ids) are stored once each; every column is a plain array the
 * page reads by index.
 */
export function packSessionPage(steps: readonly SessionStep[], meta: SessionPageMeta): SessionPageData {
  const types = new Interner();
  const states = new Interner([...TASK_STATES, ...meta.machine.chart.states.map((s) => s.id)]);
  const statuses = new Interner(['none', 'active', 'handing_off', 'recovering', 'ended']);
  const agents = new Interner();
  const models = new Interner();
  const levels = new Interner(['ok', 'monitor', 'warning', 'emergency']);
  const taskIds = new Interner();
  const titles: string[] = [];
  const taskStates: number[] = [];
  const times = timeline(steps);
  const t0 = times[0] ?? 0;
  const columns: SessionPageData['steps'] = {
    version: [],
    at: [],
    type: [],
    task: [],
    contextTokens: [],
    contextWindow: [],
    level: [],
    costUsd: [],
    status: [],
    agent: [],
    model: [],
    checkpoints: [],
  };
  const covers: number[] = [];
  steps.forEach((step, n) => {
    for (const [taskId, title] of step.addedTasks) {
      const before = taskIds.values.length;
      const index = taskIds.of(taskId);
      if (index === before) titles.push(title);
    }
    for (const [taskId, state] of step.taskStates) taskStates.push(n, taskIds.of(taskId), states.of(state));
    columns.version.push(step.version);
    covers.push(step.covers);
    columns.at.push(times[n]! - t0);
    columns.type.push(types.of(step.type));
    columns.task.push(step.taskId === undefined ? -1 : taskIds.of(step.taskId));
    columns.contextTokens.push(step.contextTokens);
    (columns.contextWindow as (number | null)[]).push(step.contextWindow ?? null);
    (columns.level as number[]).push(step.level === undefined ? -1 : levels.of(step.level));
    columns.costUsd.push(Math.round(step.costUsd * 1e6) / 1e6);
    (columns.status as number[]).push(statuses.of(step.status));
    (columns.agent as number[]).push(agents.of(step.agent));
    (columns.model as number[]).push(models.of(step.model));
    (columns.checkpoints as number[]).push(step.checkpoints);
  });
  // A task named before it was added (a bad log) still gets a title.
  while (titles.length < taskIds.values.length) titles.push('');
  if (meta.stride > 1) columns.covers = covers;
  // The columns that change rarely travel as runs.
  columns.contextWindow = asRuns(columns.contextWindow as (number | null)[]);
  for (const key of ['level', 'status', 'agent', 'model', 'checkpoints'] as const) columns[key] = asRuns(columns[key] as number[]);
  const kinds = EVENT_KINDS.map((id) => ({ id, label: EVENT_KIND_LABELS[id] }));
  return {
    format: 1,
    sessionId: meta.sessionId,
    title: meta.title,
    totalEvents: meta.totalEvents,
    aggregation:
      meta.stride > 1
        ? { stride: meta.stride, keptKinds: [...KINDS_KEPT_WHEN_AGGREGATING], note: aggregationNote(meta.totalEvents, steps.length, meta.stride) }
        : undefined,
    t0,
    dict: {
      types: types.values,
      typeKinds: types.values.map((type) => EVENT_KINDS.indexOf(eventKindOf(type))),
      kinds,
      states: states.values,
      statuses: statuses.values,
      agents: agents.values,
      models: models.values,
      levels: levels.values,
    },
    tasks: { ids: taskIds.values, titles },
    taskStates,
    steps: columns,
    events: packRecords(steps.map((step) => step.event as unknown as Record<string, unknown>)),
    thresholds: meta.thresholds,
    machine: meta.machine,
    forks: meta.forks,
  };
}
