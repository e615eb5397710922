import { sessionViewToJson, tasksInOrder, type SessionView } from '../projections/sessionView.js';
import { stateChecksum } from '../checkpoints/checkpointDocument.js';
import { compareGitStates, type GitComparison, type GitState } from '../checkpoints/gitState.js';
import { RECOVERY_STRATEGIES } from '../config/configValues.js';
import { InvalidArgumentError, UnknownSessionError } from '../errors.js';
import type { CommandRunner } from './commandRunner.js';
import { windowOf } from './decideBudget.js';
import { loadSessionView, type LoadWarning } from './loadSessionView.js';
import { groupDigits } from '../util/groupDigits.js';
import { sessionStream } from '../events/envelope.js';
import type { EventStore } from '../store/eventStore.js';

/** Options of a recovery. */
export interface RecoverOptions {
  /** The agent that recovers; defaults to the session's agent. */
  agent?: string;
  /** Defaults to the config's `session.recovery_strategy`. */
  strategy?: string;
}

/** What a recovery found and did, step by step, and the readable report it ends with. */
export interface RecoveryReport {
  recoveryId: string;
  sessionId: string;
  strategy: string;
  /** The checkpoint restored, or undefined when none was valid (the log was replayed from the start). */
  checkpointId: string | undefined;
  /** Checkpoints skipped on the way, and why. */
  skipped: string[];
  eventsReplayed: number;
  completedTasks: string[];
  /** Failed tasks moved to `recovered`, ready to resume. */
  recoveredTasks: string[];
  openTasks: string[];
  tokensLeft: number | undefined;
  /**
   * How the working folder's git repository differs now from what the
   * restored checkpoint recorded (HEAD, branch, changed files); undefined
   * when no checkpoint was restored or no git state can be compared on either side.
   */
  git: (GitComparison & { atCheckpoint: GitState | null; now: GitState | null }) | undefined;
  /** The readable report, also recorded in `RecoveryCompleted`. */
  report: string;
}

/**
 * Recover a session in the product's six steps, each recorded as a
 * `RecoveryStepCompleted` event between `RecoveryStarted` and
 * `RecoveryCompleted`:
 *
 * 1. restore the newest valid checkpoint (one whose checksum fails, or that
 *    the log does not confirm, is skipped with a warning for the one before),
 *    and say when the git repository moved since it (HEAD or branch, or the
 *    number of changed files: a `REPOSITORY_MOVED` warning and a line of the report);
 * 2. validate it against the log: the state it restores plus the events after
 *    it must equal the state the whole log gives;
 * 3. replay what came after it;
 * 4. assess what was completed;
 * 5. plan what comes next: failed tasks are recovered (`recovered`, to resume),
 *    the open tasks and the budget left are listed;
 * 6. notify: the report, recorded and returned.
 *
 * The `full_replay` strategy ignores checkpoints and replays the whole log. A
 * recovery interrupted by a crash (the session still `recovering`) is finished
 * under its own id when recover runs again.
 */
export async function recoverSession(runner: CommandRunner, options: RecoverOptions = {}): Promise<RecoveryReport> {
  const { context, sessionId } = runner;
  const { store } = context;
  const strategy = options.strategy ?? context.settings.recoveryStrategy;
  if (!(RECOVERY_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new InvalidArgumentError(`Recovery strategy ${JSON.stringify(strategy)} is not one of ${RECOVERY_STRATEGIES.join(', ')}.`);
  }
  const skipped: string[] = [];
  const onWarning = (warning: LoadWarning) => {
    skipped.push(warning.message);
    context.onWarning({ ...warning, sessionId });
  };
  const fromCheckpoint = await loadSessionView(store, sessionId, {
    ...(strategy === 'full_replay' ? {} : { checkpoints: context.checkpoints }),
    onWarning,
  });
  const full = await loadSessionView(store, sessionId);
  if (fromCheckpoint === undefined || full === undefined) throw new UnknownSessionError(sessionId);
  const agent = options.agent ?? full.view.session.agent;
  // The checkpoint plus the events after it must give what the whole log gives.
  const agrees = stateChecksum(sessionViewToJson(fromCheckpoint.view)) === stateChecksum(sessionViewToJson(full.view));
  // A recovery interrupted by a crash is finished, not started again (the session is still `recovering`).
  const interrupted = full.view.session.status === 'recovering' ? full.view.session.recoveryId : undefined;
  const recoveryId = interrupted ?? `recovery-${context.newId()}`;
  const checkpoint = fromCheckpoint.checkpoint;
  // A checkpoint taken before a repair may hold what the log lost since: the versions it covers that hold an EventLost line now.
  const lostBefore = !agrees && checkpoint !== undefined ? await lostVersions(store, sessionId, checkpoint.version) : [];
  const covers =
    lostBefore.length === 0
      ? ''
      : ` It covers ${lostBefore.length === 1 ? 'version' : 'versions'} ${lostBefore.join(', ')}, lost to damage and marked by a repair (EventLost): ` +
        'the checkpoint still holds what the log lost there (its document keeps it).';

  return runner.serialise(async () => {
    // Every handle of the session sees the state recovery works from (and catches up if the log moved since).
    runner.adopt(agrees ? fromCheckpoint.view : full.view);
    await runner.catchUpNow();
    const step = (name: 'restore' | 'validate' | 'replay' | 'assess' | 'plan' | 'notify', detail: string) =>
      runner.executeNow({ type: 'CompleteRecoveryStep', recoveryId, step: name, detail }, agent);

    if (interrupted === undefined) {
      await runner.executeNow(
        checkpoint === undefined
          ? { type: 'StartRecovery', recoveryId, strategy }
          : { type: 'StartRecovery', recoveryId, strategy, checkpointId: checkpoint.checkpointId },
        agent,
      );
    }
    // The repository the session works in, against what the checkpoint recorded (one git call; no git is no error).
    let git: RecoveryReport['git'];
    if (checkpoint !== undefined) {
      const atCheckpoint = checkpoint.git ?? undefined;
      const now = atCheckpoint === undefined && context.checkpoints.workingFolder === undefined ? undefined : await runner.gitStateNow();
      const comparison = compareGitStates(atCheckpoint, now);
      if (comparison.message !== undefined) git = { ...comparison, atCheckpoint: atCheckpoint ?? null, now: now ?? null };
      if (comparison.moved || comparison.workingTreeChanged) {
        context.onWarning({ code: 'REPOSITORY_MOVED', message: `Session ${sessionId}: ${comparison.message}.`, sessionId });
      }
    }
    await step(
      'restore',
      (checkpoint === undefined
        ? `no valid checkpoint${skipped.length > 0 ? ` (${skipped.length} skipped)` : ''}: starting from the first event`
        : `restored checkpoint ${checkpoint.checkpointId} (${checkpoint.reason}) at version ${checkpoint.version}` +
          (skipped.length > 0 ? `; skipped ${skipped.length} invalid` : '')) + (git?.message === undefined ? '' : `; ${git.message}`),
    );
    if (!agrees) {
      context.onWarning({
        code: 'CHECKPOINT_DISAGREES',
        message: `Checkpoint ${checkpoint?.checkpointId ?? '(none)'} plus the events after it does not give the state the whole log gives; using the whole log.${covers}`,
        sessionId,
      });
    }
    await step(
      'validate',
      checkpoint === undefined
        ? 'nothing to validate: the log alone was used'
        : agrees
          ? `checkpoint ${checkpoint.checkpointId} matches its checksum, the log records it, and with the events after it gives the state the whole log gives`
          : `checkpoint ${checkpoint.checkpointId} disagrees with the log; the whole log was used instead` +
            (lostBefore.length === 0 ? '' : ` (it covers lost version${lostBefore.length === 1 ? '' : 's'} ${lostBefore.join(', ')}, marked by a repair; the checkpoint still holds what the log lost)`),
    );
    await step('replay', `replayed ${fromCheckpoint.eventsFolded} events${checkpoint ? ` after version ${checkpoint.version}` : ''}`);

    const view: SessionView = runner.view;
    const tasks = tasksInOrder(view);
    const completed = tasks.filter((t) => t.state === 'completed').map((t) => t.taskId);
    const failed = tasks.filter((t) => t.state === 'failed').map((t) => t.taskId);
    await step(
      'assess',
      `${completed.length} of ${tasks.length} tasks completed${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}`,
    );

    for (const taskId of failed) {
      await runner.executeNow({ type: 'SendTaskEvent', taskId, event: 'RECOVER', reason: `recovery ${recoveryId}` }, agent);
    }
    const after = runner.view;
    const open = tasksInOrder(after).filter((t) => t.state !== 'completed');
    const window = windowOf(after.session.model, context.settings.budget);
    const tokensLeft = window === undefined ? undefined : Math.max(0, window - after.tokens.contextTokens);
    const plan =
      (open.length === 0 ? 'no open tasks' : `next: ${open.map((t) => `${t.taskId} (${t.state})`).join(', ')}`) +
      (failed.length > 0 ? `; recovered ${failed.join(', ')}: RESUME them to continue` : '') +
      (tokensLeft === undefined ? '' : `; ${groupDigits(tokensLeft)} tokens left in the window`);
    await step('plan', plan);

    const text = [
      `Recovered session ${sessionId} (${strategy}).`,
      checkpoint === undefined
        ? 'No valid checkpoint: the whole log was replayed.'
        : `Restored checkpoint ${checkpoint.checkpointId} at version ${checkpoint.version} and replayed ${fromCheckpoint.eventsFolded} events after it.`,
      ...skipped.map((message) => `Warning: ${message}`),
      ...(covers === '' ? [] : [`Warning: checkpoint ${checkpoint!.checkpointId} disagrees with the log; the whole log was used.${covers}`]),
      ...(git?.message === undefined ? [] : [`Git: ${git.message}.`]),
      `Completed: ${completed.length > 0 ? completed.join(', ') : 'none'}.`,
      `Open: ${open.length > 0 ? open.map((t) => `${t.taskId} (${t.state})`).join(', ') : 'none'}.`,
      tokensLeft === undefined ? 'Budget: unknown window.' : `Budget: ${groupDigits(tokensLeft)} tokens left.`,
    ].join('\n');
    await step('notify', `report of ${text.split('\n').length} lines`);
    await runner.executeNow(
      { type: 'CompleteRecovery', recoveryId, summary: text, openTasks: open.map((t) => t.taskId) },
      agent,
    );
    return {
      recoveryId,
      sessionId,
      strategy,
      checkpointId: checkpoint?.checkpointId,
      skipped,
      eventsReplayed: fromCheckpoint.eventsFolded,
      completedTasks: completed,
      recoveredTasks: failed,
      openTasks: open.map((t) => t.taskId),
      tokensLeft,
      git,
      report: text,
    } satisfies RecoveryReport;
  });
}

/** The versions of a session up to `toVersion` that hold an `EventLost` line (a repair's mark of an event lost to damage). */
async function lostVersions(store: EventStore, sessionId: string, toVersion: number): Promise<number[]> {
  const lost: number[] = [];
  for await (const event of store.readStream(sessionStream(sessionId), { toVersion })) {
    if (event.type === 'EventLost') lost.push(event.version);
  }
  return lost;
}
