import type { AnyStateMachine } from 'xstate';
import { taskLifecycleMachine } from '../../machines/taskLifecycle.js';
import { sessionIdOfStream, sessionStream, type StoredEvent } from '../events/envelope.js';
import { InvalidArgumentError, UnknownSessionError } from '../errors.js';
import { sessionViewProjection, type SessionView } from '../projections/sessionView.js';
import { tokenHistoryProjection, type TokenHistory } from '../projections/tokenHistory.js';
import type { EventStore } from '../store/eventStore.js';
import { forkBase } from './loadSessionView.js';
import { transitionTableFor } from './transitionTable.js';

/** Options of {@link replay}. */
export interface ReplayOptions {
  /** Replay one session only; defaults to every session in the log. */
  sessionId?: string;
  /** With `sessionId`: stop at this stream version (time travel). */
  untilVersion?: number;
  /** The task machine to verify the history against; defaults to `taskLifecycleMachine`. */
  taskMachine?: AnyStateMachine;
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
 * Rebuild every projection from the log and check each recorded task
 * transition: the task must have been in the recorded `from` state, and the
 * task machine must take that state to the recorded `to` state on the
 * recorded event. Whatever does not hold is reported as a divergence with the
 * event that diverged; the projections still follow the log as recorded.
 */
export async function replay(store: EventStore, options: ReplayOptions = {}): Promise<ReplayReport> {
  const table = transitionTableFor(options.taskMachine ?? taskLifecycleMachine);
  const sessions = new Map<string, SessionView>();
  const tokenHistories = new Map<string, TokenHistory>();
  const divergences: Divergence[] = [];
  let eventsRead = 0;
  let lastPosition = 0;

  const visit = (event: StoredEvent): void => {
    const sessionId = sessionIdOfStream(event.stream) ?? event.stream;
    const before = sessions.get(sessionId) ?? sessionViewProjection.initialState();
    if (event.type === 'TaskTransitioned') {
      const { taskId, event: machineEvent, from, to } = event.data;
      const projectedFrom = before.tasks.byId.get(taskId)?.state;
      const machineTo = projectedFrom === undefined ? undefined : table.next(projectedFrom, machineEvent);
      if (projectedFrom !== from || machineTo !== to) {
        const why =
          projectedFrom === undefined
            ? `task ${taskId} was never added`
            : projectedFrom !== from
              ? `the task was ${projectedFrom} by then, not ${from}`
              : machineTo === undefined
                ? `the machine does not accept ${machineEvent} in ${from}`
                : `the machine now takes ${from} on ${machineEvent} to ${machineTo}`;
        divergences.push({
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
    sessions.set(sessionId, sessionViewProjection.evolve(before, event));
    const type = event.type;
    if (type === 'TokenUsageRecorded' || type === 'ContextCompacted' || type === 'BudgetThresholdCrossed' || type === 'BudgetThresholdCleared') {
      tokenHistories.set(
        sessionId,
        tokenHistoryProjection.evolve(tokenHistories.get(sessionId) ?? historyStart(before), event),
      );
    }
    eventsRead++;
    lastPosition = event.position;
  };

  // A fork starts from its parent's view at the version it branched at.
  const visitAll = async (batch: readonly StoredEvent[]): Promise<void> => {
    for (const event of batch) {
      if (event.type === 'SessionForked' && event.version === 1) {
        sessions.set(sessionIdOfStream(event.stream) ?? event.stream, await forkBase(store, event));
      }
      visit(event);
    }
  };

  if (options.sessionId !== undefined) {
    const stream = sessionStream(options.sessionId);
    const version = await store.streamVersion(stream);
    if (version === 0) throw new UnknownSessionError(options.sessionId);
    const until = options.untilVersion;
    if (until !== undefined && (!Number.isInteger(until) || until < 1)) {
      throw new InvalidArgumentError(`--until is a stream version, a whole number from 1; got ${String(until)}.`);
    }
    for await (const event of store.readStream(stream, until === undefined ? {} : { toVersion: until })) await visitAll([event]);
  } else {
    if (options.untilVersion !== undefined) {
      throw new InvalidArgumentError('A version only means something within one session: give the session id with it.');
    }
    for await (const batch of store.readAllBatches()) {
      if (batch.some((event) => event.type === 'SessionForked')) await visitAll(batch);
      else for (const event of batch) visit(event);
    }
  }
  for (const sessionId of sessions.keys()) {
    if (!tokenHistories.has(sessionId)) tokenHistories.set(sessionId, historyStart(sessions.get(sessionId)!));
  }
  return { sessions, tokenHistories, eventsRead, lastPosition, divergences, ok: divergences.length === 0 };
}
