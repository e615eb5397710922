import type { SessionStatus } from '../../machines/session.js';
import type { StoredEvent } from '../events/envelope.js';
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

const addAgent = (agents: readonly string[], agent: string | undefined): readonly string[] =>
  agent === undefined || agents.includes(agent) ? agents : [...agents, agent];

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
        };
        if (title !== undefined) next.title = title;
        if (event.type === 'SessionForked') {
          next.parent = { sessionId: event.data.parentSessionId, version: event.data.parentVersion };
        }
        return next;
      }
      case 'SessionResumed':
        return { ...state, agent: event.data.agent, agents: addAgent(state.agents, event.data.agent), resumes: state.resumes + 1 };
      case 'SessionEnded': {
        const { pendingHandoff, ...rest } = state;
        const next: SessionSummary = { ...rest, status: 'ended', endedAt: event.meta.at };
        if (event.data.reason !== undefined) next.endReason = event.data.reason;
        const open = pendingHandoff && state.handoffs[pendingHandoff.handoffId];
        if (pendingHandoff && open) {
          next.handoffs = { ...state.handoffs, [pendingHandoff.handoffId]: { ...open, status: 'abandoned' } };
        }
        return next;
      }
      case 'ModelSwitched':
        return { ...state, model: event.data.to };
      case 'HandoffRequested': {
        const { handoffId, fromAgent, toAgent } = event.data;
        return {
          ...state,
          status: 'handing_off',
          pendingHandoff: { handoffId, fromAgent, toAgent },
          handoffs: { ...state.handoffs, [handoffId]: { fromAgent, toAgent, status: 'pending' } },
        };
      }
      case 'HandoffAccepted': {
        const { pendingHandoff: _, ...rest } = state;
        const { handoffId, agent } = event.data;
        const record = state.handoffs[handoffId];
        return {
          ...rest,
          status: 'active',
          agent,
          agents: addAgent(state.agents, agent),
          handoffs: record ? { ...state.handoffs, [handoffId]: { ...record, status: 'accepted', by: agent } } : state.handoffs,
        };
      }
      case 'HandoffRejected': {
        const { pendingHandoff: _, ...rest } = state;
        const { handoffId, agent, reason } = event.data;
        const record = state.handoffs[handoffId];
        const rejected: HandoffRecord | undefined = record && { ...record, status: 'rejected', reason };
        if (rejected && agent !== undefined) rejected.by = agent;
        return { ...rest, status: 'active', handoffs: rejected ? { ...state.handoffs, [handoffId]: rejected } : state.handoffs };
      }
      case 'RecoveryStarted':
        return { ...state, status: 'recovering', recoveryId: event.data.recoveryId };
      case 'RecoveryCompleted': {
        const { recoveryId: _, ...rest } = state;
        return { ...rest, status: 'active' };
      }
      default: {
        const agent = event.meta.agent;
        return agent === undefined || state.agents.includes(agent) ? state : { ...state, agents: [...state.agents, agent] };
      }
    }
  },
};
