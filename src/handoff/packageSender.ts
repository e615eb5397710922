import type { SessionSummary } from '../projections/sessionSummary.js';

/** The parts of a handoff package that say who hands what to whom. */
export interface PackageParties {
  handoff_id: string;
  from_agent: string;
  to_agent: string;
}

/**
 * Why a handoff package made outside this engine may not take over a session
 * the log already has, or undefined when it may: the sender (`from_agent`)
 * must be the agent that works the session now, and the session must not be
 * waiting for another handoff (one that waits for this very package's id is
 * accepted as it is, and is no concern of this check). A sentence naming the
 * session, its agent and the package.
 *
 * @example
 * packageSenderRefusal(view.session, { handoff_id: 'h1', from_agent: 'nobody', to_agent: 'x' });
 * // 'Handoff h1 is from nobody, but session demo is worked by implementer: ...'
 */
export function packageSenderRefusal(
  session: Pick<SessionSummary, 'sessionId' | 'agent' | 'pendingHandoff'>,
  pkg: PackageParties,
): string | undefined {
  const pending = session.pendingHandoff;
  if (pending !== undefined && pending.handoffId !== pkg.handoff_id) {
    return (
      `Session ${session.sessionId} is being handed off by ${pending.fromAgent} to ${pending.toAgent} (handoff ${pending.handoffId}): ` +
      `handoff ${pkg.handoff_id} cannot take it over until ${pending.toAgent} accepts that one or it is rejected.`
    );
  }
  if (pkg.from_agent !== session.agent) {
    return (
      `Handoff ${pkg.handoff_id} is from ${pkg.from_agent}, but session ${session.sessionId} is worked by ${session.agent}: ` +
      `only the agent that works a session can hand it off (name another session, or have ${session.agent} make the package).`
    );
  }
  return undefined;
}
