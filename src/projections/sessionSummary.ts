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
  updatedAt: string;
  endedAt?: string;
  endReason?: string;
  /** How many times the session was resumed. */
  resumes: number;
  /** The handoff waiting for a receiver, when `status` is `handing_off`. */
  pendingHandoffId?: string;
  /** The recovery in progress, when `status` is `recovering`. */
  recoveryId?: string;
  /** The stream version and store position of the last event folded in. */
  version: number;
  position: number;
}

const addAgent = (agents: readonly string[], agent: string | undefined): readonly string[] =>
  agent === undefined || agents.includes(agent) ? agents : [...agents, agent];

/** The session-state projection: status, agents, model, lineage. */
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
    updatedAt: '',
    resumes: 0,
    version: 0,
    position: 0,
  }),
  evolve(state, event: StoredEvent) {
    const base = { ...state, version: event.version, position: event.position, updatedAt: event.meta.at };
    switch (event.type) {
      case 'SessionStarted':
      case 'SessionForked': {
        const { sessionId, agent, model, title } = event.data;
        const next: SessionSummary = {
          ...base,
          sessionId,
          stream: event.stream,
          status: 'active',
          agent,
          agents: [agent],
          model,
          startedAt: event.meta.at,
        };
        if (title !== undefined) next.title = title;
        if (event.type === 'SessionForked') {
          next.parent = { sessionId: event.data.parentSessionId, version: event.data.parentVersion };
        }
        return next;
      }
      case 'SessionResumed':
        return { ...base, agent: event.data.agent, agents: addAgent(state.agents, event.data.agent), resumes: state.resumes + 1 };
      case 'SessionEnded': {
        const next: SessionSummary = { ...base, status: 'ended', endedAt: event.meta.at };
        if (event.data.reason !== undefined) next.endReason = event.data.reason;
        return next;
      }
      case 'ModelSwitched':
        return { ...base, model: event.data.to };
      case 'HandoffRequested':
        return { ...base, status: 'handing_off', pendingHandoffId: event.data.handoffId };
      case 'HandoffAccepted': {
        const { pendingHandoffId: _, ...rest } = base;
        return { ...rest, status: 'active', agent: event.data.agent, agents: addAgent(state.agents, event.data.agent) };
      }
      case 'HandoffRejected': {
        const { pendingHandoffId: _, ...rest } = base;
        return { ...rest, status: 'active' };
      }
      case 'RecoveryStarted':
        return { ...base, status: 'recovering', recoveryId: event.data.recoveryId };
      case 'RecoveryCompleted': {
        const { recoveryId: _, ...rest } = base;
        return { ...rest, status: 'active' };
      }
      default:
        return { ...base, agents: addAgent(state.agents, event.meta.agent) };
    }
  },
};
