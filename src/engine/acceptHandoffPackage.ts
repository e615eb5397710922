import { randomUUID } from 'node:crypto';
import { CommandRejectedError, InvalidArgumentError } from '../errors.js';
import { sessionStream } from '../events/envelope.js';
import { carriedContextItems } from '../handoff/carriedContext.js';
import type { HandoffPackage } from '../handoff/handoffPackage.js';
import { HandoffValidationError } from '../handoff/handoffValidationError.js';
import { validateHandoffPackage } from '../handoff/validateHandoffPackage.js';
import { checkId } from '../validation/ids.js';
import type { AcceptHandoff, RecordContextItem, RequestHandoff } from './commands.js';
import type { Engine } from './createEngine.js';
import { executeSessionCommand, type SessionHandle } from './sessionHandle.js';

/**
 * The commands of accepting a package from outside the engine, to run as one
 * batch on the session it goes into: the handoff requested (with the whole
 * package, as the log keeps every request) and accepted by `agent`, then one
 * `RecordContextItem` per carried item (a tag the session already has is
 * updated instead). `newItemId` gives each item its id.
 */
export function handoffPackageCommands(
  pkg: HandoffPackage,
  agent: string,
  newItemId: () => string,
): Array<RequestHandoff | AcceptHandoff | RecordContextItem> {
  return [
    {
      type: 'RequestHandoff',
      handoffId: pkg.handoff_id,
      fromAgent: pkg.from_agent,
      toAgent: pkg.to_agent,
      package: pkg as unknown as Record<string, unknown>,
      fromOutside: true,
    },
    { type: 'AcceptHandoff', handoffId: pkg.handoff_id, agent },
    ...carriedContextItems(pkg).map((item): RecordContextItem => ({ type: 'RecordContextItem', itemId: newItemId(), ...item })),
  ];
}

/** Options of {@link acceptHandoffPackage}. */
export interface AcceptHandoffPackageOptions {
  /** The session the package goes into; defaults to its `session_context.session_id`. */
  sessionId?: string;
  /** The receiving agent; defaults to the package's `to_agent` (and must be it). */
  agent?: string;
  /** The model of a session the log does not have yet, when the package names none. */
  model?: string;
}

/** What {@link acceptHandoffPackage} did. */
export interface AcceptedHandoffPackage {
  /** The session, now worked by the receiving agent. */
  session: SessionHandle;
  handoffId: string;
  /** True when the log had no such session: it was started for the package (by `from_agent`, then handed over). */
  started: boolean;
  /** The context items recorded or updated from what the package carried, by tag. */
  carriedTags: string[];
  /** What the package lacked that was taken from the log instead (see `HandoffValidation.derived`). */
  derived: string[];
  /** True when the package says fewer tokens are free than a handoff needs: compact the context soon. */
  needsCompaction: boolean;
}

/**
 * Accept a handoff package in the product document's shape, made by an
 * agent that may never have seen this engine. The package is validated (its
 * required fields are the document's; a problem other than too little free
 * context refuses it, naming every one, and nothing is appended). The
 * session it names (or `options.sessionId`) is taken over by `to_agent`:
 *
 * - a handoff of this log that waits for that agent is accepted as it is;
 * - a session the log has, that `from_agent` does not work now or that waits
 *   for another handoff, is refused (`CommandRejectedError`, see
 *   `packageSenderRefusal`), nothing appended;
 * - otherwise `HandoffRequested` (with the whole package) and
 *   `HandoffAccepted` are appended, with one context item per field the
 *   package carried (language, expertise, project, constraints, steps ...,
 *   see `carriedContextItems`), all in one append;
 * - a session the log does not have is started for `from_agent` on the
 *   package's model (or `options.model`), in that same append;
 * - then, with `auto_checkpoint`, a checkpoint (`handoff:<id>`), as every handoff takes one.
 *
 * @example
 * const { session, carriedTags } = await acceptHandoffPackage(engine, JSON.parse(text));
 * // carriedTags: ['user_language', 'expertise_level', 'current_project', 'spec_id', 'next_step', 'must_use_pytest', ...]
 */
export async function acceptHandoffPackage(
  engine: Engine,
  value: unknown,
  options: AcceptHandoffPackageOptions = {},
): Promise<AcceptedHandoffPackage> {
  const validation = validateHandoffPackage(value, engine.settings.handoff);
  const handoffId = typeof (value as { handoff_id?: unknown } | null)?.handoff_id === 'string' ? (value as { handoff_id: string }).handoff_id : undefined;
  if (!validation.acceptable) {
    // Too little free context refuses nothing: it is said as needsCompaction.
    const refusing = validation.problems.filter((problem) => problem.code !== 'NOT_ENOUGH_TOKENS');
    throw new HandoffValidationError(refusing, { ...(handoffId === undefined ? {} : { handoffId }) });
  }
  const pkg = value as HandoffPackage;
  const agent = options.agent ?? pkg.to_agent;
  checkId('agent', agent);
  if (agent !== pkg.to_agent) {
    throw new CommandRejectedError(`Handoff ${pkg.handoff_id} is for ${pkg.to_agent}, not ${agent}.`);
  }
  const sessionId = options.sessionId ?? pkg.session_context.session_id;
  if (sessionId === undefined) {
    throw new InvalidArgumentError(
      `Handoff ${pkg.handoff_id} names no session (session_context.session_id): name the session to accept it into.`,
    );
  }
  checkId('session', sessionId);
  const result = (session: SessionHandle, started: boolean, carriedTags: string[]): AcceptedHandoffPackage => ({
    session,
    handoffId: pkg.handoff_id,
    started,
    carriedTags,
    derived: validation.derived,
    needsCompaction: validation.needsCompaction,
  });

  // Everything the package carries is read before anything is appended (a damaged critical_context refuses it here).
  const commands = handoffPackageCommands(pkg, agent, () => `ctx-${randomUUID()}`);
  let session: SessionHandle;
  let started = false;
  if ((await engine.store.streamVersion(sessionStream(sessionId))) > 0) {
    session = await engine.openSession(sessionId);
    const pending = session.state.session.pendingHandoff;
    if (pending?.handoffId === pkg.handoff_id) {
      // A package this log already holds: what it carried is in the log.
      await session.acceptHandoff(pkg.handoff_id, agent);
      return result(session, false, []);
    }
  } else {
    const model = pkg.session_context.model ?? options.model;
    if (model === undefined) {
      throw new InvalidArgumentError(
        `Session ${sessionId} is not in the log and handoff ${pkg.handoff_id} names no model (session_context.model): name the model to start it on.`,
      );
    }
    // The start, the handoff and what it carried: one append, so a refusal leaves no session behind.
    session = await engine.startSession({ sessionId, agent: pkg.from_agent, model, commands, actor: agent });
    started = true;
  }
  if (!started) await executeSessionCommand(session, { type: 'RunBatch', commands }, agent);
  // A handoff is a checkpoint trigger: the receiver's work starts from one.
  if (engine.settings.autoCheckpoint) await session.checkpoint(`handoff:${pkg.handoff_id}`.slice(0, 10_000), agent);
  await session.refresh();
  const carriedTags = commands.flatMap((command) => (command.type === 'RecordContextItem' && command.tag !== undefined ? [command.tag] : []));
  return result(session, started, carriedTags);
}
