import { availableParallelism } from 'node:os';
import type { AnyStateMachine } from 'xstate';
import { taskLifecycleMachine } from '../../machines/taskLifecycle.js';
import { sessionIdOfStream, sessionStream, type StoredEvent, type StoredEventOf } from '../events/envelope.js';
import { InvalidArgumentError, UnknownSessionError } from '../errors.js';
import { checkpointsProjection } from '../projections/checkpoints.js';
import { contextItemsProjection } from '../projections/contextItems.js';
import { ingestProjection } from '../projections/ingest.js';
import { sessionSummaryProjection } from '../projections/sessionSummary.js';
import { sessionViewProjection, type SessionView } from '../projections/sessionView.js';
import { PersistentMap } from '../projections/persistentMap.js';
import { tasksProjection, type TaskView } from '../projections/tasks.js';
import { tokenBudgetProjection } from '../projections/tokenBudget.js';
import { tokenHistoryProjection, type TokenHistory } from '../projections/tokenHistory.js';
import type { EventStore } from '../store/eventStore.js';
import { partitionedLogOf } from '../store/partitionedLog.js';
import { forkBase } from './loadSessionView.js';
import { decodeTransferred, encodeForTransfer } from './replayTransfer.js';
import { transitionTableFor, type TransitionTable } from './transitionTable.js';

/** Options of {@link replay}. */
export interface ReplayOptions {
  /** Replay one session only; defaults to every session in the log. */
  sessionId?: string;
  /** With `sessionId`: stop at this stream version (time travel). */
  untilVersion?: number;
  /** The task machine to verify the history against; defaults to `taskLifecycleMachine`. */
  taskMachine?: AnyStateMachine;
  /**
   * Threads to read a whole file log with, the calling one included (its
   * streams cut into chunks the threads claim in turn, see
   * `parallelReplay.ts`; the report is the same). Default: two, where
   * the machine has two cores and the log is long enough to pay for starting a
   * worker (about 100,000 events); 1 keeps the replay in the calling thread.
   * A replay of one session, with a custom task machine or with custom
   * upcasters always runs in the calling thread.
   */
  threads?: number;
}

/** A recorded task transition the machine (or the log itself) does not explain. */
export interface Divergence {
  sessionId: string;
  stream: string;
  version: number;
  position: number;
  eventId: string;
  taskId: string;
  /** The machine event that was recorded. */
  event: string;
  recorded: { from: string; to: string };
  /** The task's state according to the events before this one. */
  projectedFrom: string | undefined;
  /** Where the machine takes `projectedFrom` on `event`; undefined when it refuses. */
  machineTo: string | undefined;
  /** One readable sentence. */
  message: string;
}

/** What a replay rebuilt and found. */
export interface ReplayReport {
  /** Every replayed session's rebuilt view, by session id. */
  sessions: Map<string, SessionView>;
  /** Every replayed session's token history (its own stream's records), by session id. */
  tokenHistories: Map<string, TokenHistory>;
  eventsRead: number;
  /** The last position read; 0 when nothing was read. */
  lastPosition: number;
  divergences: Divergence[];
  /** True when no transition diverged. */
  ok: boolean;
}

/** A stream's history starts empty, at the context its view had then (a fork's, inherited). */
const historyStart = (view: SessionView): TokenHistory => ({
  ...tokenHistoryProjection.initialState(),
  contextTokens: view.tokens.contextTokens,
});

/**
 * A view the fold may change in place: a copy, with a mutable task map.
 * Immutable.js copies on first write every node the map shares with `view`,
 * so `view` itself never changes; after that a task's update edits its path in
 * place instead of allocating a new one per event.
 */
const owned = (view: SessionView): SessionView => ({ ...view, tasks: { byId: tasksMap(view).asMutable(), order: view.tasks.order } });

/** The persistent map behind a view's tasks (the tasks projection makes every one). */
const tasksMap = (view: SessionView) => view.tasks.byId as PersistentMap<string, TaskView>;

/**
 * One session as a replay folds it: its view (owned by the fold, changed in
 * place, its task map a mutable Immutable.js map no one else sees) and its
 * token history.
 */
interface Folding {
  sessionId: string;
  /** The position of the stream's first event: the order a report lists sessions in. */
  first: number;
  view: SessionView;
  history: TokenHistory | undefined;
}

/** One stream's folded state as it crosses to the thread that merges the shares: encoded for `postMessage` (see `replayTransfer.ts`). */
export interface TransferredStream {
  stream: string;
  sessionId: string;
  /** The position of the stream's first event. */
  first: number;
  view: unknown;
  history: unknown;
}

/** One stream's folded state, decoded on the thread that merges the shares ({@link ReplayFold.absorb}). */
export interface FoldedStream {
  stream: string;
  sessionId: string;
  first: number;
  view: SessionView;
  history: TokenHistory | undefined;
}

/** What a thread's fold found besides its streams' state: its divergences and counts. */
export interface FoldFindings {
  divergences: Divergence[];
  eventsRead: number;
  lastPosition: number;
}

/** A stream's state as {@link ReplayFold.release} encoded it, decoded again (on the receiving thread, after the structured clone). */
export function decodeStream(transferred: TransferredStream): FoldedStream {
  const { stream, sessionId, first } = transferred;
  return {
    stream,
    sessionId,
    first,
    view: decodeTransferred(transferred.view) as SessionView,
    history: decodeTransferred(transferred.history) as TokenHistory | undefined,
  };
}

/**
 * The fold at the heart of a replay: every projection of every session it
 * sees, and the check of each recorded transition against the machine. Each
 * projection's evolve is pure; the fold keeps the newest state of each in one
 * record per session, so a replay allocates no view per event.
 */
export class ReplayFold {
  readonly divergences: Divergence[] = [];
  eventsRead = 0;
  lastPosition = 0;
  /** The position of the event being folded: where a fold that throws stopped. */
  visiting = 0;
  private readonly table: TransitionTable;
  private readonly byStream = new Map<string, Folding>();

  constructor(
    private readonly store: EventStore,
    taskMachine: AnyStateMachine = taskLifecycleMachine,
  ) {
    this.table = transitionTableFor(taskMachine);
  }

  /** Fold a batch of events, in log order. */
  async visitBatch(batch: readonly StoredEvent[]): Promise<void> {
    for (const event of batch) {
      this.visiting = event.position;
      // A fork starts from its parent's view at the version it branched at.
      if (event.type === 'SessionForked' && event.version === 1) {
        const base = await forkBase(this.store, event);
        this.byStream.set(event.stream, {
          sessionId: sessionIdOfStream(event.stream) ?? event.stream,
          first: event.position,
          view: owned(base),
          history: undefined,
        });
      }
      this.visit(event);
    }
  }

  /** Fold the whole log, or what follows a position (`lastPosition + 1` goes on where the fold stopped). */
  async visitLog(fromPosition = 1): Promise<void> {
    for await (const batch of this.store.readAllBatches({ fromPosition })) await this.visitBatch(batch);
  }

  /** Fold one stream from its first event, or up to a version. */
  async visitStream(stream: string, toVersion?: number): Promise<void> {
    const range = toVersion === undefined ? {} : { toVersion };
    let batch: StoredEvent[] = [];
    for await (const event of this.store.readStream(stream, range)) {
      batch.push(event);
      if (batch.length === 1_000) {
        await this.visitBatch(batch);
        batch = [];
      }
    }
    await this.visitBatch(batch);
  }

  /** The report of what was folded: each session's view and token history, in the order they first appeared. */
  report(): ReplayReport {
    const sessions = new Map<string, SessionView>();
    const tokenHistories = new Map<string, TokenHistory>();
    for (const folding of this.byStream.values()) {
      const { sessionId, view, history } = folding;
      // Handed out immutable; the fold goes on with a copy-on-write map of its own.
      sessions.set(sessionId, { ...view, tasks: { byId: tasksMap(view).asImmutable(), order: view.tasks.order } });
      folding.view = owned(view);
      tokenHistories.set(sessionId, history ?? historyStart(view));
    }
    const { divergences, eventsRead, lastPosition } = this;
    return { sessions, tokenHistories, eventsRead, lastPosition, divergences, ok: divergences.length === 0 };
  }

  /**
   * Hand over the state of the streams named (all of them when none are
   * named), encoded for `postMessage`, and forget them: a stream whose last
   * event was folded is done with here, and what its thread keeps stays
   * bounded by the streams still being folded.
   */
  release(streams?: Iterable<string>): TransferredStream[] {
    const released: TransferredStream[] = [];
    for (const stream of streams ?? [...this.byStream.keys()]) {
      const folding = this.byStream.get(stream);
      if (folding === undefined) continue;
      this.byStream.delete(stream);
      const { sessionId, first, view, history } = folding;
      released.push({ stream, sessionId, first, view: encodeForTransfer(view), history: history === undefined ? undefined : encodeForTransfer(history) });
    }
    return released;
  }

  /** What this fold found: its divergences, the events it read and the last position. */
  findings(): FoldFindings {
    return { divergences: this.divergences, eventsRead: this.eventsRead, lastPosition: this.lastPosition };
  }

  /**
   * Take in what other threads folded: their streams (decoded, see
   * {@link decodeStream}; no stream of this fold's) and their findings. The
   * streams are then in the order of their first events and the divergences
   * in position order, as a fold of the whole log in one thread would have
   * them, and the fold goes on from there (the events appended since, say).
   */
  absorb(streams: readonly FoldedStream[], findings: readonly FoldFindings[]): void {
    const all = [...this.byStream];
    for (const { stream, sessionId, first, view, history } of streams) all.push([stream, { sessionId, first, view: owned(view), history }]);
    for (const found of findings) {
      this.divergences.push(...found.divergences);
      this.eventsRead += found.eventsRead;
      if (found.lastPosition > this.lastPosition) this.lastPosition = found.lastPosition;
    }
    all.sort((a, b) => a[1].first - b[1].first);
    this.byStream.clear();
    for (const [stream, folding] of all) this.byStream.set(stream, folding);
    // Each event diverges at most once, so its position orders the divergences.
    this.divergences.sort((a, b) => a.position - b.position);
  }

  private visit(event: StoredEvent): void {
    let folding = this.byStream.get(event.stream);
    if (folding === undefined) {
      folding = {
        sessionId: sessionIdOfStream(event.stream) ?? event.stream,
        first: event.position,
        view: owned(sessionViewProjection.initialState()),
        history: undefined,
      };
      this.byStream.set(event.stream, folding);
    }
    const view = folding.view;
    const type = event.type;
    if (type === 'TaskTransitioned') this.verify(folding.sessionId, view, event);
    if (type === 'TokenUsageRecorded' || type === 'ContextCompacted' || type === 'BudgetThresholdCrossed' || type === 'BudgetThresholdCleared') {
      folding.history = tokenHistoryProjection.evolve(folding.history ?? historyStart(view), event);
    }
    // What sessionViewProjection.evolve does, into the fold's own record.
    view.version = event.version;
    view.position = event.position;
    if (type !== 'EventLost') view.updatedAt = event.meta.at;
    view.session = sessionSummaryProjection.evolve(view.session, event);
    view.tasks = tasksProjection.evolve(view.tasks, event);
    view.tokens = tokenBudgetProjection.evolve(view.tokens, event);
    view.checkpoints = checkpointsProjection.evolve(view.checkpoints, event);
    view.context = contextItemsProjection.evolve(view.context, event);
    view.ingest = ingestProjection.evolve(view.ingest, event);
    this.eventsRead++;
    if (event.position > this.lastPosition) this.lastPosition = event.position;
  }

  private verify(sessionId: string, before: SessionView, event: StoredEventOf<'TaskTransitioned'>): void {
    const { taskId, event: machineEvent, from, to } = event.data;
    const projectedFrom = before.tasks.byId.get(taskId)?.state;
    const machineTo = projectedFrom === undefined ? undefined : this.table.next(projectedFrom, machineEvent);
    if (projectedFrom === from && machineTo === to) return;
    const why =
      projectedFrom === undefined
        ? `task ${taskId} was never added`
        : projectedFrom !== from
          ? `the task was ${projectedFrom} by then, not ${from}`
          : machineTo === undefined
            ? `the machine does not accept ${machineEvent} in ${from}`
            : `the machine now takes ${from} on ${machineEvent} to ${machineTo}`;
    this.divergences.push({
      sessionId,
      stream: event.stream,
      version: event.version,
      position: event.position,
      eventId: event.id,
      taskId,
      event: machineEvent,
      recorded: { from, to },
      projectedFrom,
      machineTo,
      message: `${event.stream} v${event.version} (position ${event.position}): task ${taskId} recorded ${from} -${machineEvent}-> ${to}, but ${why}.`,
    });
  }
}

/**
 * Rebuild every projection from the log and check each recorded task
 * transition: the task must have been in the recorded `from` state, and the
 * task machine must take that state to the recorded `to` state on the
 * recorded event. Whatever does not hold is reported as a divergence with the
 * event that diverged; the projections still follow the log as recorded.
 */
export async function replay(store: EventStore, options: ReplayOptions = {}): Promise<ReplayReport> {
  if (options.sessionId !== undefined) {
    const stream = sessionStream(options.sessionId);
    const version = await store.streamVersion(stream);
    if (version === 0) {
      const known = (await store.listStreams()).map((info) => sessionIdOfStream(info.stream)).filter((id) => id !== undefined);
      throw new UnknownSessionError(options.sessionId, known);
    }
    const until = options.untilVersion;
    if (until !== undefined && (!Number.isInteger(until) || until < 1)) {
      throw new InvalidArgumentError(`The version to replay until is a whole number from 1; got ${String(until)}.`);
    }
    if (until !== undefined && until > version) {
      throw new InvalidArgumentError(`Session ${options.sessionId} has ${version} events; version ${until} does not exist yet.`);
    }
    const fold = new ReplayFold(store, options.taskMachine);
    await fold.visitStream(stream, until);
    return fold.report();
  }
  if (options.untilVersion !== undefined) {
    throw new InvalidArgumentError('A version only means something within one session: give the session id with it.');
  }
  const { threads } = options;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new InvalidArgumentError(`threads is a whole number from 1; got ${String(threads)}.`);
  }
  const wanted = threads ?? Math.min(2, availableParallelism());
  if (wanted > 1 && (options.taskMachine === undefined || options.taskMachine === taskLifecycleMachine)) {
    const offer = partitionedLogOf(store);
    if (offer !== undefined) {
      const { replayInParallel } = await import('./parallelReplay.js');
      const report = await replayInParallel(store, offer, wanted, threads !== undefined);
      if (report !== undefined) return report;
    }
  }
  const fold = new ReplayFold(store, options.taskMachine);
  await fold.visitLog();
  return fold.report();
}
