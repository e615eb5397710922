import type { TaskEventType } from '../../machines/taskLifecycle.js';

/** Start a new session stream. */
export interface StartSession {
  type: 'StartSession';
  sessionId: string;
  agent: string;
  model: string;
  title?: string;
}

/** Note that an agent picked the session up again (after a restart, a crash, a new process). */
export interface ResumeSession {
  type: 'ResumeSession';
  agent: string;
  reason?: string;
}

/** Add a task, in `pending`. */
export interface AddTask {
  type: 'AddTask';
  taskId: string;
  title: string;
  phase?: string;
  assignee?: string;
}

/** Send a lifecycle event to a task; the task machine decides whether it is legal. */
export interface SendTaskEvent {
  type: 'SendTaskEvent';
  taskId: string;
  event: TaskEventType;
  reason?: string;
}

/** Record one API call's token usage, already normalised. */
export interface RecordTokenUsage {
  type: 'RecordTokenUsage';
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  main: boolean;
  requestId?: string;
}

/** End the session. */
export interface EndSession {
  type: 'EndSession';
  reason?: string;
}

/** Every command a session takes. */
export type SessionCommand = StartSession | ResumeSession | AddTask | SendTaskEvent | RecordTokenUsage | EndSession;
