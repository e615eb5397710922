import type { TokenUsage } from '../budget/usage.js';
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
export interface RecordTokenUsage extends TokenUsage {
  type: 'RecordTokenUsage';
  model: string;
  main: boolean;
  requestId?: string;
}

/** End the session. */
export interface EndSession {
  type: 'EndSession';
  reason?: string;
}


/** Start a fork: the first event of a new stream, naming the parent and the version it branches at. */
export interface ForkSession {
  type: 'ForkSession';
  sessionId: string;
  parentSessionId: string;
  parentVersion: number;
  agent: string;
  model: string;
  title?: string;
}

/** Change the model: in-progress tasks pass through `context_switch`, the window changes. */
export interface SwitchModel {
  type: 'SwitchModel';
  model: string;
  reason?: string;
}

/** Record a compaction of the context, done by the embedder's summariser. */
export interface RecordCompaction {
  type: 'RecordCompaction';
  tokensAfter: number;
  trigger: string;
  summary?: string;
}

/** Take a checkpoint of the session as it is now. */
export interface TakeCheckpoint {
  type: 'TakeCheckpoint';
  checkpointId: string;
  reason: string;
}

/** Move a checkpoint to the archive. */
export interface ArchiveCheckpoint {
  type: 'ArchiveCheckpoint';
  checkpointId: string;
  reason: string;
}

/** Offer the session to another agent with a validated handoff package. */
export interface RequestHandoff {
  type: 'RequestHandoff';
  handoffId: string;
  fromAgent: string;
  toAgent: string;
  package: Record<string, unknown>;
}

/** The receiving agent takes the session over. */
export interface AcceptHandoff {
  type: 'AcceptHandoff';
  handoffId: string;
  agent: string;
}

/** The handoff does not happen, and the log says why. */
export interface RejectHandoff {
  type: 'RejectHandoff';
  handoffId: string;
  agent?: string;
  reason: string;
}

/** Begin a recovery. */
export interface StartRecovery {
  type: 'StartRecovery';
  recoveryId: string;
  strategy: string;
  checkpointId?: string;
}

/** One recovery step done. */
export interface CompleteRecoveryStep {
  type: 'CompleteRecoveryStep';
  recoveryId: string;
  step: 'restore' | 'validate' | 'replay' | 'assess' | 'plan' | 'notify';
  detail: string;
}

/** The recovery is over. */
export interface CompleteRecovery {
  type: 'CompleteRecovery';
  recoveryId: string;
  summary: string;
  openTasks: string[];
}

/** Every command a session takes. */
export type SessionCommand =
  | StartSession
  | ForkSession
  | ResumeSession
  | AddTask
  | SendTaskEvent
  | RecordTokenUsage
  | RecordCompaction
  | SwitchModel
  | TakeCheckpoint
  | ArchiveCheckpoint
  | RequestHandoff
  | AcceptHandoff
  | RejectHandoff
  | StartRecovery
  | CompleteRecoveryStep
  | CompleteRecovery
  | EndSession;
