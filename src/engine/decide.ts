import type { AnyStateMachine } from 'xstate';
import { sessionMachine } from '../../machines/session.js';
import { taskLifecycleMachine } from '../../machines/taskLifecycle.js';
import type { SessionEventBody } from '../events/schemas.js';
import { CommandRejectedError, InvalidArgumentError, InvalidTransitionError, UnknownSessionError } from '../errors.js';
import type { SessionView } from '../projections/sessionView.js';
import type { SessionCommand } from './commands.js';
import { transitionTableFor } from './transitionTable.js';

/** The machines `decide` checks commands against. */
export interface DecideContext {
  taskMachine?: AnyStateMachine;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

function checkId(kind: string, value: string): void {
  if (!ID.test(value)) {
    throw new InvalidArgumentError(
      `${kind} ${JSON.stringify(value)} is not valid: use 1 to 200 letters, digits, dots, colons, underscores or dashes, starting with a letter or digit.`,
    );
  }
}

function checkCount(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${field} must be a whole number of tokens, 0 or more; got ${String(value)}.`);
  }
}

/** The session machine's answer to `type` in the view's state, or a refusal. */
function sessionStep(view: SessionView, type: string, what: string): void {
  const table = transitionTableFor(sessionMachine);
  const status = view.session.status;
  if (table.next(status, type) === undefined) {
    throw new CommandRejectedError(
      `Session ${view.session.sessionId} is ${status} and cannot ${what}` +
        (status === 'ended' ? '; it has ended. Fork it or start a new session.' : '.'),
    );
  }
}

/**
 * Decide which events a command produces against a session's current view
 * (undefined, or a view at version 0, for a session not started yet),
 * or refuse it with an error that says why. Pure: no clock, no ids, no I/O;
 * the engine wraps the bodies into envelopes and appends them.
 */
export function decide(view: SessionView | undefined, command: SessionCommand, context: DecideContext = {}): SessionEventBody[] {
  if (command.type === 'StartSession') {
    checkId('Session id', command.sessionId);
    checkId('Agent', command.agent);
    if (view !== undefined && view.version > 0) {
      throw new CommandRejectedError(
        `Session ${command.sessionId} already exists (version ${view.version}); resume it instead of starting it again.`,
      );
    }
    const data: SessionEventBody & { type: 'SessionStarted' } = {
      type: 'SessionStarted',
      data: { sessionId: command.sessionId, agent: command.agent, model: command.model },
    };
    if (command.title !== undefined) data.data.title = command.title;
    return [data];
  }
  if (view === undefined || view.version === 0) throw new UnknownSessionError('(this stream)');
  const sessionId = view.session.sessionId;
  if (view.session.status === 'ended') {
    throw new CommandRejectedError(`Session ${sessionId} has ended; fork it or start a new session to keep working.`);
  }

  switch (command.type) {
    case 'ResumeSession': {
      checkId('Agent', command.agent);
      const body: SessionEventBody = { type: 'SessionResumed', data: { agent: command.agent } };
      if (command.reason !== undefined) body.data.reason = command.reason;
      return [body];
    }
    case 'AddTask': {
      checkId('Task id', command.taskId);
      if (view.tasks.byId.get(command.taskId) !== undefined) {
        throw new CommandRejectedError(`Session ${sessionId} already has a task ${command.taskId}; pick another id.`);
      }
      if (command.title.trim() === '') throw new InvalidArgumentError(`Task ${command.taskId} needs a title.`);
      const body: SessionEventBody & { type: 'TaskAdded' } = {
        type: 'TaskAdded',
        data: { taskId: command.taskId, title: command.title },
      };
      if (command.phase !== undefined) body.data.phase = command.phase;
      if (command.assignee !== undefined) body.data.assignee = command.assignee;
      return [body];
    }
    case 'SendTaskEvent': {
      const task = view.tasks.byId.get(command.taskId);
      if (task === undefined) {
        const known = view.tasks.order.toArray();
        throw new CommandRejectedError(
          `Session ${sessionId} has no task ${JSON.stringify(command.taskId)}` +
            (known.length > 0 ? `; its tasks are ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''}.` : '; add it first.'),
        );
      }
      const table = transitionTableFor(context.taskMachine ?? taskLifecycleMachine);
      const to = table.next(task.state, command.event);
      if (to === undefined) {
        throw new InvalidTransitionError(sessionId, task.taskId, task.state, command.event, table.accepted(task.state));
      }
      const body: SessionEventBody & { type: 'TaskTransitioned' } = {
        type: 'TaskTransitioned',
        data: { taskId: task.taskId, event: command.event, from: task.state, to: to as typeof task.state },
      };
      if (command.reason !== undefined) body.data.reason = command.reason;
      return [body];
    }
    case 'RecordTokenUsage': {
      checkCount('inputTokens', command.inputTokens);
      checkCount('outputTokens', command.outputTokens);
      checkCount('cacheCreationInputTokens', command.cacheCreationInputTokens);
      checkCount('cacheReadInputTokens', command.cacheReadInputTokens);
      if (command.model.trim() === '') throw new InvalidArgumentError('Token usage needs the model that spent it.');
      const { type: _, ...data } = command;
      return [{ type: 'TokenUsageRecorded', data }];
    }
    case 'EndSession': {
      sessionStep(view, 'END', 'end');
      const body: SessionEventBody = { type: 'SessionEnded', data: {} };
      if (command.reason !== undefined) body.data.reason = command.reason;
      return [body];
    }
  }
}
