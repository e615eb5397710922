import { buildHandoffPackage } from '../handoff/buildHandoffPackage.js';
import type { WrittenHandoffPackage } from '../handoff/handoffPackage.js';
import { HandoffValidationError } from '../handoff/handoffValidationError.js';
import { validateHandoffPackage } from '../handoff/validateHandoffPackage.js';
import { CommandRejectedError } from '../errors.js';
import { checkId } from '../validation/ids.js';
import { sessionStep } from './decide.js';
import { windowOf } from './decideBudget.js';
import type { CommandRunner } from './commandRunner.js';

/** Input of `SessionHandle.requestHandoff`. */
export interface RequestHandoffInput {
  toAgent: string;
  /** Defaults to the session's current agent. */
  fromAgent?: string;
  /** What has happened so far, for the receiving agent. */
  summary: string;
  keyDecisions?: readonly string[];
  files?: readonly string[];
  instructions?: string;
  /** Defaults to a new id. */
  handoffId?: string;
  currentTaskId?: string;
}

/**
 * Offer a session to another agent. The package is built from the session
 * and validated: required fields, agents that may cooperate
 * (`session.handoff.compatible_agents`) and enough free context
 * (`session.handoff.min_available_tokens`). Too little free context asks the
 * summariser for a compaction first and checks again. A package that still
 * fails is refused with `HandoffValidationError` naming every problem, and
 * nothing of the handoff is recorded (a compaction it asked for stays: the
 * context was compacted); a session that is not `active`, or a handoff id
 * already used, is refused before anything is appended. Otherwise a
 * checkpoint is taken (the package names it) and `HandoffRequested` records
 * the package. The session then waits for the receiver.
 */
export async function requestHandoff(runner: CommandRunner, input: RequestHandoffInput): Promise<WrittenHandoffPackage> {
  const { context } = runner;
  return runner.serialise(async () => {
    // Against the log as it is now: another process may have moved the session on.
    await runner.catchUpNow();
    const handoffId = input.handoffId ?? `handoff-${context.newId()}`;
    const fromAgent = input.fromAgent ?? runner.view.session.agent;
    checkId('handoff', handoffId);
    checkId('agent', fromAgent);
    checkId('agent', input.toAgent);
    const rules = context.settings.handoff;
    // What the request itself would be refused for is checked before anything is recorded.
    sessionStep(runner.view, 'REQUEST_HANDOFF', 'hand off');
    if (runner.view.session.handoffs[handoffId] !== undefined) {
      throw new CommandRejectedError(`Session ${runner.view.session.sessionId} already has a handoff ${handoffId}.`);
    }
    // So is the package: a refused handoff leaves no trace of its own.
    const build = (checkpointId: string): WrittenHandoffPackage => {
      const model = runner.view.session.model;
      const contextWindow = windowOf(model, context.settings.budget);
      if (contextWindow === undefined) {
        throw new CommandRejectedError(
          `No context window is known for model ${model}: add it under models.context_windows in .moai/config/config.json.`,
        );
      }
      return buildHandoffPackage(runner.view, {
        handoffId,
        fromAgent,
        toAgent: input.toAgent,
        createdAt: context.now(),
        summary: input.summary,
        checkpointId,
        contextWindow,
        reserveTokens: context.settings.reserveTokens,
        forkingEnabled: context.settings.forkingEnabled,
        tokenBudgetStrategy: context.settings.recoveryStrategy,
        ...(input.keyDecisions === undefined ? {} : { keyDecisions: input.keyDecisions }),
        ...(input.files === undefined ? {} : { files: input.files }),
        ...(input.instructions === undefined ? {} : { instructions: input.instructions }),
        ...(input.currentTaskId === undefined ? {} : { currentTaskId: input.currentTaskId }),
      });
    };
    const checkpointId = `cp-${context.newId()}`;
    let validation = validateHandoffPackage(build(checkpointId), rules);
    if (!validation.ok && validation.needsCompaction && validation.problems.every((p) => p.code === 'NOT_ENOUGH_TOKENS')) {
      // The compaction happened whatever comes of the handoff: it stays recorded, and the policies react to it.
      await runner.reactNow(await runner.compactNow(`handoff ${handoffId} needs ${rules.minAvailableTokens} free tokens`));
      validation = validateHandoffPackage(build(checkpointId), rules);
    }
    if (!validation.ok) {
      throw new HandoffValidationError(validation.problems, { needsCompaction: validation.needsCompaction, handoffId });
    }
    await runner.checkpointNow(`handoff:${handoffId}`, fromAgent, checkpointId);
    const handoff = build(checkpointId);
    await runner.executeNow(
      { type: 'RequestHandoff', handoffId, fromAgent, toAgent: input.toAgent, package: handoff as unknown as Record<string, unknown> },
      fromAgent,
    );
    return handoff;
  });
}
