import { BehaviorSubject, type Observable } from 'rxjs';
import type { TaskEvent, TaskEventType } from '../../machines/taskLifecycle.js';
import { computeAllocation, type AllocationReport } from '../budget/allocation.js';
import { levelOf, type BudgetLevel } from '../budget/thresholds.js';
import { normaliseUsage } from '../budget/usage.js';
import { buildCheckpointDocument, type CheckpointDocument } from '../checkpoints/checkpointDocument.js';
import type { CheckpointStore } from '../checkpoints/checkpointStore.js';
import type { NewEvent, StoredEvent } from '../events/envelope.js';
import { CheckpointNotSavedError, isCheckpointNotSavedError, isCommandRejectedError, isExpectedVersionConflictError, isInvalidTransitionError } from '../errors.js';
import { sessionViewProjection, type SessionView } from '../projections/sessionView.js';
import type { TaskView } from '../projections/tasks.js';
import type { AppendResult, EventStore } from '../store/eventStore.js';
import type { SessionCommand } from './commands.js';
import { decide, type DecideContext } from './decide.js';
import { windowOf } from './decideBudget.js';
import { requestHandoff, type RequestHandoffInput } from './handoffs.js';
import type { HandoffPackage } from '../handoff/handoffPackage.js';
import { checkpointDue, react } from './policies.js';
import type { EngineSettings } from './settings.js';

/** What a summariser is asked to compact. */
export interface CompactionRequest {
  sessionId: string;
  view: SessionView;
  contextTokens: number;
  contextWindow: number | undefined;
  trigger: string;
}

/** What a summariser did: the context left after compaction, and what it kept. */
export interface CompactionResult {
  tokensAfter: number;
  summary?: string;
}

/** The embedder's summariser: compacts a session's context when the emergency threshold is crossed. */
export type Summariser = (request: CompactionRequest) => Promise<CompactionResult>;

/** A warning from the engine: a policy that could not act, a checkpoint skipped. */
export interface EngineWarning {
  code: string;
  message: string;
  sessionId?: string;
}

/** What a session handle needs from its engine. */
export interface SessionHandleContext extends DecideContext {
  store: EventStore;
  now: () => Date;
  newId: () => string;
  maxConflictRetries: number;
  settings: EngineSettings;
  checkpoints: CheckpointStore;
  summariser?: Summariser;
  /** Called with every new view, for the engine's `state$`. */
  onState: (view: SessionView) => void;
  onWarning: (warning: EngineWarning) => void;
}

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
  allocation: AllocationReport | undefined;
}

/**
 * One session, live: its current view, an Observable of every change, and the
 * commands that change it. Commands through one handle run one at a time; a
 * write by someone else to the same stream is caught up with and the command
 * decided again, a bounded number of times. After each command the policies
 * run (thresholds, checkpoints, compaction).
 */
export class SessionHandle {
  /** The stream's name: `session-<sessionId>`. */
  readonly stream: string;
  private readonly subject: BehaviorSubject<SessionView>;
  private queue: Promise<unknown> = Promise.resolve();

  /** @internal Use `engine.startSession`, `engine.resumeSession` or `engine.forkSession`. */
  constructor(
    readonly sessionId: string,
    view: SessionView,
    private readonly context: SessionHandleContext,
  ) {
    this.stream = view.session.stream;
    this.subject = new BehaviorSubject(view);
  }

  /** The session as of the last event this handle has seen. */
  get state(): SessionView {
    return this.subject.value;
  }

  /** The session view now and after every change this handle makes or catches up with. */
  get state$(): Observable<SessionView> {
    return this.subject.asObservable();
  }

  /** A task of the session, or undefined. */
  task(taskId: string): TaskView | undefined {
    return this.state.tasks.byId.get(taskId);
  }

  /** Add a task, in `pending`. */
  async addTask(input: AddTaskInput, options: TaskCommandOptions = {}): Promise<TaskView> {
    await this.execute({ type: 'AddTask', ...input }, options.agent);
    return this.task(input.taskId)!;
  }

  /**
   * Send a lifecycle event to a task. The task machine decides: an event it
   * does not accept in the task's state throws `InvalidTransitionError`
   * naming the task, its state and the events it accepts, and appends nothing.
   */
  async sendTask(taskId: string, event: TaskEventType | TaskEvent, options: TaskCommandOptions = {}): Promise<TaskView> {
    const type = typeof event === 'string' ? event : event.type;
    const reason = options.reason ?? (typeof event === 'string' ? undefined : event.reason);
    const command: SessionCommand = { type: 'SendTaskEvent', taskId, event: type };
    if (reason !== undefined) command.reason = reason;
    await this.execute(command, options.agent);
    return this.task(taskId)!;
  }

  /**
   * Record one API call's token usage: the `usage` object of a Messages API
   * response (`input_tokens`, `output_tokens`, `cache_creation_input_tokens`,
   * `cache_read_input_tokens`). Crossing a threshold is recorded with it and
   * sets the policies off.
   */
  async recordUsage(usage: unknown, options: RecordUsageOptions = {}): Promise<void> {
    const normalised = normaliseUsage(usage, `usage for session ${this.sessionId}`);
    const command: SessionCommand = {
      type: 'RecordTokenUsage',
      model: options.model ?? this.state.session.model,
      ...normalised,
      main: options.main ?? true,
    };
    if (options.requestId !== undefined) command.requestId = options.requestId;
    await this.execute(command, options.agent);
  }

  /** Switch the model: working tasks pass through `context_switch`; the context window changes. */
  async switchModel(model: string, reason?: string, agent?: string): Promise<void> {
    await this.execute(reason === undefined ? { type: 'SwitchModel', model } : { type: 'SwitchModel', model, reason }, agent);
  }

  /** Compact the context now with the engine's summariser (or record one done elsewhere with `tokensAfter`). */
  async compact(trigger = 'requested', result?: CompactionResult): Promise<void> {
    await this.serialise(async () => {
      const appended = await this.compactNow(trigger, result);
      await this.runReactionsSafely(appended);
    });
  }

  /** Take a checkpoint now; returns its document. */
  async checkpoint(reason = 'requested', agent?: string): Promise<CheckpointDocument> {
    return this.serialise(() => this.checkpointNow(reason, agent));
  }

  /** Take an interval checkpoint if the interval has passed (by the engine's clock). */
  async checkpointIfDue(): Promise<CheckpointDocument | undefined> {
    return this.serialise(async () => {
      const due = checkpointDue(this.state, this.context.settings, this.context.now());
      return due && this.context.settings.autoCheckpoint && this.state.session.status !== 'ended'
        ? this.checkpointNow('interval')
        : undefined;
    });
  }

  /** End the session, with a checkpoint first when auto_checkpoint is on. */
  async end(reason?: string, agent?: string): Promise<void> {
    await this.serialise(async () => {
      if (this.context.settings.autoCheckpoint && this.state.session.status !== 'ended') {
        try {
          await this.checkpointNow('session-end', agent);
        } catch (error) {
          // A checkpoint whose document could not be saved does not keep a session from ending.
          if (!isCheckpointNotSavedError(error)) throw error;
          this.context.onWarning({ code: 'CHECKPOINT_NOT_SAVED', message: error.message, sessionId: this.sessionId });
        }
      }
      await this.executeNow(reason === undefined ? { type: 'EndSession' } : { type: 'EndSession', reason }, agent);
    });
  }

  /** The token budget now: the context in use against the window, the thresholds, the allocation. */
  budget(): BudgetReport {
    const view = this.state;
    const { settings } = this.context;
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

  /**
   * Offer the session to another agent with a validated handoff package (see
   * `requestHandoff`): a checkpoint first, a compaction if too little context
   * is free, then `HandoffRequested`.
   */
  async requestHandoff(input: RequestHandoffInput): Promise<HandoffPackage> {
    return requestHandoff(this, this.context, input);
  }

  /**
   * Take the session over as the handoff's receiver. Exactly one receiver
   * wins, even when several try at once: the others are refused.
   */
  async acceptHandoff(handoffId: string, agent: string): Promise<void> {
    await this.execute({ type: 'AcceptHandoff', handoffId, agent }, agent);
  }

  /** Turn a handoff down; the log records why. */
  async rejectHandoff(handoffId: string, reason: string, agent?: string): Promise<void> {
    const command: SessionCommand = { type: 'RejectHandoff', handoffId, reason };
    if (agent !== undefined) command.agent = agent;
    await this.execute(command, agent);
  }

  /** Catch up with events appended to this stream by anyone else. */
  async refresh(): Promise<SessionView> {
    return this.serialise(() => this.catchUp());
  }

  /** Run a command: decide against the current view, append, evolve, then let the policies react. */
  async execute(command: SessionCommand, agent?: string): Promise<AppendResult> {
    return this.serialise(async () => {
      const result = await this.executeNow(command, agent);
      await this.runReactionsSafely(result.events);
      return result;
    });
  }

  /** @internal Run `work` after every command already queued on this handle. */
  serialise<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** @internal Decide, append and evolve one command now (the caller holds the queue). */
  async executeNow(command: SessionCommand, agent?: string): Promise<AppendResult & { checkpoint?: CheckpointDocument }> {
    const { store, now, newId, maxConflictRetries } = this.context;
    for (let attempt = 0; ; attempt++) {
      const view = this.state;
      const bodies = decide(view, command, this.context);
      const at = now().toISOString();
      const correlationId = bodies.length > 1 ? newId() : undefined;
      const events = bodies.map((body) => {
        const event = { ...body, id: newId(), meta: { at } } as NewEvent;
        const actor = agent ?? view.session.agent;
        if (actor !== '') event.meta.agent = actor;
        if (correlationId !== undefined) event.meta.correlationId = correlationId;
        return event;
      });
      try {
        const result = await store.append(this.stream, events, { expectedVersion: view.version });
        this.apply(result.events);
        if (command.type === 'TakeCheckpoint') {
          // The document holds the state the event's checksum was computed from.
          const document = buildCheckpointDocument(command.checkpointId, command.reason, at, view);
          await this.context.checkpoints.save(document).catch((error: unknown) => {
            throw new CheckpointNotSavedError(this.sessionId, command.checkpointId, error);
          });
          return { ...result, checkpoint: document };
        }
        return result;
      } catch (error) {
        if (!isExpectedVersionConflictError(error) || attempt >= maxConflictRetries) throw error;
        await this.catchUp();
      }
    }
  }

  /** @internal Take a checkpoint now (the caller holds the queue). */
  async checkpointNow(reason: string, agent?: string, checkpointId = `cp-${this.context.newId()}`): Promise<CheckpointDocument> {
    return (await this.executeNow({ type: 'TakeCheckpoint', checkpointId, reason }, agent)).checkpoint!;
  }

  /** @internal Resolves once every command queued so far has run. */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  /**
   * The command is in the log whatever its reactions do: a reaction that fails
   * (a summariser that throws, a checkpoint file that cannot be written) is a
   * warning, never the command's error, so nobody retries what was recorded.
   */
  /** @internal Let the policies react to what was appended, their failures warnings (the caller holds the queue). */
  async reactNow(appended: readonly StoredEvent[]): Promise<void> {
    await this.runReactionsSafely(appended);
  }

  private async runReactionsSafely(appended: readonly StoredEvent[]): Promise<void> {
    try {
      await this.runReactions(react(this.state, appended, this.context.settings, this.context.now()), 1);
    } catch (error) {
      this.context.onWarning({
        code: 'POLICY_FAILED',
        message: `A policy reacting to session ${this.sessionId} failed: ${(error as Error).message}. The command itself was recorded.`,
        sessionId: this.sessionId,
      });
    }
  }

  /**
   * Carry out the policies' reactions; what they append is reacted to in turn,
   * a few rounds deep at most. A reaction the session no longer allows (a
   * task that moved meanwhile) is skipped with a warning, never thrown.
   */
  private async runReactions(reactions: ReturnType<typeof react>, depth: number): Promise<void> {
    const appended: StoredEvent[] = [];
    for (const reaction of reactions) {
      try {
        if (reaction.kind === 'command') {
          appended.push(...(await this.executeNow(reaction.command)).events);
        } else if (reaction.kind === 'checkpoint') {
          await this.checkpointNow(reaction.reason);
        } else {
          appended.push(...(await this.compactNow(reaction.trigger)));
        }
      } catch (error) {
        if (!isCommandRejectedError(error) && !isInvalidTransitionError(error)) throw error;
        this.context.onWarning({ code: 'POLICY_SKIPPED', message: (error as Error).message, sessionId: this.sessionId });
      }
    }
    if (depth < 3 && appended.length > 0) {
      await this.runReactions(react(this.state, appended, this.context.settings, this.context.now()), depth + 1);
    }
  }

  /** @internal Compact now with the summariser, or record `given` (the caller holds the queue). */
  async compactNow(trigger: string, given?: CompactionResult): Promise<StoredEvent[]> {
    let result = given;
    if (result === undefined) {
      const summariser = this.context.summariser;
      if (summariser === undefined) {
        this.context.onWarning({
          code: 'NO_SUMMARISER',
          message: `Session ${this.sessionId} needs a compaction (${trigger}), but no summariser is plugged in: pass one to createEngine.`,
          sessionId: this.sessionId,
        });
        return [];
      }
      const view = this.state;
      result = await summariser({
        sessionId: this.sessionId,
        view,
        contextTokens: view.tokens.contextTokens,
        contextWindow: windowOf(view.session.model, this.context.settings.budget),
        trigger,
      });
    }
    const command: SessionCommand = { type: 'RecordCompaction', tokensAfter: result.tokensAfter, trigger };
    if (result.summary !== undefined) command.summary = result.summary;
    return (await this.executeNow(command)).events;
  }

  /** @internal Catch up with the log now (the caller holds the queue). */
  catchUpNow(): Promise<SessionView> {
    return this.catchUp();
  }

  private async catchUp(): Promise<SessionView> {
    const fresh: StoredEvent[] = [];
    for await (const event of this.context.store.readStream(this.stream, { fromVersion: this.state.version + 1 })) {
      fresh.push(event);
    }
    this.apply(fresh);
    return this.state;
  }

  private apply(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    let view = this.state;
    for (const event of events) view = sessionViewProjection.evolve(view, event);
    this.subject.next(view);
    this.context.onState(view);
  }

  /** @internal Completes `state$`; the engine calls it on close. */
  complete(): void {
    this.subject.complete();
  }
}
