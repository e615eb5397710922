import type { Observable } from 'rxjs';
import type { TaskEvent, TaskEventType } from '../../machines/taskLifecycle.js';
import { computeAllocation, type AllocationReport } from '../budget/allocation.js';
import { levelOf, type BudgetLevel } from '../budget/thresholds.js';
import { costOfSpend } from '../budget/pricing.js';
import { normaliseUsage } from '../budget/usage.js';
import type { CheckpointDocument } from '../checkpoints/checkpointDocument.js';
import { isCheckpointNotSavedError } from '../errors.js';
import type { WrittenHandoffPackage } from '../handoff/handoffPackage.js';
import type { SessionView } from '../projections/sessionView.js';
import { contextItemsInOrder, findContextItem, type ContextItem } from '../projections/contextItems.js';
import type { TaskView } from '../projections/tasks.js';
import type { RecordContextItem, SessionCommand, UpdateContextItem } from './commands.js';
import type { StoredEvent } from '../events/envelope.js';
import type { CommandRunner, CompactionResult } from './commandRunner.js';
import { windowOf } from './decideBudget.js';
import { requestHandoff, type RequestHandoffInput } from './handoffs.js';
import type { EngineSettings } from './settings.js';

/** Options of {@link SessionHandle.recordUsage}. */
export interface RecordUsageOptions {
  /** The model that spent the tokens; defaults to the session's model. */
  model?: string;
  /** False for a sidechain call (a subagent): it spends without filling the main context. Defaults to true. */
  main?: boolean;
  requestId?: string;
  agent?: string;
}

/** Options of the task commands. */
export interface TaskCommandOptions {
  /** The agent acting; recorded in the event's meta. */
  agent?: string;
  /** Why: recorded with the transition. */
  reason?: string;
}

/** Input of {@link SessionHandle.addTask}. */
export interface AddTaskInput {
  taskId: string;
  title: string;
  phase?: string;
  assignee?: string;
}

/** Input of {@link SessionHandle.recordContext}: a tier, the text (or a JSON value), and optionally a kind, a tag, a size and a source. */
export type RecordContextInput = Omit<RecordContextItem, 'type' | 'itemId'> & {
  /** Defaults to a new id (`ctx-<id>`). */
  itemId?: string;
};

/** What {@link SessionHandle.updateContext} changes: the tier, the kind, the content or the size. */
export type UpdateContextChanges = Omit<UpdateContextItem, 'type' | 'item'>;

/** The token budget of a session now. */
export interface BudgetReport {
  model: string;
  /** Undefined for a model neither the table nor the config knows. */
  contextWindow: number | undefined;
  contextTokens: number;
  percent: number | undefined;
  level: BudgetLevel | undefined;
  thresholds: EngineSettings['budget']['thresholds'];
  spend: SessionView['tokens']['spend'];
  /** What the spend cost, in US dollars, at the list prices (or the config's); models without a price are left out. */
  costUsd: number;
  /** Models whose calls are in the spend but have no price (their cost is not in `costUsd`). */
  unpricedModels: string[];
  allocation: AllocationReport | undefined;
}

/**
 * One session, live: its current view, an Observable of every change, and the
 * commands that change it. Commands run one at a time per session; a write by
 * someone else to the same stream is caught up with and the command decided
 * again, a bounded number of times, and a refusal is final only once the
 * stream has been read again. After each command the policies run
 * (thresholds, checkpoints, compaction). Every handle an engine gives out on
 * one session shares one view.
 */
export interface SessionHandle {
  readonly sessionId: string;
  /** The stream's name: `session-<sessionId>`. */
  readonly stream: string;
  /** The session as of the last event the engine has seen of it. */
  readonly state: SessionView;
  /** The session view now and after every change the engine makes or catches up with. */
  readonly state$: Observable<SessionView>;
  /** A task of the session, or undefined. */
  task(taskId: string): TaskView | undefined;
  /** Add a task, in `pending`. */
  addTask(input: AddTaskInput, options?: TaskCommandOptions): Promise<TaskView>;
  /**
   * Send a lifecycle event to a task. The task machine decides: an event it
   * does not accept in the task's state throws `InvalidTransitionError`
   * naming the task, its state and the events it accepts, and appends nothing.
   */
  sendTask(taskId: string, event: TaskEventType | TaskEvent, options?: TaskCommandOptions): Promise<TaskView>;
  /**
   * Record one API call's token usage: the `usage` object of a Messages API
   * response (`input_tokens`, `output_tokens`, `cache_creation_input_tokens`,
   * `cache_read_input_tokens`). Crossing a threshold is recorded with it and
   * sets the policies off.
   */
  recordUsage(usage: unknown, options?: RecordUsageOptions): Promise<void>;
  /** Switch the model: working tasks pass through `context_switch`; the context window changes. */
  switchModel(model: string, reason?: string, agent?: string): Promise<void>;
  /** Compact the context now with the engine's summariser (or record one done elsewhere with `tokensAfter`). */
  compact(trigger?: string, result?: CompactionResult): Promise<void>;
  /** Take a checkpoint now; returns its document. */
  checkpoint(reason?: string, agent?: string): Promise<CheckpointDocument>;
  /** Take an interval checkpoint if the interval has passed (by the engine's clock). */
  checkpointIfDue(): Promise<CheckpointDocument | undefined>;
  /** End the session, with a checkpoint first when auto_checkpoint is on. */
  end(reason?: string, agent?: string): Promise<void>;
  /** The token budget now: the context in use against the window, the thresholds, the allocation. */
  budget(): BudgetReport;
  /**
   * Offer the session to another agent with a validated handoff package: a
   * checkpoint first, a compaction if too little context is free, then
   * `HandoffRequested`.
   */
  requestHandoff(input: RequestHandoffInput): Promise<WrittenHandoffPackage>;
  /**
   * Take the session over as the handoff's receiver. Exactly one receiver
   * wins, even when several try at once: the others are refused.
   */
  acceptHandoff(handoffId: string, agent: string): Promise<void>;
  /** Turn a handoff down; the log records why. */
  rejectHandoff(handoffId: string, reason: string, agent?: string): Promise<void>;
  /** The session's current context items, most important first: critical, supporting, temporary, each in the order recorded. */
  contextItems(): ContextItem[];
  /**
   * Record a context item (`ContextItemRecorded`): critical items survive every
   * compaction and handoff, supporting ones too, temporary ones are dropped by
   * the next compaction or handoff. A tag the session already has names that
   * item, which is updated instead. Returns the item as it is now.
   */
  recordContext(input: RecordContextInput, agent?: string): Promise<ContextItem>;
  /** Change a context item named by id or tag (`ContextItemUpdated`); returns it as it is now. */
  updateContext(item: string, changes: UpdateContextChanges, agent?: string): Promise<ContextItem>;
  /** Drop a context item named by id or tag (`ContextItemDropped`, with the reason). */
  dropContext(item: string, reason?: string, agent?: string): Promise<void>;
  /** Catch up with events appended to this stream by anyone else. */
  refresh(): Promise<SessionView>;
}

/** The runner behind each handle, for {@link executeSessionCommand} (kept off the handle: its members are the public ones). */
const runnerOfHandle = new WeakMap<SessionHandle, CommandRunner>();

/**
 * Run any session command on a handle's session (decide, append, the
 * policies' reactions) and return the events appended: for this package's
 * integrations (Claude Code's hook and import, the Agent SDK adapter), whose
 * commands have no method of their own on the handle.
 * @internal
 */
export async function executeSessionCommand(handle: SessionHandle, command: SessionCommand, agent?: string): Promise<readonly StoredEvent[]> {
  const runner = runnerOfHandle.get(handle);
  if (runner === undefined) throw new TypeError('executeSessionCommand takes a handle the engine gave out.');
  return (await runner.execute(command, agent)).events;
}

/** The handle over a session's runner: the public face of its commands. */
export function createSessionHandle(runner: CommandRunner): SessionHandle {
  const { context } = runner;
  const handle: SessionHandle = {
    sessionId: runner.sessionId,
    stream: runner.stream,
    get state() {
      return runner.view;
    },
    get state$() {
      return runner.view$;
    },
    task: (taskId) => runner.view.tasks.byId.get(taskId),

    async addTask(input, options = {}) {
      await runner.execute({ type: 'AddTask', ...input }, options.agent);
      return handle.task(input.taskId)!;
    },

    async sendTask(taskId, event, options = {}) {
      const type = typeof event === 'string' ? event : event.type;
      const reason = options.reason ?? (typeof event === 'string' ? undefined : event.reason);
      const command: SessionCommand = { type: 'SendTaskEvent', taskId, event: type };
      if (reason !== undefined) command.reason = reason;
      await runner.execute(command, options.agent);
      return handle.task(taskId)!;
    },

    async recordUsage(usage, options = {}) {
      const normalised = normaliseUsage(usage, `usage for session ${runner.sessionId}`);
      const command: SessionCommand = {
        type: 'RecordTokenUsage',
        model: options.model ?? runner.view.session.model,
        ...normalised,
        main: options.main ?? true,
      };
      if (options.requestId !== undefined) command.requestId = options.requestId;
      await runner.execute(command, options.agent);
    },

    async switchModel(model, reason, agent) {
      await runner.execute(reason === undefined ? { type: 'SwitchModel', model } : { type: 'SwitchModel', model, reason }, agent);
    },

    async compact(trigger = 'requested', result) {
      await runner.serialise(async () => runner.reactNow(await runner.compactNow(trigger, result)));
    },

    checkpoint: (reason = 'requested', agent) => runner.serialise(() => runner.checkpointNow(reason, agent)),

    checkpointIfDue: () => runner.serialise(() => runner.checkpointIfDueNow()),

    async end(reason, agent) {
      await runner.serialise(async () => {
        if (context.settings.autoCheckpoint && runner.view.session.status !== 'ended') {
          try {
            await runner.checkpointNow('session-end', agent);
          } catch (error) {
            // A checkpoint whose document could not be saved does not keep a session from ending.
            if (!isCheckpointNotSavedError(error)) throw error;
            context.onWarning({ code: 'CHECKPOINT_NOT_SAVED', message: error.message, sessionId: runner.sessionId });
          }
        }
        await runner.executeNow(reason === undefined ? { type: 'EndSession' } : { type: 'EndSession', reason }, agent);
      });
    },

    budget: () => budgetReport(runner.view, context.settings),

    requestHandoff: (input) => requestHandoff(runner, input),

    async acceptHandoff(handoffId, agent) {
      await runner.execute({ type: 'AcceptHandoff', handoffId, agent }, agent);
    },

    async rejectHandoff(handoffId, reason, agent) {
      const command: SessionCommand = { type: 'RejectHandoff', handoffId, reason };
      if (agent !== undefined) command.agent = agent;
      await runner.execute(command, agent);
    },

    contextItems: () => contextItemsInOrder(runner.view.context),

    async recordContext(input, agent) {
      const itemId = input.itemId ?? `ctx-${context.newId()}`;
      await runner.execute({ ...input, type: 'RecordContextItem', itemId }, agent);
      return findContextItem(runner.view.context, input.tag ?? itemId)!;
    },

    async updateContext(item, changes, agent) {
      const itemId = findContextItem(runner.view.context, item)?.itemId ?? item;
      await runner.execute({ ...changes, type: 'UpdateContextItem', item }, agent);
      return findContextItem(runner.view.context, itemId)!;
    },

    async dropContext(item, reason, agent) {
      await runner.execute(reason === undefined ? { type: 'DropContextItem', item } : { type: 'DropContextItem', item, reason }, agent);
    },

    refresh: () => runner.serialise(() => runner.catchUpNow()),
  };
  runnerOfHandle.set(handle, runner);
  return handle;
}

/** The token budget of a view under the settings: context against the window, the level, the allocation. */
export function budgetReport(view: SessionView, settings: EngineSettings): BudgetReport {
  const model = view.session.model;
  const contextWindow = windowOf(model, settings.budget);
  const contextTokens = view.tokens.contextTokens;
  const percent = contextWindow === undefined ? undefined : (contextTokens / contextWindow) * 100;
  return {
    model,
    contextWindow,
    contextTokens,
    percent,
    level: percent === undefined ? undefined : levelOf(percent, settings.budget.thresholds),
    thresholds: settings.budget.thresholds,
    spend: view.tokens.spend,
    ...(() => {
      const { usd, unpriced } = costOfSpend(view.tokens.byModel, settings.prices);
      return { costUsd: usd, unpricedModels: unpriced };
    })(),
    allocation:
      contextWindow === undefined
        ? undefined
        : computeAllocation({
            contextWindow,
            usedTokens: contextTokens,
            shares: settings.allocation,
            reserveTokens: settings.reserveTokens,
          }),
  };
}
