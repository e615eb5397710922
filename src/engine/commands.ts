import type { TokenUsage } from '../budget/usage.js';
import type { TaskEventType, TaskState } from '../../machines/taskLifecycle.js';
import type { ContextKind, ContextTier } from '../projections/contextItems.js';
import type { GitState } from '../checkpoints/gitState.js';

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
  /** What makes this resume one (a transcript offset): a resume with the session's last key is no new one and records nothing. */
  key?: string;
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
  /** The API message id; with `requestId` it identifies the call. */
  messageId?: string;
  /** The subagent that made a sidechain call. */
  agentId?: string;
  /** When the call was made, when that is not now (ISO-8601). */
  at?: string;
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
  /** The context before, as reported (Claude Code's `preTokens`); default: the context in use. */
  tokensBefore?: number;
  /** The compaction's id outside (a `compact_boundary` uuid); one already recorded records nothing. */
  compactionId?: string;
  /** False when `tokensAfter` is a placeholder (0) for a context nobody reported. */
  tokensAfterKnown?: boolean;
  /** When it happened, when that is not now (ISO-8601). */
  at?: string;
  /** Temporary context items to keep (ids or tags); every other temporary item is dropped. */
  keepTemporary?: readonly string[];
  /** The id of the supporting item the summary becomes, when no item is tagged `compaction-summary` yet. */
  summaryItemId?: string;
}

/** Take a checkpoint of the session as it is now. */
export interface TakeCheckpoint {
  type: 'TakeCheckpoint';
  checkpointId: string;
  reason: string;
  /** The working folder's git state, read before deciding (decide does no I/O). */
  git?: GitState;
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
  /**
   * A package from outside the engine: refused unless `fromAgent` works the
   * session now and no other handoff is pending (see `packageSenderRefusal`).
   * Checked as the request is decided, so a session another process moved on meanwhile is judged as it is.
   */
  fromOutside?: boolean;
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

/**
 * Record a context item. A tag that a current item already has names that
 * item: it is updated instead (and nothing is recorded when nothing changes).
 */
export interface RecordContextItem {
  type: 'RecordContextItem';
  itemId: string;
  tier: ContextTier;
  kind?: ContextKind;
  tag?: string;
  /** Exactly one of `text` and `value`. */
  text?: string;
  value?: unknown;
  tokens?: number;
  source?: string;
}

/** Change a context item (named by id or tag): its tier, kind, content or size. */
export interface UpdateContextItem {
  type: 'UpdateContextItem';
  item: string;
  tier?: ContextTier;
  kind?: ContextKind;
  text?: string;
  value?: unknown;
  tokens?: number;
  reason?: string;
}

/** Drop a context item, named by id or tag. */
export interface DropContextItem {
  type: 'DropContextItem';
  item: string;
  reason?: string;
}

/**
 * Bring a task to a lifecycle state along the legal path the task machine
 * allows (`pending` to `completed` is `START` then `COMPLETE`), adding it first
 * when the session does not have it. A task already there (for `in_progress`:
 * in any working state) or with no legal path there is left as it is.
 */
export interface MoveTask {
  type: 'MoveTask';
  taskId: string;
  /**
   * The state to bring the task to, or `deleted`: the task will not be done
   * and leaves the session's tasks (`TaskDeleted`, no failure, nothing to
   * recover); a task the session does not have, or a completed one, is left
   * as it is.
   */
  to: TaskState | 'deleted';
  /** The title of a task that must be added first (default: its id). */
  title?: string;
  assignee?: string;
  reason?: string;
  /**
   * The move is one of a whole list of the tasks whose ids begin with this
   * prefix (a `TodoWrite` list: `todo-`): a task with that prefix, not
   * completed, that no move of the same command names, is no longer in the
   * list and is deleted (`TaskDeleted`).
   */
  list?: string;
  /** The tool call that caused the move, recorded on each event; one already recorded moves nothing. */
  toolUseId?: string;
}

/**
 * Several {@link MoveTask}s caused by one tool call (a `TodoWrite` list), in
 * order; a tool call already recorded moves nothing.
 */
export interface MoveTasks {
  type: 'MoveTasks';
  moves: readonly Omit<MoveTask, 'type' | 'toolUseId'>[];
  toolUseId?: string;
  /** The moves are the whole list of the tasks with this prefix, an empty list too (see {@link MoveTask.list}). */
  list?: string;
}

/** Record a failed tool call against a task (default: the task in progress last), without failing it. */
export interface RecordToolFailure {
  type: 'RecordToolFailure';
  tool: string;
  error: string;
  toolUseId?: string;
  taskId?: string;
  interrupted?: boolean;
}

/** Record where a transcript was read to (see `TranscriptRead`). */
export interface RecordTranscriptRead {
  type: 'RecordTranscriptRead';
  file: string;
  path: string;
  offset: number;
  line: number;
  tailSha256?: string;
  checkpoint: Record<string, unknown>;
  open: Record<string, unknown>[];
  recentKeys: string[];
}

/** Record another id the session is known by (a Claude Code session id); one it already has records nothing. */
export interface AddSessionAlias {
  type: 'AddSessionAlias';
  alias: string;
  source: string;
}

/**
 * Several commands decided one after the other, each against the view the
 * ones before it leave, and appended together: all of them or none. With
 * `skipRefused`, a command the session refuses is left out and the others go on.
 * A `StartSession` may come first (a session started with its first commands,
 * in one append); no other start, fork or batch may be in one.
 */
export interface RunBatch {
  type: 'RunBatch';
  commands: readonly SessionCommand[];
  skipRefused?: boolean;
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
  | RecordContextItem
  | UpdateContextItem
  | DropContextItem
  | MoveTask
  | MoveTasks
  | RecordToolFailure
  | RecordTranscriptRead
  | AddSessionAlias
  | RunBatch
  | EndSession;
