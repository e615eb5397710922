import type { AnyStateMachine } from 'xstate';
import { sessionMachine } from '../../machines/session.js';
import { taskLifecycleMachine, type TaskEventType, type TaskState } from '../../machines/taskLifecycle.js';
import { stateChecksum } from '../checkpoints/checkpointDocument.js';
import type { StoredEvent } from '../events/envelope.js';
import type { SessionEventBody } from '../events/schemas.js';
import { CommandRejectedError, InvalidArgumentError, InvalidTransitionError } from '../errors.js';
import { sessionViewProjection, sessionViewToJson, type SessionView } from '../projections/sessionView.js';
import type { SessionCommand } from './commands.js';
import { MAX_TOKENS_PER_COUNT } from '../budget/usage.js';
import { budgetEvents, type BudgetSettings } from './decideBudget.js';
import { checkId } from '../validation/ids.js';
import { transitionTableFor } from './transitionTable.js';
import { groupDigits } from '../util/groupDigits.js';
import { packageSenderRefusal } from '../handoff/packageSender.js';
import { decideAlias, decideBatch, decideTaskMoves, decideToolFailure, decideTranscriptRead } from './decideIntake.js';
import {
  compactionContextEvents,
  dropContextItem,
  handoffContextEvents,
  recordContextItem,
  updateContextItem,
} from '../context/decideContext.js';

/** What `decide` checks commands against: the task machine and the budget settings. */
export interface DecideContext {
  taskMachine?: AnyStateMachine;
  budget?: BudgetSettings;
}

/** A model id: not blank, at most 200 characters, no line breaks or other control characters (it goes into one-line files). */
function checkModel(model: string, whenBlank: string): void {
  if (model.trim() === '') throw new InvalidArgumentError(whenBlank);
  // eslint-disable-next-line no-control-regex
  if (model.length > 200 || /[\u0000-\u001f\u007f]/.test(model)) {
    throw new InvalidArgumentError(`A model id is at most 200 characters with no line breaks or control characters; got ${JSON.stringify(model)}.`);
  }
}

function checkCount(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${field} must be a whole number of tokens, 0 or more; got ${String(value)}.`);
  }
  if (value > MAX_TOKENS_PER_COUNT) {
    throw new InvalidArgumentError(
      `${field} is ${groupDigits(value)} tokens, more than any API call reads or writes ` +
        `(at most ${groupDigits(MAX_TOKENS_PER_COUNT)} a count): nothing was recorded.`,
    );
  }
}

/** Refuse unless the session machine accepts `type` in the session's state (`what` says what was asked, for the message). */
export function sessionStep(view: SessionView, type: string, what: string): void {
  const status = view.session.status;
  if (transitionTableFor(sessionMachine).next(status, type) === undefined) {
    const why =
      status === 'handing_off'
        ? ` while handoff ${view.session.pendingHandoff?.handoffId ?? ''} waits for ${view.session.pendingHandoff?.toAgent ?? 'its receiver'}`
        : status === 'recovering'
          ? ` while recovery ${view.session.recoveryId ?? ''} runs`
          : '';
    throw new CommandRejectedError(`Session ${view.session.sessionId} is ${status} and cannot ${what}${why}.`);
  }
}

/** A task lifecycle event for one task, refused with the machine's reasons when illegal. */
export function taskTransition(
  view: SessionView,
  taskId: string,
  event: TaskEventType,
  reason: string | undefined,
  taskMachine: AnyStateMachine = taskLifecycleMachine,
  from?: TaskState,
): SessionEventBody {
  const sessionId = view.session.sessionId;
  const task = view.tasks.byId.get(taskId);
  if (task === undefined) {
    // A task the session has was checked when it was added; an unknown id is checked before it is echoed.
    checkId('task', taskId);
    const known = view.tasks.order.toArray();
    throw new CommandRejectedError(
      `Session ${sessionId} has no task ${JSON.stringify(taskId)}` +
        (known.length > 0 ? `; its tasks are ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''}.` : '; add it first.'),
    );
  }
  // `from`: the state an earlier step of the same command leaves the task in.
  const state = from ?? task.state;
  const table = transitionTableFor(taskMachine);
  const to = table.next(state, event);
  if (to === undefined) throw new InvalidTransitionError(sessionId, task.taskId, state, event, table.accepted(state));
  const body: SessionEventBody & { type: 'TaskTransitioned' } = {
    type: 'TaskTransitioned',
    data: { taskId: task.taskId, event, from: state, to: to as TaskState },
  };
  if (reason !== undefined) body.data.reason = reason;
  return body;
}

/** The tasks in one of `states`, in the order they were added. */
export function tasksIn(view: SessionView, states: readonly TaskState[]): string[] {
  return view.tasks.order.toArray().filter((id) => states.includes(view.tasks.byId.get(id)!.state));
}

/** The start of a batch as the stream's first event, to fold into the view the rest is decided on. */
const startedEvent = (view: SessionView, body: SessionEventBody): StoredEvent =>
  ({ type: body.type, data: body.data, id: '', stream: '', version: view.version + 1, position: 0, schemaVersion: 1, meta: { at: '' } }) as StoredEvent;

/**
 * Decide which events a command produces against a session's current view
 * (undefined, or a view at version 0, for a session not started yet), or
 * refuse it with an error that says why. Pure: no clock, no ids, no I/O; the
 * engine wraps the bodies into envelopes and appends them.
 */
export function decide(view: SessionView | undefined, command: SessionCommand, context: DecideContext = {}): SessionEventBody[] {
  const exists = view !== undefined && view.version > 0;
  if (command.type === 'StartSession' || command.type === 'ForkSession') {
    checkId('session', command.sessionId);
    checkId('agent', command.agent);
    if (command.type === 'ForkSession') checkId('session', command.parentSessionId);
    if (exists) {
      throw new CommandRejectedError(
        `Session ${command.sessionId} already exists (version ${view.version}); resume it instead of starting it again.`,
      );
    }
    checkModel(command.model, 'A session needs the model it runs on.');
    if (command.type === 'StartSession') {
      const body: SessionEventBody & { type: 'SessionStarted' } = {
        type: 'SessionStarted',
        data: { sessionId: command.sessionId, agent: command.agent, model: command.model },
      };
      if (command.title !== undefined) body.data.title = command.title;
      return [body];
    }
    const { type: _, ...data } = command;
    return [{ type: 'SessionForked', data }];
  }
  // A batch that starts the session: the start (never skipped), then the rest decided on the view it leaves.
  if (command.type === 'RunBatch' && command.commands[0]?.type === 'StartSession') {
    const started = decide(view, command.commands[0], context);
    let scratch = view ?? sessionViewProjection.initialState();
    for (const body of started) scratch = sessionViewProjection.evolve(scratch, startedEvent(scratch, body));
    const rest = { ...command, commands: command.commands.slice(1) };
    return [...started, ...decideBatch(scratch, rest, (inner, next) => decide(inner, next, context))];
  }
  if (!exists) throw new CommandRejectedError('This session has no events yet: start it before sending it commands.');
  const sessionId = view.session.sessionId;
  // Archiving old checkpoints is housekeeping: it may follow the end of a session.
  if (view.session.status === 'ended' && command.type !== 'ArchiveCheckpoint') {
    throw new CommandRejectedError(`Session ${sessionId} has ended; fork it or start a new session to keep working.`);
  }
  const taskMachine = context.taskMachine ?? taskLifecycleMachine;

  switch (command.type) {
    case 'ResumeSession': {
      checkId('agent', command.agent);
      // While a handoff waits, the session is its sender's until the receiver takes it.
      const pending = view.session.pendingHandoff;
      if (view.session.status === 'handing_off' && pending !== undefined && command.agent !== view.session.agent) {
        throw new CommandRejectedError(
          `Session ${sessionId} is handing_off: handoff ${pending.handoffId} waits for ${pending.toAgent}, so ${command.agent} cannot take it over; ` +
            `${pending.toAgent} accepts the handoff, or it is rejected first (${view.session.agent} may still resume it).`,
        );
      }
      // A keyed resume seen last already (the same hook payload again) is no new resume.
      if (command.key !== undefined && command.key === view.ingest.lastResumeKey) return [];
      const body: SessionEventBody = { type: 'SessionResumed', data: { agent: command.agent } };
      if (command.reason !== undefined) body.data.reason = command.reason;
      if (command.key !== undefined) body.data.key = command.key;
      return [body];
    }
    case 'AddTask': {
      checkId('task', command.taskId);
      if (view.tasks.byId.has(command.taskId)) {
        throw new CommandRejectedError(`Session ${sessionId} already has a task ${command.taskId}; pick another id.`);
      }
      if (command.assignee !== undefined) checkId('agent', command.assignee);
      if (command.title.trim() === '') throw new InvalidArgumentError(`Task ${command.taskId} needs a title.`);
      const body: SessionEventBody & { type: 'TaskAdded' } = {
        type: 'TaskAdded',
        data: { taskId: command.taskId, title: command.title },
      };
      if (command.phase !== undefined) body.data.phase = command.phase;
      if (command.assignee !== undefined) body.data.assignee = command.assignee;
      return [body];
    }
    case 'SendTaskEvent':
      return [taskTransition(view, command.taskId, command.event, command.reason, taskMachine)];
    case 'RecordTokenUsage': {
      checkCount('inputTokens', command.inputTokens);
      checkCount('outputTokens', command.outputTokens);
      checkCount('cacheCreationInputTokens', command.cacheCreationInputTokens);
      checkCount('cacheReadInputTokens', command.cacheReadInputTokens);
      checkModel(command.model, 'Token usage needs the model that spent it.');
      const total = command.inputTokens + command.outputTokens + command.cacheCreationInputTokens + command.cacheReadInputTokens;
      // Every sum the engine keeps stays exact: refuse the call that would pass what a number counts exactly.
      if (!Number.isSafeInteger(view.tokens.spend.totalTokens + total)) {
        throw new InvalidArgumentError(
          `Session ${sessionId} has spent ${groupDigits(view.tokens.spend.totalTokens)} tokens; ` +
            `${groupDigits(total)} more cannot be counted exactly. Start a new session (or fork this one) to go on.`,
        );
      }
      const { type: _, ...data } = command;
      const recorded: SessionEventBody = { type: 'TokenUsageRecorded', data };
      if (!command.main) return [recorded];
      const contextTokens = command.inputTokens + command.cacheCreationInputTokens + command.cacheReadInputTokens;
      return [recorded, ...budgetEvents(view, view.session.model, contextTokens, context.budget)];
    }
    case 'RecordCompaction': {
      checkCount('tokensAfter', command.tokensAfter);
      // A compaction recorded already (the same transcript boundary read again) records nothing.
      if (command.compactionId !== undefined && view.ingest.recentCompactions.includes(command.compactionId)) return [];
      if (command.tokensBefore !== undefined) checkCount('tokensBefore', command.tokensBefore);
      const tokensBefore = command.tokensBefore ?? view.tokens.contextTokens;
      if (command.tokensAfter > tokensBefore) {
        throw new InvalidArgumentError(
          `A compaction leaves less context than it found: session ${sessionId} has ${tokensBefore} tokens in use, ` +
            `so it cannot be compacted to ${command.tokensAfter}.`,
        );
      }
      const body: SessionEventBody & { type: 'ContextCompacted' } = {
        type: 'ContextCompacted',
        data: { tokensBefore, trigger: command.trigger },
      };
      // A size after that nobody reported is left out (not a made-up 0), and no threshold moves on it: the next call's usage decides.
      const afterKnown = command.tokensAfterKnown !== false;
      if (afterKnown) body.data.tokensAfter = command.tokensAfter;
      if (command.summary !== undefined) body.data.summary = command.summary;
      if (command.compactionId !== undefined) body.data.compactionId = command.compactionId;
      if (command.tokensAfterKnown !== undefined) body.data.tokensAfterKnown = command.tokensAfterKnown;
      if (command.at !== undefined) body.data.at = command.at;
      // Critical and supporting items are kept; temporary ones go; the summary becomes a supporting item.
      const items = compactionContextEvents(view.context, command.trigger, command.summary, command.summaryItemId, command.keepTemporary);
      return [body, ...items, ...(afterKnown ? budgetEvents(view, view.session.model, command.tokensAfter, context.budget) : [])];
    }
    case 'SwitchModel': {
      checkModel(command.model, 'Name the model to switch to.');
      if (command.model === view.session.model) {
        throw new CommandRejectedError(`Session ${sessionId} already runs on ${command.model}.`);
      }
      // Working tasks pass through context_switch while the model changes under
      // them, each step as the task machine takes it. (Back in progress while
      // the new model's window is still at warning, the policies send them on.)
      const working = tasksIn(view, ['in_progress', 'token_warning']);
      const reason = `model ${view.session.model} -> ${command.model}`;
      const switched: SessionEventBody & { type: 'ModelSwitched' } = {
        type: 'ModelSwitched',
        data: { from: view.session.model, to: command.model },
      };
      if (command.reason !== undefined) switched.data.reason = command.reason;
      const into = working.map((id) => taskTransition(view, id, 'SWITCH_CONTEXT', reason, taskMachine));
      const outOf = into.map((step) => {
        const { taskId, to } = (step as SessionEventBody & { type: 'TaskTransitioned' }).data;
        return taskTransition(view, taskId, 'SWITCH_DONE', reason, taskMachine, to);
      });
      return [...into, switched, ...budgetEvents(view, command.model, view.tokens.contextTokens, context.budget), ...outOf];
    }
    case 'TakeCheckpoint': {
      checkId('checkpoint', command.checkpointId);
      if (view.checkpoints.all.toArray().some((c) => c.checkpointId === command.checkpointId)) {
        throw new CommandRejectedError(`Session ${sessionId} already has a checkpoint ${command.checkpointId}.`);
      }
      const created: SessionEventBody & { type: 'CheckpointCreated' } = {
        type: 'CheckpointCreated',
        data: {
          checkpointId: command.checkpointId,
          reason: command.reason,
          position: view.position,
          version: view.version,
          checksum: stateChecksum(sessionViewToJson(view)),
        },
      };
      if (command.git !== undefined) created.data.git = { ...command.git };
      return [created];
    }
    case 'ArchiveCheckpoint': {
      checkId('checkpoint', command.checkpointId);
      if (!view.checkpoints.all.toArray().some((c) => c.checkpointId === command.checkpointId)) {
        throw new CommandRejectedError(`Session ${sessionId} has no checkpoint ${command.checkpointId}.`);
      }
      if (view.checkpoints.archived.has(command.checkpointId)) {
        throw new CommandRejectedError(`Checkpoint ${command.checkpointId} is already archived.`);
      }
      return [{ type: 'CheckpointArchived', data: { checkpointId: command.checkpointId, reason: command.reason } }];
    }
    case 'RequestHandoff': {
      checkId('handoff', command.handoffId);
      if (command.fromOutside === true && view.session.handoffs[command.handoffId] === undefined) {
        // Before the session machine's own refusal, which would not say who holds the session
        // (a handoff id the session has already is refused below as such).
        const parties = { handoff_id: command.handoffId, from_agent: command.fromAgent, to_agent: command.toAgent };
        const refusal = packageSenderRefusal(view.session, parties);
        if (refusal !== undefined) throw new CommandRejectedError(refusal);
      }
      sessionStep(view, 'REQUEST_HANDOFF', 'hand off');
      if (view.session.handoffs[command.handoffId] !== undefined) {
        throw new CommandRejectedError(`Session ${sessionId} already has a handoff ${command.handoffId}.`);
      }
      const { type: _, fromOutside: __, ...data } = command;
      return [{ type: 'HandoffRequested', data }];
    }
    case 'AcceptHandoff': {
      checkId('handoff', command.handoffId);
      checkId('agent', command.agent);
      const pending = view.session.pendingHandoff;
      const record = view.session.handoffs[command.handoffId];
      if (record === undefined) throw new CommandRejectedError(`Session ${sessionId} has no handoff ${command.handoffId}.`);
      if (pending?.handoffId !== command.handoffId) {
        throw new CommandRejectedError(
          `Handoff ${command.handoffId} of session ${sessionId} was already ${record.status}` +
            `${record.by ? ` by ${record.by}` : ''}; it can be accepted only once.`,
        );
      }
      if (command.agent !== pending.toAgent) {
        throw new CommandRejectedError(
          `Handoff ${command.handoffId} is for ${pending.toAgent}, not ${command.agent}.`,
        );
      }
      sessionStep(view, 'ACCEPT_HANDOFF', 'accept a handoff');
      // The sender's temporary context does not pass to the receiver.
      return [
        { type: 'HandoffAccepted', data: { handoffId: command.handoffId, agent: command.agent } },
        ...handoffContextEvents(view.context, command.handoffId),
      ];
    }
    case 'RejectHandoff': {
      checkId('handoff', command.handoffId);
      if (command.agent !== undefined) checkId('agent', command.agent);
      if (view.session.pendingHandoff?.handoffId !== command.handoffId) {
        throw new CommandRejectedError(`Session ${sessionId} has no pending handoff ${command.handoffId}.`);
      }
      sessionStep(view, 'REJECT_HANDOFF', 'reject a handoff');
      const body: SessionEventBody & { type: 'HandoffRejected' } = {
        type: 'HandoffRejected',
        data: { handoffId: command.handoffId, reason: command.reason },
      };
      if (command.agent !== undefined) body.data.agent = command.agent;
      return [body];
    }
    case 'StartRecovery': {
      checkId('recovery', command.recoveryId);
      sessionStep(view, 'START_RECOVERY', 'start a recovery');
      const body: SessionEventBody & { type: 'RecoveryStarted' } = {
        type: 'RecoveryStarted',
        data: { recoveryId: command.recoveryId, strategy: command.strategy },
      };
      if (command.checkpointId !== undefined) body.data.checkpointId = command.checkpointId;
      return [body];
    }
    case 'CompleteRecoveryStep':
    case 'CompleteRecovery': {
      if (view.session.status !== 'recovering' || view.session.recoveryId !== command.recoveryId) {
        throw new CommandRejectedError(`Session ${sessionId} is not running recovery ${command.recoveryId}.`);
      }
      if (command.type === 'CompleteRecoveryStep') {
        const { type: _, ...data } = command;
        return [{ type: 'RecoveryStepCompleted', data }];
      }
      const { type: _, ...data } = command;
      return [{ type: 'RecoveryCompleted', data }];
    }
    case 'RecordContextItem': {
      const { type: _, ...input } = command;
      return recordContextItem(view.context, sessionId, input);
    }
    case 'UpdateContextItem': {
      const { type: _, ...input } = command;
      return updateContextItem(view.context, sessionId, input);
    }
    case 'DropContextItem':
      return dropContextItem(view.context, sessionId, command.item, command.reason);
    case 'MoveTask': {
      const { type: _, toolUseId, ...move } = command;
      return decideTaskMoves(view, [move], toolUseId, taskMachine);
    }
    case 'MoveTasks':
      return decideTaskMoves(view, command.moves, command.toolUseId, taskMachine, command.list);
    case 'RecordToolFailure':
      return decideToolFailure(view, command);
    case 'RecordTranscriptRead':
      return decideTranscriptRead(view, command);
    case 'AddSessionAlias':
      return decideAlias(view, command);
    case 'RunBatch':
      return decideBatch(view, command, (scratch, inner) => decide(scratch, inner, context));
    case 'EndSession': {
      sessionStep(view, 'END', 'end');
      const body: SessionEventBody = { type: 'SessionEnded', data: {} };
      if (command.reason !== undefined) body.data.reason = command.reason;
      return [body];
    }
  }
}
