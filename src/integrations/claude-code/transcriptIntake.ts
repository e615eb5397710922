// What a session learns from reading its Claude Code transcripts: the records
// the scanner yields (API calls, compactions, task and subagent tool calls),
// turned into session commands, each API call once. Shared by the hook (a
// few new lines at a time, from where the session last read) and the import
// (whole files): the same records give the same commands either way.

import { betterCall, callKey } from './transcript/digestTranscript.js';
import type {
  ApiCallRecord,
  CompactionRecord,
  SkippedLineRecord,
  TaskCreateRecord,
  TaskToolResultRecord,
  TaskUpdateRecord,
  TodoWriteRecord,
  TokenCounts,
  TranscriptCheckpoint,
  TranscriptRecord,
} from './transcript/types.js';
import type { SessionCommand } from '../../engine/commands.js';
import type { TaskMove } from '../../engine/decideIntake.js';
import type { SessionView } from '../../projections/sessionView.js';
import type { TranscriptCursor } from '../../projections/ingest.js';
import { subagentMove, subagentStateOfResult, subagentTaskId, taskCreateMove, taskUpdateMove, todoMoves } from './taskTools.js';

/** Which of a session's transcripts a file is. */
export interface IntakeFile {
  /** The key its cursor is kept under: `main`, or `agent:<agentId>` for a subagent's file. */
  key: string;
  path: string;
  role: 'main' | 'subagent';
  /** A subagent file's agent. */
  agentId?: string;
}

/** The cursor key of the main transcript. */
export const MAIN_TRANSCRIPT = 'main';
/** The cursor key of a subagent's transcript. */
export const subagentTranscriptKey = (agentId: string): string => `agent:${agentId}`;

/** How many recorded call keys a file's cursor remembers (later lines are never read again; these catch a call repeated in another file). */
const RECENT_KEYS = 64;
/** A compaction summary is cut to this many characters (the event's bound). */
const SUMMARY_MAX = 10_000;
/** Claude Code's model for the messages it writes itself: no API call. */
const SYNTHETIC_MODEL = '<synthetic>';

/** An API call whose last line may still come. */
interface OpenCall {
  kind: 'call';
  key: string;
  chain: string;
  line: number;
  messageId: string;
  requestId?: string;
  model?: string;
  usage: TokenCounts;
  isSidechain: boolean;
  agentId?: string;
  timestamp?: string;
}

/** A compaction whose summary (the next line) has not been read yet. */
interface OpenCompaction {
  kind: 'compaction';
  line: number;
  uuid?: string;
  trigger?: string;
  preTokens?: number;
  postTokens?: number;
  timestamp?: string;
}

/** A task tool call whose result has not been read yet. */
interface OpenTaskUse {
  kind: 'task-use';
  line: number;
  record: TodoWriteRecord | TaskCreateRecord | TaskUpdateRecord;
}

/** A subagent launch whose result has not been read yet. */
interface OpenLaunch {
  kind: 'launch';
  line: number;
  toolUseId: string;
  description?: string;
  subagentType?: string;
  agentId?: string;
}

type OpenItem = OpenCall | OpenCompaction | OpenTaskUse | OpenLaunch;

/** Options of {@link TranscriptIntake}. */
export interface TranscriptIntakeOptions {
  /** Record what is still open at the end (the turn is over: Stop, SessionEnd, an import). */
  flush: boolean;
  /** Call keys recorded already, beyond what the session's cursors remember (an import collects them from the log). */
  recordedKeys?: ReadonlySet<string>;
  /** The session's model now (a main-chain call on another model switches it first). */
  model: string;
}

/**
 * One read of one transcript file: feed it the scanner's records in order,
 * then `finish()` gives the commands (usage, model switches, compactions,
 * task moves) and the `RecordTranscriptRead` that moves the file's cursor.
 */
export class TranscriptIntake {
  readonly commands: SessionCommand[] = [];
  /** Lines that could not be read (a partial last line, which is read next time, is not among them). */
  readonly skipped: SkippedLineRecord[] = [];
  /** New API calls recorded by this read. */
  calls = 0;
  /** The session facts the lines state (the first sessionId, cwd, version, model). */
  facts: { sessionId?: string; cwd?: string; version?: string; firstModel?: string } = {};
  private open: OpenItem[];
  private readonly recentKeys: string[];
  /** Every call key this read recorded, and the cursor's: looked up once per call line. */
  private readonly readKeys: Set<string>;
  private readonly otherKeys: Set<string>;
  private model: string;
  private end: { checkpoint: TranscriptCheckpoint; line: number } | undefined;

  constructor(
    readonly file: IntakeFile,
    cursor: TranscriptCursor | undefined,
    private readonly view: SessionView,
    private readonly options: TranscriptIntakeOptions,
  ) {
    this.open = cursor === undefined ? [] : (cursor.open as unknown as OpenItem[]).map((item) => ({ ...item }));
    this.recentKeys = cursor === undefined ? [] : [...cursor.recentKeys];
    this.readKeys = new Set(this.recentKeys);
    // A call recorded from another of the session's files (a sidechain replaying a parent message) is not recorded again.
    this.otherKeys = new Set();
    for (const [key, other] of Object.entries(view.ingest.transcripts)) {
      if (key === file.key) continue;
      for (const recorded of other.recentKeys) this.otherKeys.add(recorded);
    }
    this.model = options.model;
  }

  /** Take one record of the scan. */
  add(record: TranscriptRecord): void {
    switch (record.kind) {
      case 'api-call':
        this.call(record);
        return;
      case 'compaction':
        if (this.file.role === 'main' && !record.isSidechain) this.compaction(record);
        return;
      case 'compact-summary': {
        const compaction = this.open.find((item): item is OpenCompaction => item.kind === 'compaction' && (record.parentUuid === undefined || item.uuid === record.parentUuid));
        if (compaction !== undefined) {
          this.drop(compaction);
          this.recordCompaction(compaction, record.text);
        }
        return;
      }
      case 'todo-write':
      case 'task-create':
      case 'task-update':
        // Subagents keep task lists of their own: the session's tasks are the main chain's.
        if (this.file.role === 'main' && !record.isSidechain) this.open.push({ kind: 'task-use', line: record.line, record });
        return;
      case 'task-tool-result': {
        this.completeCalls(this.chainOf(record), record.line);
        const use = this.open.find((item): item is OpenTaskUse => item.kind === 'task-use' && item.record.toolUseId === record.toolUseId);
        if (use === undefined) return;
        this.drop(use);
        if (!record.isError) this.applyTaskUse(use.record, record);
        return;
      }
      case 'subagent-launch':
        if (this.file.role === 'main' && !record.isSidechain) {
          const launch: OpenLaunch = { kind: 'launch', line: record.line, toolUseId: record.toolUseId };
          if (record.description !== undefined) launch.description = record.description;
          if (record.subagentType !== undefined) launch.subagentType = record.subagentType;
          this.open.push(launch);
        }
        return;
      case 'subagent-link': {
        const launch = this.launchOf(record.toolUseId);
        if (launch === undefined || launch.agentId !== undefined) return;
        launch.agentId = record.agentId;
        this.moveTasks([subagentMove({ agentId: record.agentId, description: launch.description, agentType: launch.subagentType }, 'in_progress')], `${record.toolUseId}#start`);
        return;
      }
      case 'subagent-result': {
        this.completeCalls(this.chainOf(record), record.line);
        const launch = this.launchOf(record.toolUseId);
        if (launch === undefined) return;
        const agentId = record.resultAgentId ?? launch.agentId ?? record.toolUseId;
        const to = subagentStateOfResult(record.status, record.isError);
        const facts = { agentId, description: launch.description, agentType: launch.subagentType };
        if (to === 'in_progress') {
          launch.agentId = agentId;
          this.moveTasks([subagentMove(facts, 'in_progress')], `${record.toolUseId}#start`);
          return;
        }
        this.drop(launch);
        this.moveTasks([subagentMove(facts, to, record.isError ? 'the subagent tool call failed' : undefined)], record.toolUseId);
        return;
      }
      case 'session-info':
        if (record.sessionId !== undefined) this.facts.sessionId ??= record.sessionId;
        if (record.cwd !== undefined) this.facts.cwd ??= record.cwd;
        if (record.version !== undefined) this.facts.version = record.version;
        return;
      case 'skipped':
        this.skipped.push(record);
        return;
      case 'end':
        this.end = { checkpoint: record.checkpoint, line: record.checkpoint.line };
        return;
      case 'turn-end':
        // The turn is over: nothing more of the replies before it can come.
        this.completeCalls(this.file.role === 'main' && !record.isSidechain ? undefined : this.chainOf(record), record.line);
        return;
      case 'summary':
        return;
    }
  }

  /**
   * The commands of this read, the cursor's move last. With `flush`, what is
   * still open is recorded now: calls as their fullest line so far,
   * compactions without a summary, task tool calls without a result (as
   * made); launches stay open until their result.
   */
  finish(): SessionCommand[] {
    if (this.options.flush) {
      const open = this.open;
      this.open = open.filter((item) => item.kind === 'launch');
      for (const item of open.sort((a, b) => a.line - b.line)) {
        if (item.kind === 'call') this.recordCall(item);
        else if (item.kind === 'compaction') this.recordCompaction(item, undefined);
        else if (item.kind === 'task-use') this.applyTaskUse(item.record, undefined);
      }
    }
    // A partial last line is read again next time: it is no skipped line.
    if (this.end !== undefined) {
      const read = this.end.line;
      for (let i = this.skipped.length - 1; i >= 0; i--) if (this.skipped[i]!.line > read) this.skipped.splice(i, 1);
    }
    return this.commands;
  }

  /** The scanner's end state, once the scan has ended. */
  get checkpoint(): TranscriptCheckpoint | undefined {
    return this.end?.checkpoint;
  }

  /** What stays open past this read (for the cursor). */
  get openItems(): Record<string, unknown>[] {
    return this.open as unknown as Record<string, unknown>[];
  }

  /** API calls held open past this read (a reply whose last line may still come). */
  get pendingCalls(): number {
    return this.open.filter((item) => item.kind === 'call').length;
  }

  /** The call keys this file recorded last. */
  get recordedKeys(): string[] {
    return this.recentKeys;
  }

  private chainOf(record: { isSidechain: boolean; agentId?: string }): string {
    if (this.file.role === 'subagent') return `agent:${record.agentId ?? this.file.agentId ?? ''}`;
    return record.isSidechain ? `side:${record.agentId ?? ''}` : 'main';
  }

  private launchOf(toolUseId: string): OpenLaunch | undefined {
    return this.open.find((item): item is OpenLaunch => item.kind === 'launch' && item.toolUseId === toolUseId);
  }

  private drop(item: OpenItem): void {
    const at = this.open.indexOf(item);
    if (at >= 0) this.open.splice(at, 1);
  }

  private known(key: string): boolean {
    return this.readKeys.has(key) || this.otherKeys.has(key) || this.options.recordedKeys?.has(key) === true;
  }

  private call(record: ApiCallRecord): void {
    if (record.model === SYNTHETIC_MODEL) return; // written by Claude Code itself: no API call
    const key = callKey(record);
    const chain = this.chainOf(record);
    if (key === undefined) {
      // No message id to know it by: each such line is a call.
      this.completeCalls(chain, record.line);
      this.recordCall(this.openCall(record, `line:${this.file.key}:${record.line}`, chain));
      return;
    }
    if (this.known(key)) return;
    const open = this.open.find((item): item is OpenCall => item.kind === 'call' && item.key === key);
    if (open !== undefined) {
      // Another line of a split reply: keep the fullest (the first carries placeholder counts).
      // The open call as kept so far (not a copy of the record spread over: that costs ~20 µs a line).
      if (betterCall(record, open)) {
        open.usage = record.usage;
        open.isSidechain = record.isSidechain;
        if (record.model !== undefined) open.model = record.model;
        if (record.timestamp !== undefined) open.timestamp = record.timestamp;
      }
      open.line = record.line;
      if (record.stopReason !== undefined) {
        this.drop(open);
        this.recordCall(open);
      }
      return;
    }
    // A new call on this chain: the one before it is complete.
    this.completeCalls(chain, record.line);
    const call = this.openCall(record, key, chain);
    // A line that sets its stop reason is the reply's last: complete now.
    if (record.stopReason !== undefined) this.recordCall(call);
    else this.open.push(call);
  }

  private openCall(record: ApiCallRecord, key: string, chain: string): OpenCall {
    const call: OpenCall = { kind: 'call', key, chain, line: record.line, messageId: record.messageId ?? key, usage: record.usage, isSidechain: record.isSidechain };
    if (record.requestId !== undefined) call.requestId = record.requestId;
    if (record.model !== undefined) call.model = record.model;
    if (record.agentId !== undefined) call.agentId = record.agentId;
    if (record.timestamp !== undefined) call.timestamp = record.timestamp;
    return call;
  }

  /** Record the open calls of `chain` (of every chain when undefined) read before `line`. */
  private completeCalls(chain: string | undefined, line: number): void {
    for (const item of [...this.open]) {
      if (item.kind !== 'call' || item.line >= line || (chain !== undefined && item.chain !== chain)) continue;
      this.drop(item);
      this.recordCall(item);
    }
  }

  private recordCall(call: OpenCall): void {
    const main = this.file.role === 'main' && !call.isSidechain;
    const model = call.model ?? this.model;
    if (main && call.model !== undefined && call.model !== this.model) {
      this.commands.push({ type: 'SwitchModel', model: call.model, reason: 'the transcript shows calls on it' });
      this.model = call.model;
    }
    const command: SessionCommand = {
      type: 'RecordTokenUsage',
      model,
      inputTokens: call.usage.input,
      outputTokens: call.usage.output,
      cacheCreationInputTokens: call.usage.cacheCreation,
      cacheReadInputTokens: call.usage.cacheRead,
      main,
    };
    if (!call.key.startsWith('line:')) command.messageId = call.messageId.slice(0, 200);
    if (call.requestId !== undefined) command.requestId = call.requestId.slice(0, 200);
    const agentId = main ? undefined : (call.agentId ?? this.file.agentId);
    if (agentId !== undefined) command.agentId = agentId.slice(0, 200);
    if (call.timestamp !== undefined && call.timestamp.length <= 64) command.at = call.timestamp;
    this.commands.push(command);
    this.calls++;
    if (call.model !== undefined) this.facts.firstModel ??= call.model;
    this.recentKeys.push(call.key);
    this.readKeys.add(call.key);
    if (this.recentKeys.length > RECENT_KEYS) this.recentKeys.splice(0, this.recentKeys.length - RECENT_KEYS);
  }

  private compaction(record: CompactionRecord): void {
    // A boundary ends what came before it: the main chain's calls are complete.
    this.completeCalls('main', record.line);
    const compaction: OpenCompaction = { kind: 'compaction', line: record.line };
    if (record.uuid !== undefined) compaction.uuid = record.uuid;
    if (record.trigger !== undefined) compaction.trigger = record.trigger;
    if (record.preTokens !== undefined) compaction.preTokens = record.preTokens;
    if (record.postTokens !== undefined) compaction.postTokens = record.postTokens;
    if (record.timestamp !== undefined) compaction.timestamp = record.timestamp;
    this.open.push(compaction);
  }

  private recordCompaction(compaction: OpenCompaction, summary: string | undefined): void {
    const before = compaction.preTokens ?? this.view.tokens.contextTokens;
    const known = compaction.postTokens !== undefined;
    const command: SessionCommand = {
      type: 'RecordCompaction',
      trigger: compaction.trigger ?? 'unknown',
      tokensBefore: before,
      // Claude Code reports the context left only in newer builds; until the next call shows it, 0.
      tokensAfter: Math.min(before, compaction.postTokens ?? 0),
      tokensAfterKnown: known,
      compactionId: (compaction.uuid ?? `${this.file.key}:line:${compaction.line}`).slice(0, 200),
    };
    if (compaction.timestamp !== undefined && compaction.timestamp.length <= 64) command.at = compaction.timestamp;
    if (summary !== undefined && summary.trim() !== '') {
      command.summary = summary.length <= SUMMARY_MAX ? summary : `${summary.slice(0, SUMMARY_MAX - 1)}…`;
      command.summaryItemId = `compaction-${(compaction.uuid ?? String(compaction.line)).replace(/[^A-Za-z0-9]/g, '').slice(0, 40)}`;
    }
    this.commands.push(command);
  }

  private applyTaskUse(use: TodoWriteRecord | TaskCreateRecord | TaskUpdateRecord, result: TaskToolResultRecord | undefined): void {
    let moves: TaskMove[] = [];
    switch (use.kind) {
      case 'todo-write':
        moves = todoMoves(result?.newTodos ?? use.todos);
        break;
      case 'task-create': {
        const move = taskCreateMove(result?.taskId, result?.subject ?? use.subject);
        if (move !== undefined) moves = [move];
        break;
      }
      case 'task-update': {
        const move = taskUpdateMove(result?.taskId ?? use.taskId, result?.statusTo ?? use.status, use.subject ?? result?.subject);
        if (move !== undefined) moves = [move];
        break;
      }
    }
    this.moveTasks(moves, use.toolUseId);
  }

  private moveTasks(moves: TaskMove[], toolUseId: string): void {
    if (moves.length === 0) return;
    this.commands.push({ type: 'MoveTasks', moves, toolUseId: toolUseId.slice(0, 200) });
  }
}

/** The subagent task id of a subagent transcript's agent (its task is the one its launch made). */
export const taskOfSubagentFile = (agentId: string): string => subagentTaskId(agentId);
