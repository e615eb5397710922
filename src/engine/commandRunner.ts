import type { BehaviorSubject, Observable } from 'rxjs';
import { buildCheckpointDocument, type CheckpointDocument } from '../checkpoints/checkpointDocument.js';
import type { CheckpointStore } from '../checkpoints/checkpointStore.js';
import { readGitState, type GitState } from '../checkpoints/gitState.js';
import type { NewEvent, StoredEvent } from '../events/envelope.js';
import {
  CheckpointNotSavedError,
  isCheckpointNotSavedError,
  isCommandRejectedError,
  isExpectedVersionConflictError,
  isInvalidTransitionError,
} from '../errors.js';
import { sessionViewProjection, type SessionView } from '../projections/sessionView.js';
import type { AppendResult, EventStore } from '../store/eventStore.js';
import { rx } from '../util/rx.js';
import type { SessionCommand } from './commands.js';
import { decide, type DecideContext } from './decide.js';
import { windowOf } from './decideBudget.js';
import { checkpointDue, react, type Reaction } from './policies.js';
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
  /** What the compaction kept, in words: it becomes the session's supporting context item tagged `compaction-summary`. */
  summary?: string;
  /**
   * Temporary context items (ids or tags) the compaction kept; every other
   * temporary item is dropped. Critical and supporting items are always kept.
   */
  keepTemporary?: readonly string[];
}

/** The embedder's summariser: compacts a session's context when the emergency threshold is crossed. */
export type Summariser = (request: CompactionRequest) => Promise<CompactionResult>;

/** A warning from the engine: a policy that could not act, a checkpoint skipped. */
export interface EngineWarning {
  code: string;
  message: string;
  sessionId?: string;
}

/** What the command runners of one engine share: the store, the clock, the settings, the callbacks. */
export interface RunnerContext extends DecideContext {
  store: EventStore;
  now: () => Date;
  newId: () => string;
  maxConflictRetries: number;
  settings: EngineSettings;
  checkpoints: CheckpointStore;
  summariser?: Summariser;
  /** Called with every new view of every session. */
  onState: (view: SessionView) => void;
  /** Called with the events of each append, once they are stored. */
  onAppend: (events: readonly StoredEvent[]) => void;
  onWarning: (warning: EngineWarning) => void;
}

/** What {@link CommandRunner.executeNow} appended, and the checkpoint document a `TakeCheckpoint` saved. */
export type ExecuteResult = AppendResult & { checkpoint?: CheckpointDocument };

/**
 * The one place a session's commands run: a queue (one command at a time),
 * decide against the view, append with the view's version as the expected
 * version, evolve, then the policies' reactions. A conflict (someone else
 * wrote first) is caught up with and decided again, a bounded number of
 * times; a refusal is final only once the stream has been read again, so it
 * is never decided on a state the log no longer holds. An engine keeps one
 * runner per session: every handle on the session shares its view.
 *
 * Internal: handles, handoffs, recovery and retention drive it; the public
 * surface is `SessionHandle`.
 */
export class CommandRunner {
  readonly stream: string;
  private current: SessionView;
  private subject: BehaviorSubject<SessionView> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Commands queued or running: 0 when `serialise` may start its work at once. */
  private running = 0;
  private readonly finished = (): void => {
    this.running--;
  };
  private completed = false;
  /** The version the runner was loaded at: a view past it has something a snapshot should keep. */
  readonly loadedVersion: number;
  /** The id of the last event folded into the view, when the runner saw it. */
  lastEventId: string | undefined;

  constructor(
    readonly sessionId: string,
    view: SessionView,
    readonly context: RunnerContext,
  ) {
    this.stream = view.session.stream;
    this.current = view;
    this.loadedVersion = view.version;
  }

  /** The session as of the last event this runner has seen. */
  get view(): SessionView {
    return this.current;
  }

  /** The view now and after every change; rxjs is loaded the first time this is asked for. */
  get view$(): Observable<SessionView> {
    if (this.subject === undefined) {
      this.subject = new (rx().BehaviorSubject)(this.current);
      if (this.completed) this.subject.complete();
    }
    return this.subject.asObservable();
  }

  /** Run `work` after every command already queued on this session (at once when none is). */
  serialise<T>(work: () => Promise<T>): Promise<T> {
    let result: Promise<T>;
    if (this.running > 0) result = this.queue.then(work, work);
    else {
      // Idle: start now rather than a turn later, the common case of one command at a time.
      try {
        result = work();
      } catch (error) {
        result = Promise.reject(error);
      }
    }
    this.running++;
    this.queue = result.then(this.finished, this.finished);
    return result;
  }

  /** Resolves once every command queued so far has run. */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  /** Run a command: decide, append, evolve, then let the policies react. */
  execute(command: SessionCommand, agent?: string): Promise<AppendResult> {
    return this.serialise(() => this.executeAndReact(command, agent));
  }

  private async executeAndReact(command: SessionCommand, agent: string | undefined): Promise<AppendResult> {
    const result = await this.executeNow(command, agent);
    const reactions = react(this.current, result.events, this.context.settings, this.context.now());
    if (reactions.length > 0) await this.runReactionsGuarded(reactions);
    return result;
  }

  /** Decide, append and evolve one command now (the caller holds the queue). */
  async executeNow(command: SessionCommand, agent?: string): Promise<ExecuteResult> {
    const { store, now, newId, maxConflictRetries } = this.context;
    let rereads = 0;
    for (let attempt = 0; ; attempt++) {
      const view = this.current;
      let bodies;
      try {
        bodies = decide(view, command, this.context);
      } catch (error) {
        // A refusal decided on a view another writer has moved past is no refusal: read the stream again first.
        if ((!isCommandRejectedError(error) && !isInvalidTransitionError(error)) || rereads++ > maxConflictRetries) throw error;
        await this.catchUpNow();
        if (this.current.version === view.version) throw error;
        continue;
      }
      const at = now().toISOString();
      const correlationId = bodies.length > 1 ? newId() : undefined;
      const actor = agent ?? view.session.agent;
      const events: NewEvent[] = [];
      for (const body of bodies) {
        const meta: NewEvent['meta'] = { at };
        if (actor !== '') meta.agent = actor;
        if (correlationId !== undefined) meta.correlationId = correlationId;
        events.push({ type: body.type, data: body.data, id: newId(), meta } as NewEvent);
      }
      try {
        const result = await store.append(this.stream, events, { expectedVersion: view.version });
        this.apply(result.events);
        this.context.onAppend(result.events);
        if (command.type === 'TakeCheckpoint') {
          // The document holds the state the event's checksum was computed from.
          const contextWindow = windowOf(view.session.model, this.context.settings.budget);
          const document = buildCheckpointDocument(command.checkpointId, command.reason, at, view, {
            ...(contextWindow === undefined ? {} : { contextWindow }),
            reserveTokens: this.context.settings.reserveTokens,
            ...(command.git === undefined ? {} : { git: command.git }),
          });
          await this.context.checkpoints.save(document).catch((error: unknown) => {
            throw new CheckpointNotSavedError(this.sessionId, command.checkpointId, error);
          });
          return { ...result, checkpoint: document };
        }
        return result;
      } catch (error) {
        if (!isExpectedVersionConflictError(error) || attempt >= maxConflictRetries) throw error;
        await this.catchUpNow();
      }
    }
  }

  /** Take a checkpoint now (the caller holds the queue). */
  async checkpointNow(reason: string, agent?: string, checkpointId = `cp-${this.context.newId()}`): Promise<CheckpointDocument> {
    const git = await this.gitStateNow();
    const command: SessionCommand = { type: 'TakeCheckpoint', checkpointId, reason };
    if (git !== undefined) command.git = git;
    return (await this.executeNow(command, agent)).checkpoint!;
  }

  /** The git state of the checkpoint store's working folder, or undefined (none, not a repository, no git). */
  async gitStateNow(): Promise<GitState | undefined> {
    const folder = this.context.checkpoints.workingFolder;
    return folder === undefined ? undefined : readGitState(folder);
  }

  /** Take an interval checkpoint now if the interval has passed (the caller holds the queue). */
  async checkpointIfDueNow(): Promise<CheckpointDocument | undefined> {
    const { settings, now } = this.context;
    const due = checkpointDue(this.current, settings, now());
    return due && settings.autoCheckpoint && this.current.session.status !== 'ended' ? this.checkpointNow('interval') : undefined;
  }

  /**
   * Let the policies react to what was appended (the caller holds the queue).
   * The command is in the log whatever its reactions do: a reaction that fails
   * (a summariser that throws, a checkpoint file that cannot be written) is a
   * warning, never the command's error, so nobody retries what was recorded.
   */
  async reactNow(appended: readonly StoredEvent[]): Promise<void> {
    const reactions = react(this.current, appended, this.context.settings, this.context.now());
    if (reactions.length > 0) await this.runReactionsGuarded(reactions);
  }

  private async runReactionsGuarded(reactions: readonly Reaction[]): Promise<void> {
    try {
      await this.runReactions(reactions, 1);
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
   * a few rounds deep at most. A reaction the session no longer allows (a task
   * that moved meanwhile) is skipped with a warning, and so is a checkpoint
   * whose document could not be saved: the reactions after it still run.
   */
  private async runReactions(reactions: readonly Reaction[], depth: number): Promise<void> {
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
        if (isCheckpointNotSavedError(error)) {
          this.context.onWarning({ code: 'CHECKPOINT_NOT_SAVED', message: error.message, sessionId: this.sessionId });
          continue;
        }
        if (!isCommandRejectedError(error) && !isInvalidTransitionError(error)) throw error;
        this.context.onWarning({ code: 'POLICY_SKIPPED', message: (error as Error).message, sessionId: this.sessionId });
      }
    }
    if (depth < 3 && appended.length > 0) {
      await this.runReactions(react(this.current, appended, this.context.settings, this.context.now()), depth + 1);
    }
  }

  /** Compact now with the summariser, or record `given` (the caller holds the queue). */
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
      const view = this.current;
      result = await summariser({
        sessionId: this.sessionId,
        view,
        contextTokens: view.tokens.contextTokens,
        contextWindow: windowOf(view.session.model, this.context.settings.budget),
        trigger,
      });
    }
    const command: SessionCommand = { type: 'RecordCompaction', tokensAfter: result.tokensAfter, trigger };
    if (result.summary !== undefined) {
      command.summary = result.summary;
      command.summaryItemId = `ctx-${this.context.newId()}`;
    }
    if (result.keepTemporary !== undefined) command.keepTemporary = result.keepTemporary;
    return (await this.executeNow(command)).events;
  }

  /** Catch up with events appended to this stream by anyone else (the caller holds the queue). */
  async catchUpNow(): Promise<SessionView> {
    const fresh: StoredEvent[] = [];
    for await (const event of this.context.store.readStream(this.stream, { fromVersion: this.current.version + 1 })) {
      fresh.push(event);
    }
    this.apply(fresh);
    return this.current;
  }

  /** Replace the view with one the caller has checked against the log (recovery's restored state). */
  adopt(view: SessionView): void {
    if (view.version < this.current.version) return;
    if (view.version > this.current.version) this.lastEventId = undefined;
    this.current = view;
    this.publish();
  }

  private apply(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    let view = this.current;
    for (const event of events) view = sessionViewProjection.evolve(view, event);
    this.current = view;
    this.lastEventId = events[events.length - 1]!.id;
    this.publish();
  }

  private publish(): void {
    this.subject?.next(this.current);
    this.context.onState(this.current);
  }

  /** Completes `view$`; the engine calls it on close. */
  complete(): void {
    this.completed = true;
    this.subject?.complete();
  }
}
