import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Subject, type Observable } from 'rxjs';
import type { AnyStateMachine } from 'xstate';
import { sessionIdOfStream, sessionStream, type StoredEvent } from '../events/envelope.js';
import { CommandRejectedError, InvalidArgumentError, UnknownSessionError } from '../errors.js';
import type { SessionSummary } from '../projections/sessionSummary.js';
import { sessionViewProjection, type SessionView } from '../projections/sessionView.js';
import type { EventStore } from '../store/eventStore.js';
import { openFileEventStore, type Durability } from '../store/fileEventStore.js';
import { replay, type ReplayOptions, type ReplayReport } from './replay.js';
import { loadSessionView, SessionHandle, type SessionHandleContext } from './sessionHandle.js';

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** The store to use. Defaults to the file store in `<dir>/events`. */
  store?: EventStore;
  /** The state folder; defaults to `.moai` in the current folder. Used when no `store` is given. */
  dir?: string;
  /** Durability of the default file store; defaults to `batch`. */
  durability?: Durability;
  /** Wait this long for another process's writer lock; defaults to 0 (fail at once). */
  lockWaitMs?: number;
  /** The clock. Inject one for deterministic tests and replays. Defaults to `() => new Date()`. */
  clock?: () => Date;
  /** The id source for events and generated session ids. Defaults to random UUIDs. */
  ids?: () => string;
  /** The task lifecycle machine; defaults to `taskLifecycleMachine`. */
  taskMachine?: AnyStateMachine;
  /** How often a command is decided again after an expected-version conflict. Defaults to 3. */
  maxConflictRetries?: number;
}

/** Options of {@link Engine.startSession}. */
export interface StartSessionOptions {
  /** Defaults to a new id from the id source. */
  sessionId?: string;
  agent: string;
  model: string;
  title?: string;
}

/** Options of {@link Engine.resumeSession}. */
export interface ResumeSessionOptions {
  /** The agent picking the session up; defaults to the session's last agent. */
  agent?: string;
  reason?: string;
}

/** Options of {@link Engine.sessionState}. */
export interface SessionStateOptions {
  /** The version to stop at (time travel); defaults to the newest. */
  atVersion?: number;
}

/** The engine: sessions on an event store, with live Observables. */
export interface Engine {
  /** The store the engine writes to. */
  readonly store: EventStore;
  /** Every event appended to the store from now on, as it is appended. */
  readonly events$: Observable<StoredEvent>;
  /** Every new view of every session handled by this engine. */
  readonly state$: Observable<SessionView>;
  /** Start a new session; refused when the id is taken. */
  startSession(options: StartSessionOptions): Promise<SessionHandle>;
  /** Load a session from the log and record that it was resumed. */
  resumeSession(sessionId: string, options?: ResumeSessionOptions): Promise<SessionHandle>;
  /** Load a session from the log without appending anything. */
  openSession(sessionId: string): Promise<SessionHandle>;
  /** Every session in the log, as the session projection sees it. */
  listSessions(): Promise<SessionSummary[]>;
  /** A session's view now, or at any earlier version. */
  sessionState(sessionId: string, options?: SessionStateOptions): Promise<SessionView>;
  /** Rebuild every projection from the log and verify every transition against the task machine. */
  replay(options?: Omit<ReplayOptions, 'taskMachine'> & { taskMachine?: AnyStateMachine }): Promise<ReplayReport>;
  /** Complete the Observables and close the store if the engine opened it. */
  close(): Promise<void>;
}

/**
 * Create an engine. With no options it keeps its log in `.moai/events` under
 * the current folder.
 *
 * @example
 * const engine = await createEngine({ store: createMemoryEventStore() });
 * const session = await engine.startSession({ agent: 'planner', model: 'claude-sonnet-4-5' });
 * await session.addTask({ taskId: 'spec', title: 'Write the spec' });
 * await session.sendTask('spec', 'START');
 * await engine.close();
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const ownsStore = options.store === undefined;
  const store =
    options.store ??
    (await openFileEventStore({
      dir: join(resolve(options.dir ?? '.moai'), 'events'),
      durability: options.durability ?? 'batch',
      lockWaitMs: options.lockWaitMs ?? 0,
    }));
  const maxConflictRetries = options.maxConflictRetries ?? 3;
  if (!Number.isInteger(maxConflictRetries) || maxConflictRetries < 0) {
    throw new InvalidArgumentError(`maxConflictRetries must be a whole number, 0 or more; got ${maxConflictRetries}.`);
  }
  const stateSubject = new Subject<SessionView>();
  const handles = new Set<SessionHandle>();
  const context: SessionHandleContext = {
    store,
    now: options.clock ?? (() => new Date()),
    newId: options.ids ?? randomUUID,
    maxConflictRetries,
    onState: (view) => stateSubject.next(view),
  };
  if (options.taskMachine !== undefined) context.taskMachine = options.taskMachine;

  const track = (handle: SessionHandle): SessionHandle => {
    handles.add(handle);
    return handle;
  };

  const load = async (sessionId: string): Promise<SessionView> => {
    const view = await loadSessionView(store, sessionStream(sessionId), sessionId);
    if (view === undefined) throw new UnknownSessionError(sessionId, await knownSessionIds());
    return view;
  };

  const knownSessionIds = async (): Promise<string[]> =>
    (await store.listStreams()).map((s) => sessionIdOfStream(s.stream)).filter((id): id is string => id !== undefined);

  const engine: Engine = {
    store,
    events$: store.subscribe({ fromPosition: 'end' }),
    state$: stateSubject.asObservable(),

    async startSession(start) {
      const sessionId = start.sessionId ?? context.newId();
      const stream = sessionStream(sessionId);
      if ((await store.streamVersion(stream)) > 0) {
        throw new CommandRejectedError(`Session ${sessionId} already exists; resume it instead of starting it again.`);
      }
      const empty = sessionViewProjection.initialState();
      const handle = new SessionHandle(sessionId, { ...empty, session: { ...empty.session, stream } }, context);
      // An id already taken is caught by decide after the conflict's catch-up.
      const command = { type: 'StartSession' as const, sessionId, agent: start.agent, model: start.model };
      await handle.execute(start.title === undefined ? command : { ...command, title: start.title }, start.agent);
      return track(handle);
    },

    async resumeSession(sessionId, resume = {}) {
      const view = await load(sessionId);
      const handle = new SessionHandle(sessionId, view, context);
      const command = { type: 'ResumeSession' as const, agent: resume.agent ?? view.session.agent };
      await handle.execute(resume.reason === undefined ? command : { ...command, reason: resume.reason }, command.agent);
      return track(handle);
    },

    async openSession(sessionId) {
      return track(new SessionHandle(sessionId, await load(sessionId), context));
    },

    async listSessions() {
      const summaries: SessionSummary[] = [];
      for (const sessionId of await knownSessionIds()) summaries.push((await load(sessionId)).session);
      return summaries;
    },

    async sessionState(sessionId, stateOptions = {}) {
      const { atVersion } = stateOptions;
      if (atVersion === undefined) return load(sessionId);
      if (!Number.isInteger(atVersion) || atVersion < 1) {
        throw new InvalidArgumentError(`A version is a whole number from 1; got ${String(atVersion)}.`);
      }
      const latest = await store.streamVersion(sessionStream(sessionId));
      if (latest === 0) throw new UnknownSessionError(sessionId, await knownSessionIds());
      if (atVersion > latest) {
        throw new InvalidArgumentError(`Session ${sessionId} has ${latest} events; version ${atVersion} does not exist yet.`);
      }
      return (await loadSessionView(store, sessionStream(sessionId), sessionId, atVersion))!;
    },

    replay(replayOptions = {}) {
      const taskMachine = replayOptions.taskMachine ?? options.taskMachine;
      return replay(store, taskMachine === undefined ? replayOptions : { ...replayOptions, taskMachine });
    },

    async close() {
      for (const handle of handles) handle.complete();
      handles.clear();
      stateSubject.complete();
      if (ownsStore) await store.close();
    },
  };
  return engine;
}
