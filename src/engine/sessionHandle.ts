import { BehaviorSubject, type Observable } from 'rxjs';
import type { TaskEvent, TaskEventType } from '../../machines/taskLifecycle.js';
import { normaliseUsage } from '../budget/usage.js';
import type { NewEvent, StoredEvent } from '../events/envelope.js';
import { isExpectedVersionConflictError, UnknownSessionError } from '../errors.js';
import { sessionViewProjection, type SessionView } from '../projections/sessionView.js';
import type { TaskView } from '../projections/tasks.js';
import type { AppendResult, EventStore } from '../store/eventStore.js';
import type { SessionCommand } from './commands.js';
import { decide, type DecideContext } from './decide.js';

/** What a session handle needs from its engine. */
export interface SessionHandleContext extends DecideContext {
  store: EventStore;
  now: () => Date;
  newId: () => string;
  maxConflictRetries: number;
  /** Called with every new view, for the engine's `state$`. */
  onState: (view: SessionView) => void;
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

/**
 * One session, live: its current view, an Observable of every change, and the
 * commands that change it. Commands through one handle run one at a time; a
 * write by someone else to the same stream is caught up with and the command
 * decided again, a bounded number of times.
 */
export class SessionHandle {
  /** The stream's name: `session-<sessionId>`. */
  readonly stream: string;
  private readonly subject: BehaviorSubject<SessionView>;
  private queue: Promise<unknown> = Promise.resolve();

  /** @internal Use `engine.startSession` or `engine.resumeSession`. */
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
   * `cache_read_input_tokens`).
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

  /** End the session. */
  async end(reason?: string, agent?: string): Promise<void> {
    await this.execute(reason === undefined ? { type: 'EndSession' } : { type: 'EndSession', reason }, agent);
  }

  /** Catch up with events appended to this stream by anyone else. */
  async refresh(): Promise<SessionView> {
    return this.serialise(() => this.catchUp());
  }

  /** Run a command: decide against the current view, append, evolve. */
  async execute(command: SessionCommand, agent?: string): Promise<AppendResult> {
    return this.serialise(() => this.executeNow(command, agent));
  }

  private serialise<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async executeNow(command: SessionCommand, agent: string | undefined): Promise<AppendResult> {
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
        return result;
      } catch (error) {
        if (!isExpectedVersionConflictError(error) || attempt >= maxConflictRetries) throw error;
        await this.catchUp();
      }
    }
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

/** Load a session's view from the log, optionally only up to a version (time travel). */
export async function loadSessionView(
  store: EventStore,
  stream: string,
  sessionId: string,
  toVersion?: number,
): Promise<SessionView | undefined> {
  let view = sessionViewProjection.initialState();
  const options = toVersion === undefined ? {} : { toVersion };
  for await (const event of store.readStream(stream, options)) view = sessionViewProjection.evolve(view, event);
  if (view.version === 0) return undefined;
  if (view.session.sessionId !== sessionId) {
    throw new UnknownSessionError(sessionId);
  }
  return view;
}
