import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import type { Observable, Subscriber } from 'rxjs';
import type { AnyStateMachine } from 'xstate';
import { createFileCheckpointStore, createMemoryCheckpointStore, type CheckpointStore } from '../checkpoints/checkpointStore.js';
import { checkpointStoreBesideLog } from '../checkpoints/postgresCheckpointStore.js';
import { acrossEngines } from '../store/postgres/exclusive.js';
import { createFileViewSnapshots, type ViewSnapshots } from '../checkpoints/viewSnapshots.js';
import { loadConfig } from '../config/loadConfig.js';
import { DEFAULT_CONFIG } from '../config/defaultConfig.js';
import type { MoaiConfig } from '../config/schema.js';
import { sessionIdOfStream, sessionStream, type StoredEvent, type StoredEventOf } from '../events/envelope.js';
import { CommandRejectedError, InvalidArgumentError, UnknownSessionError } from '../errors.js';
import type { SessionSummary } from '../projections/sessionSummary.js';
import { sessionViewProjection, type SessionView } from '../projections/sessionView.js';
import { eventAt } from '../store/eventAt.js';
import type { EventStore } from '../store/eventStore.js';
import type { Durability } from '../store/fileEventStore.js';
import { openEventStore, storeTargetFromConfig } from '../store/openEventStore.js';
import { rx } from '../util/rx.js';
import type { SessionCommand } from './commands.js';
import { CommandRunner, type EngineWarning, type RunnerContext, type Summariser } from './commandRunner.js';
import { windowOf } from './decideBudget.js';
import { loadSessionView, type LoadedSessionView } from './loadSessionView.js';
import { recoverSession, type RecoverOptions, type RecoveryReport } from './recovery.js';
import { replay, type ReplayOptions, type ReplayReport } from './replay.js';
import { createSessionHandle, type SessionHandle } from './sessionHandle.js';
import { settingsFromConfig, type EngineSettings } from './settings.js';
import { plural } from '../util/plural.js';
import { checkId } from '../validation/ids.js';
import { transitionTableFor } from './transitionTable.js';

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** The store to use. Defaults to the file store in `<dir>/events` (or the PostgreSQL URL the config names). */
  store?: EventStore;
  /**
   * The state folder; defaults to `.moai` in the current folder. Its
   * `config/config.json` is read unless `config` is given, and checkpoint
   * documents go to its `sessions/checkpoints/`.
   */
  dir?: string;
  /** The configuration; defaults to `<dir>/config/config.json`, or the defaults when a `store` is given without `dir`. */
  config?: MoaiConfig;
  /** Durability of the default file store; defaults to the config's `store.durability`. */
  durability?: Durability;
  /** Wait this long for another process's writer lock, in ms; defaults to the config's `store.lock_wait_ms` (5,000). */
  lockWaitMs?: number;
  /** The clock. Inject one for deterministic tests and replays. Defaults to `() => new Date()`. */
  clock?: () => Date;
  /** The id source for events, checkpoints and generated session ids. Defaults to random UUIDs. */
  ids?: () => string;
  /** The task lifecycle machine; defaults to `taskLifecycleMachine`. */
  taskMachine?: AnyStateMachine;
  /** How often a command is decided again after an expected-version conflict. Defaults to 3. */
  maxConflictRetries?: number;
  /** Compacts a session's context when the emergency threshold is crossed. */
  summariser?: Summariser;
  /** Where checkpoint documents are kept; defaults to files under `<dir>`, or memory for a `store` without `dir`. */
  checkpoints?: CheckpointStore;
  /**
   * Where the newest view of each session is kept, so that loading a session
   * reads it and the events after it instead of the whole session; defaults
   * to files under `<dir>/cache/views/` (none for a `store` without `dir`).
   * The engine writes the views of the sessions it changed when it closes.
   * `false`: none.
   */
  snapshots?: ViewSnapshots | false;
  /**
   * Keep the memory files under `<dir>/sessions/` in step with the log while
   * the engine runs (debounced, never on the append path) and when it closes,
   * so `moai-session debug --check-memory-sync` passes after an app ran.
   * Defaults to `session.persistence_enabled` for an engine that opens the
   * store of its state folder (off for one given a store). The state-folder runtime (and so the CLI)
   * turns it off: it rebuilds the files itself after each command.
   */
  memoryFiles?: boolean;
  /** Called with each budget event (threshold crossed or cleared, compaction), as `budget$` emits it. */
  onBudgetEvent?: (event: BudgetEvent) => void;
  /**
   * Called with each warning as `warnings$` emits it, and also with those the
   * default file store reports while it opens (a torn last line it cut off),
   * which come before anyone can subscribe to `warnings$`.
   */
  onWarning?: (warning: EngineWarning) => void;
  /**
   * Called with the events of each append this engine makes (a command's, a
   * policy's), as soon as they are stored. Unlike `events$`, it loads no rxjs.
   */
  onAppend?: (events: readonly StoredEvent[]) => void;
}

/** The budget events `budget$` emits. */
export type BudgetEvent =
  | StoredEventOf<'BudgetThresholdCrossed'>
  | StoredEventOf<'BudgetThresholdCleared'>
  | StoredEventOf<'ContextCompacted'>;

/** Options of {@link Engine.startSession}. */
export interface StartSessionOptions {
  /** Defaults to a new id from the id source. */
  sessionId?: string;
  agent: string;
  model: string;
  title?: string;
  /**
   * Commands for the new session appended with its start, in the same append
   * (a batch: all of them or none, and no session is started when one is
   * refused). For what starts a session and acts in it at once, as accepting
   * a handoff package into a session the log does not have.
   */
  commands?: readonly SessionCommand[];
  /** Who that append is attributed to (its events' `meta.agent`); defaults to `agent`. */
  actor?: string;
  /** With `commands`: leave out a command the session refuses instead of refusing the whole append (the start is never left out). */
  skipRefused?: boolean;
}

/** Options of {@link Engine.resumeSession}. */
export interface ResumeSessionOptions {
  /** The agent picking the session up; defaults to the session's last agent. */
  agent?: string;
  reason?: string;
}

/** Options of {@link Engine.forkSession}. */
export interface ForkSessionOptions {
  /** The fork's id; defaults to a new id. */
  sessionId?: string;
  /** The parent's version to branch at; defaults to its current version. */
  atVersion?: number;
  /** The fork's agent and model; default to the parent's at that version. */
  agent?: string;
  model?: string;
  title?: string;
}

/** Options of {@link Engine.sessionState}. */
export interface SessionStateOptions {
  /** The version to stop at (time travel); defaults to the newest. */
  atVersion?: number;
}

/** What {@link Engine.applyRetention} archived. */
export interface RetentionResult {
  archived: { sessionId: string; checkpointId: string }[];
}

/** The engine: sessions on an event store, with live Observables. */
export interface Engine {
  /** The store the engine writes to. */
  readonly store: EventStore;
  /** The settings in force (from the config). */
  readonly settings: EngineSettings;
  /** Where checkpoint documents are kept. */
  readonly checkpoints: CheckpointStore;
  /**
   * Every event appended to the store from the moment this is first read, as
   * it is appended; completes when the engine closes. (rxjs is loaded then.)
   */
  readonly events$: Observable<StoredEvent>;
  /** Every new view of every session handled by this engine; completes when the engine closes. */
  readonly state$: Observable<SessionView>;
  /** Thresholds crossed and cleared, and compactions, as they are appended; completes when the engine closes. */
  readonly budget$: Observable<BudgetEvent>;
  /** What the engine noticed but did not throw: a policy skipped, a checkpoint skipped, no summariser. */
  readonly warnings$: Observable<EngineWarning>;
  /** Start a new session; refused when the id is taken or `max_parallel_sessions` are active. */
  startSession(options: StartSessionOptions): Promise<SessionHandle>;
  /** Load a session from its newest valid checkpoint and the log after it, and record that it was resumed. */
  resumeSession(sessionId: string, options?: ResumeSessionOptions): Promise<SessionHandle>;
  /** Load a session without appending anything. */
  openSession(sessionId: string): Promise<SessionHandle>;
  /** Branch a session at its current version or an earlier one into a new session. */
  forkSession(parentSessionId: string, options?: ForkSessionOptions): Promise<SessionHandle>;
  /** Every session in the log, as the session projection sees it. */
  listSessions(): Promise<SessionSummary[]>;
  /** The ids of the sessions that have not ended. */
  activeSessionIds(): Promise<string[]>;
  /** A session's view now, or at any earlier version (from the log alone). */
  sessionState(sessionId: string, options?: SessionStateOptions): Promise<SessionView>;
  /** Rebuild every projection from the log and verify every transition against the task machine. */
  replay(options?: ReplayOptions): Promise<ReplayReport>;
  /** Archive checkpoints older than the retention, keeping the newest of each active session. */
  applyRetention(): Promise<RetentionResult>;
  /**
   * Recover a session in six recorded steps (restore the newest valid
   * checkpoint, validate it, replay what came after, assess, plan, notify);
   * failed tasks come out `recovered`, ready to resume.
   */
  recover(sessionId: string, options?: RecoverOptions): Promise<{ handle: SessionHandle; report: RecoveryReport }>;
  /** Let queued commands finish, complete the Observables, and close the store if the engine opened it. */
  close(): Promise<void>;
}

/**
 * Agents whose sessions another tool runs (`claude-code`: Claude Code's
 * sessions, recorded by its hooks and by `import claude-code`): such a session
 * neither needs room under `session.max_parallel_sessions` nor takes any
 * (Claude Code starts its sessions whatever this engine allows, and an import
 * records past ones).
 */
const EXTERNAL_AGENTS: ReadonlySet<string> = new Set(['claude-code']);

/**
 * Create an engine: sessions and their commands on an event store. With no
 * options it keeps its log in `.moai/events` under the current folder and
 * reads `.moai/config/config.json`; the store comes from the registry
 * (`openEventStore`), as the config or `MOAI_STORE_URL` names it. The memory
 * files and the checkpoint retention of a state folder are the runtime's
 * (`openStateFolder`), which builds on this.
 *
 * Options are checked before anything is opened: a refused option never
 * leaves a writer lock behind.
 *
 * @example
 * const engine = await createEngine({ store: createMemoryEventStore() });
 * const session = await engine.startSession({ agent: 'planner', model: 'claude-sonnet-4-5' });
 * await session.addTask({ taskId: 'spec', title: 'Write the spec' });
 * await session.sendTask('spec', 'START');
 * await engine.close();
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const maxConflictRetries = options.maxConflictRetries ?? 3;
  if (!Number.isInteger(maxConflictRetries) || maxConflictRetries < 0) {
    throw new InvalidArgumentError(`maxConflictRetries must be a whole number, 0 or more; got ${maxConflictRetries}.`);
  }
  // A machine the engine cannot use is refused now, with what to fix, not at the first task.
  if (options.taskMachine !== undefined) transitionTableFor(options.taskMachine);
  const dir = options.dir === undefined && options.store !== undefined ? undefined : resolve(options.dir ?? '.moai');
  const config = options.config ?? (dir === undefined ? DEFAULT_CONFIG : (await loadConfig({ dir })).config);
  const settings = settingsFromConfig(config);
  const warnings = new Emitter<EngineWarning>();
  const warn = (warning: EngineWarning): void => {
    options.onWarning?.(warning);
    warnings.next(warning);
  };
  const ownsStore = options.store === undefined;
  const store =
    options.store ??
    (await openEventStore(
      storeTargetFromConfig(config, dir!, {
        durability: options.durability ?? config.store.durability,
        lockWaitMs: options.lockWaitMs ?? config.store.lock_wait_ms,
        // A torn tail cut off on open, a lock lost later: what the store noticed is the engine's to tell.
        onWarning: (warning) => warn({ code: warning.code, message: warning.message }),
      }),
    ));
  const checkpoints =
    options.checkpoints ??
    // A store that keeps checkpoint documents beside its log (PostgreSQL) keeps them for every machine.
    checkpointStoreBesideLog(store, dir === undefined ? undefined : dirname(dir)) ??
    (dir === undefined ? createMemoryCheckpointStore() : createFileCheckpointStore(dir));
  const snapshots =
    options.snapshots === false ? undefined : (options.snapshots ?? (dir === undefined ? undefined : createFileViewSnapshots(dir)));
  const states = new Emitter<SessionView>();
  const runners = new Map<string, CommandRunner>();
  const context: RunnerContext = {
    store,
    now: options.clock ?? (() => new Date()),
    newId: options.ids ?? randomUUID,
    maxConflictRetries,
    settings,
    checkpoints,
    budget: settings.budget,
    onState: (view) => states.next(view),
    onAppend: options.onAppend ?? (() => {}),
    onWarning: warn,
  };
  if (options.taskMachine !== undefined) context.taskMachine = options.taskMachine;
  if (options.summariser !== undefined) context.summariser = options.summariser;

  // The Observables load rxjs only when someone asks for them, and all complete on close.
  const following = new Set<Subscriber<unknown>>();
  let closed = false;
  const followStore = <T extends StoredEvent>(pick: (event: StoredEvent) => event is T): Observable<T> =>
    new (rx().Observable)<T>((subscriber) => {
      if (closed) {
        subscriber.complete();
        return undefined;
      }
      following.add(subscriber);
      const subscription = store.subscribe({ fromPosition: 'end' }).subscribe({
        next: (event) => {
          if (pick(event)) subscriber.next(event);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        following.delete(subscriber);
        subscription.unsubscribe();
      };
    });
  const isBudgetEvent = (event: StoredEvent): event is BudgetEvent =>
    event.type === 'BudgetThresholdCrossed' || event.type === 'BudgetThresholdCleared' || event.type === 'ContextCompacted';
  const budgetCallback = options.onBudgetEvent === undefined ? undefined : followStore(isBudgetEvent).subscribe(options.onBudgetEvent);
  // Started once the engine exists (below): it folds the log and follows the engine.
  let memorySync: { close(): Promise<void> } | undefined;

  const knownSessionIds = async (): Promise<string[]> =>
    (await store.listStreams()).map((s) => sessionIdOfStream(s.stream)).filter((id): id is string => id !== undefined);

  const load = async (sessionId: string, useCheckpoints: boolean): Promise<LoadedSessionView> => {
    const loaded = await loadSessionView(store, sessionId, {
      ...(useCheckpoints ? { checkpoints } : {}),
      ...(snapshots === undefined ? {} : { snapshots }),
      onWarning: (warning) => warn({ ...warning, sessionId }),
    });
    if (loaded === undefined) throw new UnknownSessionError(sessionId, await knownSessionIds());
    return loaded;
  };

  /**
   * The runner every handle on a session shares. Opening and resuming load the
   * session from its newest valid checkpoint and the log after it, as they
   * always do (a skipped checkpoint is warned of), into that one runner;
   * retention and recovery only catch the runner up.
   */
  const runnerFor = async (sessionId: string, reload: boolean): Promise<CommandRunner> => {
    const known = runners.get(sessionId);
    if (known !== undefined) {
      await known.serialise(async () => {
        if (reload) known.adopt((await load(sessionId, true)).view);
        await known.catchUpNow();
      });
      return known;
    }
    const { view } = await load(sessionId, true);
    // Another call may have loaded it meanwhile: the first one stays, caught up.
    const raced = runners.get(sessionId);
    if (raced !== undefined) {
      await raced.serialise(() => raced.catchUpNow());
      return raced;
    }
    const runner = new CommandRunner(sessionId, view, context);
    runners.set(sessionId, runner);
    return runner;
  };

  const newRunner = (sessionId: string, base: SessionView): CommandRunner => {
    const runner = new CommandRunner(sessionId, { ...base, session: { ...base.session, stream: sessionStream(sessionId) } }, context);
    runners.set(sessionId, runner);
    return runner;
  };

  /**
   * The events one command appends (a model switch, say, and its task steps)
   * share a correlation id: a fork between two of them would start from a
   * state the session never was in. Refuse it, naming the versions to fork at.
   */
  const refuseForkInsideOneCommand = async (sessionId: string, atVersion: number): Promise<void> => {
    const stream = sessionStream(sessionId);
    const correlationAt = async (version: number): Promise<string | undefined> => (await eventAt(store, stream, version))?.meta.correlationId;
    const correlationId = await correlationAt(atVersion);
    if (correlationId === undefined || (await correlationAt(atVersion + 1)) !== correlationId) return;
    let first = atVersion;
    while (first > 1 && (await correlationAt(first - 1)) === correlationId) first--;
    let last = atVersion + 1;
    while ((await correlationAt(last + 1)) === correlationId) last++;
    throw new InvalidArgumentError(
      `Version ${atVersion} of session ${sessionId} is inside the events of one command (versions ${first} to ${last}); ` +
        `fork at ${first > 1 ? `${first - 1} or ` : ''}${last}.`,
    );
  };

  /** The sessions not ended, with the time of each one's last event (undefined when it cannot be read). */
  const activeSessions = async (): Promise<{ sessionId: string; lastAt: string | undefined }[]> => {
    const active: { sessionId: string; lastAt: string | undefined }[] = [];
    for (const info of await store.listStreams()) {
      const sessionId = sessionIdOfStream(info.stream);
      if (sessionId === undefined) continue;
      // Only housekeeping (archiving old checkpoints) follows SessionEnded in a
      // stream: the last event but those tells. An event that cannot be read is
      // not this question's to report: count the session as active and let
      // whoever reads it say what is wrong.
      let ended = false;
      let lastAt: string | undefined;
      try {
        for (let version = info.version; version >= 1; version--) {
          const event = await eventAt(store, info.stream, version);
          if (event?.type === 'CheckpointArchived') continue; // housekeeping, not the session's own activity
          lastAt = event?.meta.at;
          ended = event?.type === 'SessionEnded';
          break;
        }
      } catch {
        ended = false;
      }
      if (!ended) active.push({ sessionId, lastAt });
    }
    return active;
  };

  /** Whether a session was started or forked for an agent of {@link EXTERNAL_AGENTS} (its first event says). */
  const isExternalSession = async (sessionId: string): Promise<boolean> => {
    try {
      const first = await eventAt(store, sessionStream(sessionId), 1);
      return (first?.type === 'SessionStarted' || first?.type === 'SessionForked') && EXTERNAL_AGENTS.has(first.data.agent);
    } catch {
      return false;
    }
  };

  const activeSessionIds = async (): Promise<string[]> => (await activeSessions()).map((s) => s.sessionId);

  // Starting and forking count the active sessions, then add one: one at a time (in every engine on a shared log).
  let admissions: Promise<unknown> = Promise.resolve();
  const admitOne = <T>(work: () => Promise<T>): Promise<T> => {
    const admit = (): Promise<T> => acrossEngines(store, 'admissions', work);
    const result = admissions.then(admit, admit);
    admissions = result.catch(() => undefined);
    return result;
  };

  /**
   * Room for one more active session. Sessions idle past
   * `session.idle_session_minutes` do not count (an app that never ended its
   * session does not lock the next run out); the refusal names the ones that
   * do, how long each has been idle, and the ways out.
   */
  const checkRoomForOneMore = async (): Promise<void> => {
    const now = context.now().getTime();
    const idleMs = settings.idleSessionMinutes * 60_000;
    const counting: { sessionId: string; lastAt: string | undefined }[] = [];
    for (const s of await activeSessions()) {
      if (s.lastAt !== undefined && now - Date.parse(s.lastAt) >= idleMs) continue;
      if (await isExternalSession(s.sessionId)) continue;
      counting.push(s);
    }
    if (counting.length >= settings.maxParallelSessions) {
      const idleFor = (lastAt: string | undefined): string =>
        lastAt === undefined ? 'unreadable' : `idle ${Math.max(0, Math.round((now - Date.parse(lastAt)) / 60_000))} min`;
      throw new CommandRejectedError(
        `${plural(counting.length, 'session')} ${counting.length === 1 ? 'is' : 'are'} active ` +
          `(${counting.map((s) => `${s.sessionId}, ${idleFor(s.lastAt)}`).join('; ')}), ` +
          `the most session.max_parallel_sessions allows (${settings.maxParallelSessions}). End one (\`moai-session end <id>\`, or session.end() in code), ` +
          `wait until one has been idle for session.idle_session_minutes (${settings.idleSessionMinutes}), or raise the limit in .moai/config/config.json.`,
      );
    }
  };

  const startNow = async (start: StartSessionOptions): Promise<SessionHandle> => {
    const sessionId = start.sessionId ?? context.newId();
    checkId('session', sessionId);
    if ((await store.streamVersion(sessionStream(sessionId))) > 0) {
      throw new CommandRejectedError(`Session ${sessionId} already exists; resume it instead of starting it again.`);
    }
    if (!EXTERNAL_AGENTS.has(start.agent)) await checkRoomForOneMore();
    const runner = runners.get(sessionId) ?? newRunner(sessionId, sessionViewProjection.initialState());
    // An id taken meanwhile is caught by decide after the conflict's catch-up.
    const base = { type: 'StartSession' as const, sessionId, agent: start.agent, model: start.model };
    const command = start.title === undefined ? base : { ...base, title: start.title };
    const actor = start.actor ?? start.agent;
    if (start.actor !== undefined) checkId('agent', actor);
    await runner.execute(start.commands === undefined ? command : { type: 'RunBatch', commands: [command, ...start.commands], ...(start.skipRefused === true ? { skipRefused: true } : {}) }, actor);
    if (windowOf(start.model, settings.budget) === undefined) {
      warn({
        code: 'NO_CONTEXT_WINDOW',
        message:
          `No context window is known for model ${start.model}, so no budget threshold fires for session ${sessionId}: ` +
          'add the model under models.context_windows in .moai/config/config.json.',
        sessionId,
      });
    }
    return createSessionHandle(runner);
  };

  /** Keep the view of every session this engine changed, for the next process that loads it; a failure is a warning. */
  const saveSnapshots = async (into: ViewSnapshots): Promise<void> => {
    for (const runner of runners.values()) {
      const { view } = runner;
      if (view.version <= runner.loadedVersion || view.version === 0) continue;
      try {
        const eventId = runner.lastEventId ?? (await eventAt(store, runner.stream, view.version))?.id;
        if (eventId !== undefined) await into.save(view, eventId);
      } catch (error) {
        warn({
          code: 'SNAPSHOT_NOT_SAVED',
          message: `The view snapshot of session ${runner.sessionId} could not be saved (${(error as Error).message}); the next load folds the log instead.`,
          sessionId: runner.sessionId,
        });
      }
    }
  };

  const engine: Engine = {
    store,
    settings,
    checkpoints,
    get events$() {
      return followStore((event): event is StoredEvent => true);
    },
    get state$() {
      return states.observable;
    },
    get budget$() {
      return followStore(isBudgetEvent);
    },
    get warnings$() {
      return warnings.observable;
    },

    startSession(start) {
      // A session of an external agent takes no room and counts none: it needs no admission (an import starts many at once).
      return EXTERNAL_AGENTS.has(start.agent) ? startNow(start) : admitOne(() => startNow(start));
    },

    async resumeSession(sessionId, resume = {}) {
      checkId('session', sessionId);
      const runner = await runnerFor(sessionId, true);
      await runner.serialise(async () => {
        const agent = resume.agent ?? runner.view.session.agent;
        const command = { type: 'ResumeSession' as const, agent };
        const result = await runner.executeNow(resume.reason === undefined ? command : { ...command, reason: resume.reason }, agent);
        await runner.reactNow(result.events);
      });
      return createSessionHandle(runner);
    },

    async openSession(sessionId) {
      checkId('session', sessionId);
      return createSessionHandle(await runnerFor(sessionId, true));
    },

    forkSession(parentSessionId, fork = {}) {
      return admitOne(async () => {
        if (!settings.forkingEnabled) {
          throw new CommandRejectedError('Forking is disabled (session.forking_enabled is false in .moai/config/config.json).');
        }
        checkId('session', parentSessionId);
        const latest = await store.streamVersion(sessionStream(parentSessionId));
        if (latest === 0) throw new UnknownSessionError(parentSessionId, await knownSessionIds());
        const atVersion = fork.atVersion ?? latest;
        if (!Number.isInteger(atVersion) || atVersion < 1 || atVersion > latest) {
          throw new InvalidArgumentError(`Session ${parentSessionId} has versions 1 to ${latest}; cannot fork at ${String(atVersion)}.`);
        }
        if (atVersion < latest) await refuseForkInsideOneCommand(parentSessionId, atVersion);
        const sessionId = fork.sessionId ?? context.newId();
        checkId('session', sessionId);
        if ((await store.streamVersion(sessionStream(sessionId))) > 0) {
          throw new CommandRejectedError(`Session ${sessionId} already exists; pick another id for the fork.`);
        }
        const parent = (await loadSessionView(store, parentSessionId, { toVersion: atVersion }))!.view;
        if (!EXTERNAL_AGENTS.has(fork.agent ?? parent.session.agent)) await checkRoomForOneMore();
        const runner = newRunner(sessionId, { ...parent, version: 0 });
        const command = {
          type: 'ForkSession' as const,
          sessionId,
          parentSessionId,
          parentVersion: atVersion,
          agent: fork.agent ?? parent.session.agent,
          model: fork.model ?? parent.session.model,
        };
        const title = fork.title ?? parent.session.title;
        try {
          await runner.execute(title === undefined ? command : { ...command, title }, command.agent);
        } catch (error) {
          if (runner.view.version === 0) runners.delete(sessionId);
          throw error;
        }
        return createSessionHandle(runner);
      });
    },

    async listSessions() {
      const summaries: SessionSummary[] = [];
      for (const sessionId of await knownSessionIds()) summaries.push((await load(sessionId, false)).view.session);
      return summaries;
    },

    activeSessionIds,

    async sessionState(sessionId, stateOptions = {}) {
      checkId('session', sessionId);
      const { atVersion } = stateOptions;
      if (atVersion === undefined) return (await load(sessionId, false)).view;
      if (!Number.isInteger(atVersion) || atVersion < 1) {
        throw new InvalidArgumentError(`A version is a whole number from 1; got ${String(atVersion)}.`);
      }
      const latest = await store.streamVersion(sessionStream(sessionId));
      if (latest === 0) throw new UnknownSessionError(sessionId, await knownSessionIds());
      if (atVersion > latest) {
        throw new InvalidArgumentError(`Session ${sessionId} has ${latest} events; version ${atVersion} does not exist yet.`);
      }
      return (await loadSessionView(store, sessionId, { toVersion: atVersion }))!.view;
    },

    replay(replayOptions = {}) {
      const taskMachine = replayOptions.taskMachine ?? options.taskMachine;
      return replay(store, taskMachine === undefined ? replayOptions : { ...replayOptions, taskMachine });
    },

    async applyRetention() {
      const archived: RetentionResult['archived'] = [];
      const cutoff = context.now().getTime() - settings.checkpointRetentionDays * 86_400_000;
      const active = new Set(await activeSessionIds());
      for (const sessionId of await knownSessionIds()) {
        const runner = await runnerFor(sessionId, false);
        await runner.serialise(async () => {
          const { checkpoints: recorded } = runner.view;
          const live = recorded.all.toArray().filter((c) => !recorded.archived.has(c.checkpointId));
          const newest = live.at(-1);
          for (const checkpoint of live) {
            if (Date.parse(checkpoint.at) >= cutoff) continue;
            if (checkpoint === newest && active.has(sessionId)) continue; // an active session keeps its newest
            // The file moves first: the log never says archived what is still in place (a move
            // that is done but not recorded is recorded the next time, as a missing file moves trivially).
            await checkpoints.archive(checkpoint.checkpointId, sessionId);
            await runner.executeNow({
              type: 'ArchiveCheckpoint',
              checkpointId: checkpoint.checkpointId,
              reason: `older than ${settings.checkpointRetentionDays} days`,
            });
            archived.push({ sessionId, checkpointId: checkpoint.checkpointId });
          }
        });
      }
      return { archived };
    },

    async recover(sessionId, recoverOptions = {}) {
      checkId('session', sessionId);
      if ((await store.streamVersion(sessionStream(sessionId))) === 0) {
        throw new UnknownSessionError(sessionId, await knownSessionIds());
      }
      const runner = await runnerFor(sessionId, false);
      const report = await recoverSession(runner, recoverOptions);
      return { handle: createSessionHandle(runner), report };
    },

    async close() {
      if (closed) return;
      // Commands already queued on a session (and their policies) finish first.
      await Promise.all([...runners.values()].map((runner) => runner.idle()));
      await admissions;
      // The memory files' last write sees every command's events.
      if (memorySync !== undefined) {
        await memorySync.close().catch((error: unknown) =>
          warn({ code: 'MEMORY_FILES_FAILED', message: `The memory files could not be brought in line with the log: ${(error as Error).message}` }),
        );
      }
      closed = true;
      if (snapshots !== undefined) await saveSnapshots(snapshots);
      budgetCallback?.unsubscribe();
      for (const runner of runners.values()) runner.complete();
      runners.clear();
      for (const subscriber of [...following]) subscriber.complete();
      states.complete();
      warnings.complete();
      if (ownsStore) await store.close();
    },
  };
  if (dir !== undefined && (options.memoryFiles ?? (options.store === undefined && settings.persistenceEnabled))) {
    try {
      const { createMemorySync } = await import('../memory/memorySync.js');
      memorySync = await createMemorySync(engine, {
        dir,
        contextWindows: settings.budget.contextWindows,
        onError: (error) =>
          warn({ code: 'MEMORY_FILES_FAILED', message: `The memory files could not be brought in line with the log: ${(error as Error).message}` }),
        onWrite: (result) => {
          if (result.tookOverLock !== undefined) warn({ code: 'MEMORY_FILES_LOCK_TAKEN_OVER', message: result.tookOverLock });
        },
      });
    } catch (error) {
      await engine.close();
      throw error;
    }
  }
  return engine;
}

/**
 * Values for an Observable that costs nothing until someone asks for it: an
 * rxjs Subject is made (and rxjs loaded) the first time `observable` is read.
 * Values before that reach nobody, as with any hot Observable.
 */
class Emitter<T> {
  private subject: import('rxjs').Subject<T> | undefined;
  private done = false;

  next(value: T): void {
    this.subject?.next(value);
  }

  get observable(): Observable<T> {
    if (this.subject === undefined) {
      this.subject = new (rx().Subject)<T>();
      if (this.done) this.subject.complete();
    }
    return this.subject.asObservable();
  }

  complete(): void {
    this.done = true;
    this.subject?.complete();
  }
}
