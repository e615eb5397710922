// What the transcript scanner yields: one record per fact that matters, in
// file order, each with the line it came from and the byte offset after it.

/** The four token counts of one API call (Anthropic `usage`), with missing counts as 0. */
export interface TokenCounts {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
}

/** Where a record came from: its 1-based line and the byte offset just after that line (a place to resume). */
export interface RecordPosition {
  line: number;
  endOffset: number;
}

/** Who in the session a record belongs to. */
export interface RecordOrigin {
  /** True for subagent records (`isSidechain`). */
  isSidechain: boolean;
  /**
   * The subagent: the record's `agentId` (2.x), else the agent file's name
   * (`agent-<id>.jsonl`), else, for 1.0.x inline sidechains, the uuid of the
   * thread's first record. Undefined on the main chain.
   */
  agentId?: string;
  timestamp?: string;
  uuid?: string;
}

/** One assistant line with `message.usage`: one line of an API call (a split reply repeats its id on several lines). */
export interface ApiCallRecord extends RecordPosition, RecordOrigin {
  kind: 'api-call';
  /** `message.id`; with `requestId` it identifies the call. */
  messageId?: string;
  requestId?: string;
  model?: string;
  usage: TokenCounts;
  sessionId?: string;
  /** `message.stop_reason` when the line sets it: the reply's last line (nothing more of it can come). */
  stopReason?: string;
}

/** A `system` record Claude Code writes once a turn is over (`turn_duration`, `stop_hook_summary`): the replies before it are complete. */
export interface TurnEndRecord extends RecordPosition, RecordOrigin {
  kind: 'turn-end';
}

/** A `system`/`compact_boundary` record: the context was compacted. */
export interface CompactionRecord extends RecordPosition, RecordOrigin {
  kind: 'compaction';
  /** `"auto"` or `"manual"` as written; other values are kept as data. */
  trigger?: string;
  preTokens?: number;
  postTokens?: number;
  logicalParentUuid?: string;
}

/** The `isCompactSummary` user record after a boundary: the summary that replaced the conversation. */
export interface CompactSummaryRecord extends RecordPosition, RecordOrigin {
  kind: 'compact-summary';
  text: string;
  /** The boundary it follows (its `parentUuid`), when it names one. */
  parentUuid?: string;
}

/** One item of a `TodoWrite` list. */
export interface TodoItem {
  content: string;
  status: string;
  activeForm?: string;
}

/** A `TodoWrite` tool call: the whole list, every time. */
export interface TodoWriteRecord extends RecordPosition, RecordOrigin {
  kind: 'todo-write';
  toolUseId: string;
  todos: TodoItem[];
}

/** A `TaskCreate` tool call; the new task's id comes in its result. */
export interface TaskCreateRecord extends RecordPosition, RecordOrigin {
  kind: 'task-create';
  toolUseId: string;
  subject?: string;
  description?: string;
  activeForm?: string;
}

/** A `TaskUpdate` tool call. */
export interface TaskUpdateRecord extends RecordPosition, RecordOrigin {
  kind: 'task-update';
  toolUseId: string;
  taskId?: string;
  status?: string;
  subject?: string;
}

/** The result of a task tool call (`tool_result` block plus the line's `toolUseResult`). */
export interface TaskToolResultRecord extends RecordPosition, RecordOrigin {
  kind: 'task-tool-result';
  toolUseId: string;
  tool: TaskToolName;
  isError: boolean;
  /** TaskCreate: the new task's id; TaskUpdate: the task updated. */
  taskId?: string;
  subject?: string;
  /** TaskUpdate: `statusChange`. */
  statusFrom?: string;
  statusTo?: string;
  /** TodoWrite: the list after the call. */
  newTodos?: TodoItem[];
}

/** The task tools whose calls move tasks. */
export type TaskToolName = 'TodoWrite' | 'TaskCreate' | 'TaskUpdate';

/** A `Task` / `Agent` tool call launching a subagent. */
export interface SubagentLaunchRecord extends RecordPosition, RecordOrigin {
  kind: 'subagent-launch';
  toolUseId: string;
  tool: string;
  description?: string;
  subagentType?: string;
}

/** The result of a `Task` / `Agent` call: the subagent's id and the totals it reported. */
export interface SubagentResultRecord extends RecordPosition, RecordOrigin {
  kind: 'subagent-result';
  toolUseId: string;
  isError: boolean;
  /** The subagent's id, when the result names it (2.x). */
  resultAgentId?: string;
  status?: string;
  totalTokens?: number;
  totalDurationMs?: number;
  totalToolUseCount?: number;
  /** The usage the result reports (its last call's, not the subagent's spend). */
  usage?: TokenCounts;
}

/** A subagent tied to the tool call that launched it: an `agent_progress` record, or (1.0.x) a sidechain thread whose prompt is a Task call's. */
export interface SubagentLinkRecord extends RecordPosition {
  kind: 'subagent-link';
  agentId: string;
  toolUseId: string;
  via: 'agent_progress' | 'prompt';
}

/** The session's identity as the lines state it: emitted first and whenever a field changes (a resume by a newer CLI, a branch switch). */
export interface SessionInfoRecord extends RecordPosition {
  kind: 'session-info';
  sessionId?: string;
  cwd?: string;
  version?: string;
  gitBranch?: string;
  timestamp?: string;
}

/** A 1.0.x `summary` line (a session title) and the uuid of the record it summarises. */
export interface SummaryRecord extends RecordPosition {
  kind: 'summary';
  summary: string;
  leafUuid?: string;
}

/** A line that could not be read; the scan goes on after it. */
export interface SkippedLineRecord extends RecordPosition {
  kind: 'skipped';
  file: string;
  reason: string;
}

/** The last record of every scan: where to resume, and the times the scanned range spans. */
export interface ScanEndRecord extends RecordPosition {
  kind: 'end';
  file: string;
  /** Pass this back as `scanTranscript(file, { from })` to read only what is appended later. */
  checkpoint: TranscriptCheckpoint;
  firstTimestamp?: string;
  lastTimestamp?: string;
  /** `leafUuid`s of this scan's summary records that name a record of this file (a summary whose leaf is elsewhere leaked in from another session). */
  summaryLeavesFound: string[];
  bytesRead: number;
}

/** Everything the scanner yields. */
export type TranscriptRecord =
  | ApiCallRecord
  | CompactionRecord
  | CompactSummaryRecord
  | TodoWriteRecord
  | TaskCreateRecord
  | TaskUpdateRecord
  | TaskToolResultRecord
  | SubagentLaunchRecord
  | SubagentResultRecord
  | SubagentLinkRecord
  | SessionInfoRecord
  | SummaryRecord
  | TurnEndRecord
  | SkippedLineRecord
  | ScanEndRecord;

/** A tool call whose result has not been read yet (a checkpoint carries them, so a result after a resume is still recognised). */
export interface PendingToolUse {
  id: string;
  tool: string;
}

/**
 * Where a scan stopped and what it must remember to go on: plain data
 * (structured-clone and JSON safe), so a hook can store it between runs.
 */
export interface TranscriptCheckpoint {
  /** Byte offset of the first line not yet read (a partial last line is left unread). */
  offset: number;
  /** How many lines lie before `offset`. */
  line: number;
  /** Set when the last line read had no newline yet: one written after it is not a new line. */
  unterminated?: boolean;
  pending: PendingToolUse[];
  session: { sessionId?: string; cwd?: string; version?: string; gitBranch?: string };
  /** 1.0.x inline sidechains: the thread root of recent sidechain records, as [uuid, root] pairs. */
  threads: [string, string][];
  /** 1.0.x: Task calls not yet tied to a sidechain thread, as [toolUseId, prompt] pairs. */
  unlinkedPrompts: [string, string][];
}
