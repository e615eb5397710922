import { TASK_EVENT_TYPES, type TaskEventType } from '../../../machines/taskLifecycleNames.js';
import { InvalidArgumentError } from '../../errors.js';
import { EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { printWrite } from '../output.js';
import { sessionOf, withEngine } from '../stateFolder.js';

/** Options of `moai-session task add`. */
export interface TaskAddCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  taskId: string;
  title: string;
  phase?: string;
  assignee?: string;
  /** The agent adding it; recorded in the event. */
  agent?: string;
}

/** `moai-session task add <sessionId> <taskId> --title T`: add a task, in `pending`. */
export async function taskAddCommand(options: TaskAddCommandOptions, io: CliIo): Promise<number> {
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const session = await run.engine.openSession(sessionId);
      const task = await session.addTask(
        {
          taskId: options.taskId,
          title: options.title,
          ...(options.phase === undefined ? {} : { phase: options.phase }),
          ...(options.assignee === undefined ? {} : { assignee: options.assignee }),
        },
        options.agent === undefined ? {} : { agent: options.agent },
      );
      printWrite(
        options,
        io,
        run,
        `Added task ${task.taskId} to session ${sessionId}: ${task.title}` +
          `${task.phase === undefined ? '' : ` [${task.phase}]`}${task.assignee === undefined ? '' : ` for ${task.assignee}`} (${task.state}).`,
        { sessionId: sessionId, version: session.state.version, task },
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}

/** Options of `moai-session task send`. */
export interface TaskSendCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  taskId: string;
  /** The lifecycle event, as typed (any case). */
  event: string;
  reason?: string;
  agent?: string;
}

/** A task lifecycle event typed on the command line, in any case, or a sentence naming the events there are. */
export function parseTaskEvent(typed: string): TaskEventType {
  const event = typed.trim().toUpperCase();
  if (!(TASK_EVENT_TYPES as readonly string[]).includes(event)) {
    throw new InvalidArgumentError(
      `${JSON.stringify(typed)} is not a task lifecycle event; the events are ${TASK_EVENT_TYPES.join(', ')}.`,
    );
  }
  return event as TaskEventType;
}

/**
 * `moai-session task send <sessionId> <taskId> <EVENT>`: move a task through
 * its lifecycle. An event the machine does not accept in the task's state
 * exits 1 naming the task, its state and the events it accepts.
 */
export async function taskSendCommand(options: TaskSendCommandOptions, io: CliIo): Promise<number> {
  const event = parseTaskEvent(options.event);
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const session = await run.engine.openSession(sessionId);
      const from = session.task(options.taskId)?.state;
      const task = await session.sendTask(options.taskId, event, {
        ...(options.reason === undefined ? {} : { reason: options.reason }),
        ...(options.agent === undefined ? {} : { agent: options.agent }),
      });
      printWrite(
        options,
        io,
        run,
        `Task ${task.taskId} of session ${sessionId}: ${from ?? '?'} -${event}-> ${task.state}` +
          `${options.reason === undefined ? '' : ` (${options.reason})`}.`,
        { sessionId: sessionId, version: session.state.version, task },
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}
