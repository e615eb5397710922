import type { SessionStatus } from '../../machines/session.js';
import { sessionIdOfStream, type StoredEvent } from '../events/envelope.js';
import { Immer } from 'immer';
import type { Projection } from './projection.js';

/** Who, what and where a session is: the session-state projection. */
export interface SessionSummary {
  sessionId: string;
  stream: string;
  /** `none` before the stream's first event. */
  status: SessionStatus | 'none';
  title?: string;
  /** The agent that last started, resumed or took over the session. */
  agent: string;
  /** Every agent that has worked in the session, in order of first appearance. */
  agents: readonly string[];
  model: string;
  /** For a fork: the session and version it branched from. */
  parent?: { sessionId: string; version: number };
  startedAt: string;
  endedAt?: string;
  endReason?: string;
  /** How many times the session was resumed. */
  resumes: number;
  /** The handoff waiting for a receiver, when `status` is `handing_off`. */
  pendingHandoff?: { handoffId: string; fromAgent: string; toAgent: string };
  /** Every handoff of the session and how it ended. */
  handoffs: Readonly<Record<string, HandoffRecord>>;
  /** The recovery in progress, when `status` is `recovering`. */
  recoveryId?: string;
  /**
   * The store position of the session's last start, fork, resume or accepted
   * handoff: of the sessions not ended, the one activated last is the current
   * one. Absent from a view restored from a checkpoint written before it was kept.
   */
  activatedPosition?: number;
  /**
   * True when the session's first event (its `SessionStarted` or
   * `SessionForked`) was lost to damage and `moai-session repair` put an
   * `EventLost` line in its place: the session is a placeholder named by its
   * stream, its agent, model and start time taken from the events after the
   * hole (empty until one tells them), and a lost fork has no parent's state.
   */
  startLost?: true;
}

/** A handoff and its outcome. */
export interface HandoffRecord {
  fromAgent: string;
  toAgent: string;
  status: 'pending' | 'accepted' | 'rejected' | 'abandoned';
  /** The agent that accepted or rejected it. */
  by?: string;
  reason?: string;
}

/**
 * Session-level events change a few fields of small nested records (the
 * handoffs, the agents): immer writes each change as the assignment it is.
 * They are rare beside task and usage events, and the summary is small, so
 * immer's copy-on-write costs nothing that matters; auto-freeze is off
 * because the engine hands views out without copying them and never changes
 * them (freezing would walk the whole summary on every change).
 */
const immer = new Immer({ autoFreeze: false });

/**
 * The session-state projection: status, agents, model, lineage. It changes
 * only on session-level events (and the first event of a new agent), so the
 * many task and usage events leave it as it is.
 */
export const sessionSummaryProjection: Projection<SessionSummary> = {
  name: 'session',
  initialState: () => ({
    sessionId: '',
    stream: '',
    status: 'none',
    agent: '',
    agents: [],
    model: '',
    startedAt: '',
    resumes: 0,
    handoffs: {},
  }),
  evolve(state, event: StoredEvent) {
    if (state.status === 'none' && event.type !== 'SessionStarted' && event.type !== 'SessionForked') {
      // A stream that does not begin with its start lost it (a repair's EventLost, or a line --skip-damaged left out).
      const placeholder = placeholderStart(state, event);
      if (placeholder !== state) return sessionSummaryProjection.evolve(placeholder, event);
    }
    switch (event.type) {
      case 'SessionStarted':
      case 'SessionForked': {
        const { sessionId, agent, model, title } = event.data;
        const next: SessionSummary = {
          sessionId,
          stream: event.stream,
          status: 'active',
          agent,
          agents: [agent],
          model,
          startedAt: event.meta.at,
          resumes: 0,
          handoffs: {},
          activatedPosition: event.position,
        };
        if (title !== undefined) next.title = title;
        if (event.type === 'SessionForked') {
          next.parent = { sessionId: event.data.parentSessionId, version: event.data.parentVersion };
        }
        return next;
      }
      case 'SessionResumed':
        return immer.produce(state, (draft) => {
          draft.agent = event.data.agent;
          if (!draft.agents.includes(event.data.agent)) draft.agents.push(event.data.agent);
          draft.resumes += 1;
          draft.activatedPosition = event.position;
        });
      case 'SessionEnded':
        return immer.produce(state, (draft) => {
          draft.status = 'ended';
          draft.endedAt = event.meta.at;
          if (event.data.reason !== undefined) draft.endReason = event.data.reason;
          // A handoff nobody took before the end is abandoned.
          const open = draft.pendingHandoff && draft.handoffs[draft.pendingHandoff.handoffId];
          if (open) open.status = 'abandoned';
          delete draft.pendingHandoff;
        });
      case 'ModelSwitched':
        return immer.produce(state, (draft) => {
          draft.model = event.data.to;
        });
      case 'HandoffRequested':
        return immer.produce(state, (draft) => {
          const { handoffId, fromAgent, toAgent } = event.data;
          draft.status = 'handing_off';
          draft.pendingHandoff = { handoffId, fromAgent, toAgent };
          draft.handoffs[handoffId] = { fromAgent, toAgent, status: 'pending' };
        });
      case 'HandoffAccepted':
        return immer.produce(state, (draft) => {
          const { handoffId, agent } = event.data;
          delete draft.pendingHandoff;
          draft.status = 'active';
          draft.agent = agent;
          draft.activatedPosition = event.position;
          if (!draft.agents.includes(agent)) draft.agents.push(agent);
          const record = draft.handoffs[handoffId];
          if (record) {
            record.status = 'accepted';
            record.by = agent;
          }
        });
      case 'HandoffRejected':
        return immer.produce(state, (draft) => {
          const { handoffId, agent, reason } = event.data;
          delete draft.pendingHandoff;
          draft.status = 'active';
          const record = draft.handoffs[handoffId];
          if (record) {
            record.status = 'rejected';
            record.reason = reason;
            if (agent !== undefined) record.by = agent;
          }
        });
      case 'RecoveryStarted':
        return immer.produce(state, (draft) => {
          draft.status = 'recovering';
          draft.recoveryId = event.data.recoveryId;
        });
      case 'RecoveryCompleted':
        return immer.produce(state, (draft) => {
          draft.status = 'active';
          delete draft.recoveryId;
        });
      case 'EventLost':
        // The repair's mark of a hole: no agent worked here and nothing happened then.
        return state;
      default: {
        if (state.startLost === true && (state.agent === '' || state.model === '' || state.startedAt === '')) return fillPlaceholder(state, event);
        // The hot path (task and usage events): no change unless a new agent shows up.
        const agent = event.meta.agent;
        if (agent === undefined || state.agents.includes(agent)) return state;
        return immer.produce(state, (draft) => {
          draft.agents.push(agent);
        });
      }
    }
  },
};

/** The start of a session stream whose first event is not its start: named by the stream, the rest unknown until later events tell it. */
function placeholderStart(state: SessionSummary, event: StoredEvent): SessionSummary {
  const sessionId = sessionIdOfStream(event.stream);
  if (sessionId === undefined) return state;
  return { ...sessionSummaryProjection.initialState(), sessionId, stream: event.stream, status: 'active', startLost: true, activatedPosition: event.position };
}

/** A placeholder start (its start lost in a repair) takes the agent, model and start time it lacks from the first events that tell them. */
function fillPlaceholder(state: SessionSummary, event: StoredEvent): SessionSummary {
  if (state.startLost !== true || event.type === 'EventLost') return state;
  return immer.produce(state, (draft) => {
    const agent = event.meta.agent;
    if (agent !== undefined) {
      if (draft.agent === '') draft.agent = agent;
      if (!draft.agents.includes(agent)) draft.agents.push(agent);
    }
    if (draft.startedAt === '') draft.startedAt = event.meta.at;
    if (draft.model === '' && event.type === 'TokenUsageRecorded') draft.model = event.data.model;
  });
}
