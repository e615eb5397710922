import { levelOf } from '../budget/thresholds.js';
import { costOfSpend, type ModelPrice } from '../budget/pricing.js';
import { windowOf, type BudgetSettings } from '../engine/decideBudget.js';
import type { StoredEvent } from '../events/envelope.js';
import { sessionViewProjection, tasksInOrder, type SessionView } from '../projections/sessionView.js';
import { eventKindOf, KINDS_KEPT_WHEN_AGGREGATING } from './eventKinds.js';

/**
 * One step of a session's page: one event (or, in a long session's
 * aggregated page, the last of a run of events) and the session's state right
 * after it, as the engine's own projections fold it.
 */
export interface SessionStep {
  /** The stream version of the step's (last) event. */
  version: number;
  /** How many events the step stands for (1 unless aggregated). */
  covers: number;
  /** When the step's event was recorded (`meta.at`), in ms since the epoch. */
  at: number;
  /** When it happened, when the event says so apart from when it was recorded (an imported call's or compaction's `data.at`). */
  happenedAt: number | undefined;
  type: string;
  /** The task the event names, if any. */
  taskId: string | undefined;
  /** The context in use after the step, and the window of the session's model (undefined when unknown). */
  contextTokens: number;
  contextWindow: number | undefined;
  /** The threshold level the context is at, when the window is known. */
  level: string | undefined;
  /** What the session has cost so far, in US dollars (models without a price left out). */
  costUsd: number;
  status: string;
  agent: string;
  model: string;
  /** How many checkpoints the session has (archived ones included). */
  checkpoints: number;
  /** The tasks added in this step, with their titles. */
  addedTasks: [taskId: string, title: string][];
  /** Each task whose state this step set, with the state. */
  taskStates: [taskId: string, state: string][];
  /** The step's (last) event, whole. */
  event: StoredEvent;
}

/** The settings a page uses: the config's thresholds, context windows and prices. */
export interface StepSettings {
  budget: BudgetSettings;
  prices?: Readonly<Record<string, ModelPrice>>;
}

/** Options of {@link createSessionStepper}. */
export interface SessionStepperOptions {
  settings: StepSettings;
  /** How many events the stream has, when known: with `maxSteps`, how finely a long session is aggregated. */
  totalEvents?: number;
  /** The most steps a page holds; a longer session folds runs of events into one step. Default 200,000. */
  maxSteps?: number;
  /** For a fork: its parent's view at the fork point (what `SessionForked` is folded onto). */
  forkBase?: SessionView;
}

/** What a stepper made of a session: its steps, and how it aggregated them. */
export interface SessionStepper {
  /** Fold one event; the step it completes, or undefined when it is folded into a later step. */
  add(event: StoredEvent): SessionStep | undefined;
  /** The step of the events added since the last step, if any (the end of a stream). */
  flush(): SessionStep | undefined;
  /** The view after every event added so far. */
  readonly view: SessionView;
  /** Events per aggregated step (1: none aggregated). */
  readonly stride: number;
  /** How many events were added. */
  readonly eventsRead: number;
}

/** The default most steps of a page: a page of 200,000 steps opens in about a second. */
export const DEFAULT_MAX_STEPS = 200_000;

/**
 * A fold of one session's events into the steps of its page. The state after
 * each step is the engine's (`sessionViewProjection`, the budget report's
 * window, level and cost), so the page shows what `sessionState(id, {
 * atVersion })` says. A session longer than `maxSteps` is aggregated: runs of
 * `stride` events become one step, exact at its last event, while the rare
 * kinds (thresholds, compactions, checkpoints, handoffs, recovery, model
 * switches, session events) stay steps of their own.
 */
export function createSessionStepper(options: SessionStepperOptions): SessionStepper {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const total = options.totalEvents ?? 0;
  const stride = total > maxSteps ? Math.ceil(total / maxSteps) : 1;
  const { budget, prices } = options.settings;
  let view = sessionViewProjection.initialState();
  let eventsRead = 0;
  let covers = 0;
  let added: [string, string][] = [];
  let states = new Map<string, string>();
  let last: StoredEvent | undefined;
  // Memoised: the cost changes only with the spend, the window only with the model.
  let costFor: unknown;
  let cost = 0;
  let windowModel: string | undefined;
  let window: number | undefined;

  const step = (): SessionStep | undefined => {
    if (last === undefined || covers === 0) return undefined;
    if (view.tokens.byModel !== costFor) {
      costFor = view.tokens.byModel;
      cost = costOfSpend(view.tokens.byModel, prices).usd;
    }
    const model = view.session.model;
    if (model !== windowModel) {
      windowModel = model;
      window = windowOf(model, budget);
    }
    const contextTokens = view.tokens.contextTokens;
    const result: SessionStep = {
      version: last.version,
      covers,
      at: Date.parse(last.meta.at),
      happenedAt: 'at' in last.data && typeof last.data.at === 'string' && Number.isFinite(Date.parse(last.data.at)) ? Date.parse(last.data.at) : undefined,
      type: last.type,
      taskId: 'taskId' in last.data && typeof last.data.taskId === 'string' ? last.data.taskId : undefined,
      contextTokens,
      contextWindow: window,
      level: window === undefined ? undefined : levelOf((contextTokens / window) * 100, budget.thresholds),
      costUsd: cost,
      status: view.session.status,
      agent: view.session.agent,
      model,
      checkpoints: view.checkpoints.all.length,
      addedTasks: added,
      taskStates: [...states],
      event: last,
    };
    covers = 0;
    added = [];
    states = new Map();
    return result;
  };

  return {
    add(event) {
      if (event.version === 1 && event.type === 'SessionForked' && options.forkBase !== undefined) {
        view = options.forkBase;
        // What the fork inherits is where its page starts.
        for (const task of tasksInOrder(view)) {
          added.push([task.taskId, task.title]);
          states.set(task.taskId, task.state);
        }
      }
      const before = view;
      view = sessionViewProjection.evolve(view, event);
      eventsRead++;
      covers++;
      last = event;
      if (event.type === 'TaskAdded' && !before.tasks.byId.has(event.data.taskId)) {
        added.push([event.data.taskId, event.data.title]);
        states.set(event.data.taskId, 'pending');
      } else if (event.type === 'TaskTransitioned') {
        const task = view.tasks.byId.get(event.data.taskId);
        if (task !== undefined && task !== before.tasks.byId.get(event.data.taskId)) states.set(task.taskId, task.state);
      }
      const keep = stride === 1 || eventsRead % stride === 0 || eventsRead === total || KINDS_KEPT_WHEN_AGGREGATING.has(eventKindOf(event.type));
      return keep ? step() : undefined;
    },
    flush: step,
    get view() {
      return view;
    },
    stride,
    get eventsRead() {
      return eventsRead;
    },
  };
}
