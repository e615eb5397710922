// Turns one transcript line into the records that matter, reading as little
// of it as it can. Most lines are hook/bash progress and tool results that
// carry nothing needed: those are classified by native byte searches on
// their first bytes (see headCache) and never decoded. The lines that matter
// (assistant replies, system records, agent progress, the rare task-tool
// results and compaction summaries, found by byte search) are JSON.parse'd:
// native code, as fast on the first line of an import as on the last, where
// a JavaScript byte loop would run slowly until the JIT has compiled it.

import { afterParent, bytesAt, HeadCache, topLevelTypeAt } from './headCache.js';
import { asId, asObject, asString, contentText, subagentResultFacts, taskResultFacts, todoItems, usageCounts } from './toolShapes.js';
import type { PendingToolUse, RecordOrigin, SessionInfoRecord, TaskToolName, TranscriptCheckpoint, TranscriptRecord } from './types.js';

/** Options of a {@link TranscriptLineDecoder}. */
export interface LineDecoderOptions {
  /** The file, named in skipped-line records. */
  file: string;
  /** The agent every record of the file belongs to unless it names one (from an `agent-<id>.jsonl` name). */
  agentId?: string;
  /** State left by an earlier scan of the same file. */
  checkpoint?: TranscriptCheckpoint;
}

type Json = Record<string, unknown>;

const TYPE_FIRST = Buffer.from('{"type":"');
const SIDECHAIN_TRUE = Buffer.from('"isSidechain":true');
const COMPACT_SUMMARY_TRUE = Buffer.from('"isCompactSummary":true');
const AGENT_PROGRESS = Buffer.from('"agent_progress"');
const DATA_AGENT_PROGRESS = Buffer.from(',"data":{"type":"agent_progress"');
const DATA_TYPE = Buffer.from(',"data":{"type":"');
const ROOT_START = Buffer.from('{"parentUuid":null');

const TASK_TOOLS: ReadonlySet<string> = new Set<TaskToolName>(['TodoWrite', 'TaskCreate', 'TaskUpdate']);
const AGENT_TOOLS: ReadonlySet<string> = new Set(['Task', 'Agent']);

// Bounds on what a decoder remembers, so a long or odd file cannot grow it
// without limit: tool calls whose result never came, 1.0.x thread links.
const MAX_PENDING = 1_000;
const MAX_THREADS = 20_000;
const MAX_PROMPTS = 50;
const MAX_LINKS = 10_000;
/** How many lines after a compact_boundary its summary is looked for (it is the next one in every transcript seen). */
const SUMMARY_WINDOW = 16;
/** How many lines back from the end a scan looks for the last timestamp. */
const LAST_TIMESTAMP_LINES = 64;

/** A byte needle and where it next occurs in the current buffer (-2: not searched yet, -1: not in it). */
interface Cursor {
  needle: Buffer;
  at: number;
}

interface PendingUse extends PendingToolUse {
  cursor: Cursor;
}

type SessionKey = 'sessionId' | 'cwd' | 'version' | 'gitBranch';
const SESSION_KEYS: readonly SessionKey[] = ['sessionId', 'cwd', 'version', 'gitBranch'];

/**
 * Decodes the lines of one transcript file, in order, keeping what a line's
 * meaning depends on: the task and subagent calls awaiting a result, the
 * session's identity, 1.0.x sidechain threads. The reader feeds it complete
 * lines; every record it makes is pushed onto the caller's array.
 */
export class TranscriptLineDecoder {
  readonly file: string;
  /** The earliest timestamp of the lines decoded so far. */
  firstTimestamp: string | undefined;
  /** The timestamp of the latest line read in full. */
  lastTimestamp: string | undefined;
  /** Summary leaves found in the file. */
  readonly leavesFound = new Set<string>();

  private readonly agentId: string | undefined;
  private readonly heads = new HeadCache();
  private readonly pending = new Map<string, PendingUse>();
  private readonly session: Partial<Record<SessionKey, string>> = {};
  private readonly threads = new Map<string, string>();
  private lastThreadRoot: string | undefined;
  private readonly unlinkedPrompts = new Map<string, string>();
  private readonly links = new Set<string>();
  private readonly leaves: Cursor[] = [];
  private readonly compactSummary: Cursor = { needle: COMPACT_SUMMARY_TRUE, at: -2 };
  /** Lines left in which a compaction summary is expected. */
  private summaryWindow = 0;
  private buffer: Buffer | undefined;

  constructor(options: LineDecoderOptions) {
    this.file = options.file;
    this.agentId = options.agentId;
    const checkpoint = options.checkpoint;
    if (checkpoint === undefined) return;
    for (const use of checkpoint.pending) this.addPending(use.id, use.tool);
    Object.assign(this.session, checkpoint.session);
    for (const [uuid, root] of checkpoint.threads) this.threads.set(uuid, root);
    for (const [toolUseId, prompt] of checkpoint.unlinkedPrompts) this.unlinkedPrompts.set(toolUseId, prompt);
  }

  /** The state to resume from after the line that ends at `offset`, `line` lines into the file. */
  checkpoint(offset: number, line: number): TranscriptCheckpoint {
    return {
      offset,
      line,
      pending: [...this.pending.values()].map(({ id, tool }) => ({ id, tool })),
      session: { ...this.session },
      threads: [...this.threads],
      unlinkedPrompts: [...this.unlinkedPrompts],
    };
  }

  /** Note that a new buffer is in use: byte positions remembered in the old one no longer apply. */
  private useBuffer(b: Buffer): void {
    if (this.buffer === b) return;
    this.buffer = b;
    this.compactSummary.at = -2;
    for (const use of this.pending.values()) use.cursor.at = -2;
    // A summary's leaf may come anywhere in the file: each buffer is searched whole.
    for (const leaf of this.leaves) this.searchLeaf(b, leaf);
  }

  /** Decode the complete line `b[s, e)` (without its newline), line number `line`, ending at file offset `endOffset`. */
  decodeLine(b: Buffer, s: number, e: number, line: number, endOffset: number, out: TranscriptRecord[]): void {
    this.useBuffer(b);
    while (s < e && b[s]! <= 0x20) s++;
    while (e > s && b[e - 1]! <= 0x20) e--;
    if (s === e) return;
    if (b[s] !== 0x7b) return this.skipped(out, line, endOffset, 'not a JSON object');
    if (b[e - 1] !== 0x7d) return this.skipped(out, line, endOffset, 'cut short: the line does not end with "}"');
    if (this.summaryWindow > 0) this.summaryWindow--;
    // Until a line has given the first timestamp, every line is read whole.
    if (this.firstTimestamp === undefined) return this.parse(b, s, e, line, endOffset, out);

    let typeAt: number;
    let sidechain: boolean | undefined;
    const after = afterParent(b, s, e);
    if (after >= 0) {
      const found = this.heads.find(b, after, e);
      if (found === undefined) return this.parse(b, s, e, line, endOffset, out);
      // An assistant reply: its message comes before its type.
      if (found.head.next === 'message') return this.parse(b, s, e, line, endOffset, out);
      typeAt = found.valueAt;
      sidechain = found.head.isSidechain;
    } else if (e - s > TYPE_FIRST.length && bytesAt(b, s, TYPE_FIRST)) {
      // Records outside the chain (summary, file-history-snapshot, queue-operation, …) start with their type.
      typeAt = s + TYPE_FIRST.length - 1;
    } else {
      typeAt = topLevelTypeAt(b, s + 1, e);
      if (typeAt < 0) return this.parse(b, s, e, line, endOffset, out);
    }

    // By the type's first letters: assistant, system, summary are read; user and progress lines only when they hold what is awaited.
    const c1 = b[typeAt + 1];
    const c2 = b[typeAt + 2];
    if (c1 === 0x75 && c2 === 0x73 && b[typeAt + 5] === 0x22) {
      // "user"
      if (this.userLineWanted(b, s, e, typeAt, sidechain)) this.parse(b, s, e, line, endOffset, out);
    } else if (c1 === 0x70 && c2 === 0x72) {
      // "progress"
      if (isAgentProgress(b, s, e, typeAt)) this.parse(b, s, e, line, endOffset, out);
    } else if ((c1 === 0x61 && c2 === 0x73) || (c1 === 0x73 && (c2 === 0x79 || c2 === 0x75))) {
      // "assistant", "system", "summary"
      this.parse(b, s, e, line, endOffset, out);
    }
  }

  /**
   * Decode a last line that has no newline yet: when it is a whole JSON
   * object it is read (true); otherwise it is reported and left for a later
   * scan to read once the writer finishes it (false).
   */
  decodeUnterminated(b: Buffer, s: number, e: number, line: number, endOffset: number, out: TranscriptRecord[]): boolean {
    const text = b.toString('utf8', s, e);
    if (text.trim() === '') return false;
    let record: Json | undefined;
    try {
      record = asObject(JSON.parse(text));
    } catch {
      record = undefined;
    }
    if (record === undefined) {
      this.skipped(out, line, endOffset, 'partial last line (no newline yet): left to read once it is complete');
      return false;
    }
    this.decodeRecord(record, line, endOffset, out);
    return true;
  }

  /** The timestamp of the last line in `b[0, end)` that has one (looking back a few lines). */
  timestampBefore(b: Buffer, end: number): string | undefined {
    let e = end;
    for (let n = 0; n < LAST_TIMESTAMP_LINES && e > 0; n++) {
      const nl = b[e - 1] === 0x0a ? e - 1 : e;
      const s = nl > 0 ? b.lastIndexOf(0x0a, nl - 1) + 1 : 0;
      if (nl > s) {
        try {
          const timestamp = asString(asObject(JSON.parse(b.toString('utf8', s, nl)))?.timestamp);
          if (timestamp !== undefined) return timestamp;
        } catch {
          // A damaged line (already reported): look further back.
        }
      }
      e = s;
    }
    return undefined;
  }

  // ---- lines read whole ----------------------------------------------------

  private parse(b: Buffer, s: number, e: number, line: number, endOffset: number, out: TranscriptRecord[]): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(b.toString('utf8', s, e));
    } catch (error) {
      const message = (error as Error).message;
      const position = /at position (\d+)/.exec(message)?.[1];
      return this.skipped(out, line, endOffset, `malformed JSON${position === undefined ? '' : ` at column ${Number(position) + 1}`}: ${message}`);
    }
    const record = asObject(parsed);
    if (record === undefined) return this.skipped(out, line, endOffset, 'not a JSON object');
    this.decodeRecord(record, line, endOffset, out);
  }

  private decodeRecord(record: Json, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const timestamp = asString(record.timestamp);
    if (timestamp !== undefined) {
      this.firstTimestamp ??= timestamp;
      this.lastTimestamp = timestamp;
    }
    this.noteSession(record, line, endOffset, out);
    switch (record.type) {
      case 'assistant':
        return this.decodeAssistant(record, line, endOffset, out);
      case 'user':
        return this.decodeUser(record, line, endOffset, out);
      case 'system':
        return this.decodeSystem(record, line, endOffset, out);
      case 'progress':
        return this.decodeProgress(record, line, endOffset, out);
      case 'summary':
        return this.decodeSummary(record, line, endOffset, out);
      default:
        // Record types this reader does not know are data for someone else, not errors.
        return;
    }
  }

  private decodeAssistant(record: Json, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const message = asObject(record.message);
    if (message === undefined) return;
    const origin = this.origin(record);
    const usage = usageCounts(message.usage);
    if (usage !== undefined) {
      const call: TranscriptRecord = { kind: 'api-call', line, endOffset, ...origin, usage };
      const messageId = asString(message.id);
      if (messageId !== undefined) call.messageId = messageId;
      const requestId = asString(record.requestId);
      if (requestId !== undefined) call.requestId = requestId;
      const model = asString(message.model);
      if (model !== undefined) call.model = model;
      const sessionId = this.session.sessionId;
      if (sessionId !== undefined) call.sessionId = sessionId;
      const stopReason = asString(message.stop_reason);
      if (stopReason !== undefined) call.stopReason = stopReason;
      out.push(call);
    }
    const content = message.content;
    if (!Array.isArray(content)) return;
    for (const raw of content) {
      const block = asObject(raw);
      if (block?.type !== 'tool_use') continue;
      const name = asString(block.name);
      const id = asString(block.id);
      if (name === undefined || id === undefined || !(TASK_TOOLS.has(name) || AGENT_TOOLS.has(name))) continue;
      this.toolUse(name, id, asObject(block.input) ?? {}, origin, line, endOffset, out);
    }
  }

  private toolUse(name: string, id: string, input: Json, origin: RecordOrigin, line: number, endOffset: number, out: TranscriptRecord[]): void {
    this.addPending(id, name);
    const at = { line, endOffset, ...origin, toolUseId: id };
    switch (name) {
      case 'TodoWrite':
        out.push({ kind: 'todo-write', ...at, todos: todoItems(input.todos) ?? [] });
        return;
      case 'TaskCreate': {
        const record: TranscriptRecord = { kind: 'task-create', ...at };
        const subject = asString(input.subject);
        if (subject !== undefined) record.subject = subject;
        const description = asString(input.description);
        if (description !== undefined) record.description = description;
        const activeForm = asString(input.activeForm);
        if (activeForm !== undefined) record.activeForm = activeForm;
        out.push(record);
        return;
      }
      case 'TaskUpdate': {
        const record: TranscriptRecord = { kind: 'task-update', ...at };
        const taskId = asId(input.taskId);
        if (taskId !== undefined) record.taskId = taskId;
        const status = asString(input.status);
        if (status !== undefined) record.status = status;
        const subject = asString(input.subject);
        if (subject !== undefined) record.subject = subject;
        out.push(record);
        return;
      }
      default: {
        const record: TranscriptRecord = { kind: 'subagent-launch', ...at, tool: name };
        const description = asString(input.description);
        if (description !== undefined) record.description = description;
        const subagentType = asString(input.subagent_type);
        if (subagentType !== undefined) record.subagentType = subagentType;
        const prompt = asString(input.prompt);
        // 1.0.x subagents are inline threads that start with the Task prompt: keep it to tie them.
        if (prompt !== undefined && !origin.isSidechain) {
          this.unlinkedPrompts.set(id, prompt);
          if (this.unlinkedPrompts.size > MAX_PROMPTS) this.unlinkedPrompts.delete(this.unlinkedPrompts.keys().next().value!);
        }
        out.push(record);
      }
    }
  }

  private decodeUser(record: Json, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const origin = this.origin(record);
    const message = asObject(record.message);
    if (record.isCompactSummary === true) {
      const text = contentText(message?.content);
      if (text !== undefined) {
        const summary: TranscriptRecord = { kind: 'compact-summary', line, endOffset, ...origin, text };
        const parentUuid = asString(record.parentUuid);
        if (parentUuid !== undefined) summary.parentUuid = parentUuid;
        out.push(summary);
      }
    }
    // A 1.0.x thread's first record is tied to the Task call whose prompt it is.
    if (origin.isSidechain && origin.agentId !== undefined && origin.agentId === origin.uuid && record.agentId === undefined && this.agentId === undefined) {
      const prompt = contentText(message?.content);
      for (const [toolUseId, launched] of this.unlinkedPrompts) {
        if (launched === prompt) {
          this.unlinkedPrompts.delete(toolUseId);
          this.link(origin.agentId, toolUseId, 'prompt', line, endOffset, out);
          break;
        }
      }
    }
    const content = message?.content;
    if (!Array.isArray(content) || this.pending.size === 0) return;
    const results = content.map(asObject).filter((block) => block?.type === 'tool_result' && typeof block.tool_use_id === 'string');
    const toolUseResult = record.toolUseResult ?? record.tool_use_result;
    for (const block of results) {
      const id = block!.tool_use_id as string;
      const use = this.pending.get(id);
      if (use === undefined) continue;
      this.pending.delete(id);
      // A line's toolUseResult belongs to its one result (or the one it names).
      const structured = results.length === 1 || record.sourceToolUseID === id ? toolUseResult : undefined;
      const text = contentText(block!.content);
      const at = { line, endOffset, ...origin, toolUseId: id, isError: block!.is_error === true };
      if (TASK_TOOLS.has(use.tool)) {
        const tool = use.tool as TaskToolName;
        out.push({ kind: 'task-tool-result', ...at, tool, ...taskResultFacts(tool, structured, text) });
        continue;
      }
      const facts = subagentResultFacts(structured, text);
      const result: TranscriptRecord = { kind: 'subagent-result', ...at };
      if (facts.agentId !== undefined) result.resultAgentId = facts.agentId;
      if (facts.status !== undefined) result.status = facts.status;
      if (facts.totalTokens !== undefined) result.totalTokens = facts.totalTokens;
      if (facts.totalDurationMs !== undefined) result.totalDurationMs = facts.totalDurationMs;
      if (facts.totalToolUseCount !== undefined) result.totalToolUseCount = facts.totalToolUseCount;
      if (facts.usage !== undefined) result.usage = facts.usage;
      out.push(result);
    }
  }

  private decodeSystem(record: Json, line: number, endOffset: number, out: TranscriptRecord[]): void {
    if (record.subtype === 'turn_duration' || record.subtype === 'stop_hook_summary') {
      out.push({ kind: 'turn-end', line, endOffset, ...this.origin(record) });
      return;
    }
    if (record.subtype !== 'compact_boundary') return;
    const compaction: TranscriptRecord = { kind: 'compaction', line, endOffset, ...this.origin(record) };
    this.summaryWindow = SUMMARY_WINDOW;
    const logical = asString(record.logicalParentUuid);
    if (logical !== undefined) compaction.logicalParentUuid = logical;
    const meta = asObject(record.compactMetadata);
    const trigger = asString(meta?.trigger);
    if (trigger !== undefined) compaction.trigger = trigger;
    const pre = meta?.preTokens;
    if (typeof pre === 'number') compaction.preTokens = pre;
    const post = meta?.postTokens;
    if (typeof post === 'number') compaction.postTokens = post;
    out.push(compaction);
  }

  private decodeProgress(record: Json, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const data = asObject(record.data);
    if (data?.type !== 'agent_progress') return;
    const agentId = asString(data.agentId);
    const toolUseId = asString(record.parentToolUseID);
    if (agentId !== undefined && toolUseId !== undefined) this.link(agentId, toolUseId, 'agent_progress', line, endOffset, out);
  }

  private decodeSummary(record: Json, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const summary = asString(record.summary);
    if (summary === undefined) return;
    const entry: TranscriptRecord = { kind: 'summary', line, endOffset, summary };
    const leafUuid = asString(record.leafUuid);
    if (leafUuid !== undefined) {
      entry.leafUuid = leafUuid;
      const leaf: Cursor = { needle: Buffer.from(`"uuid":"${leafUuid}"`), at: -2 };
      this.leaves.push(leaf);
      if (this.buffer !== undefined) this.searchLeaf(this.buffer, leaf);
    }
    out.push(entry);
  }

  private searchLeaf(b: Buffer, leaf: Cursor): void {
    if (leaf.at === -3) return;
    if (b.indexOf(leaf.needle) >= 0) {
      leaf.at = -3;
      this.leavesFound.add(leaf.needle.toString('latin1', 8, leaf.needle.length - 1));
    }
  }

  // ---- user lines ----------------------------------------------------------

  /**
   * Whether a user line must be read whole: a 1.0.x sidechain line (its
   * thread is followed), or a line a byte search finds the result of an
   * awaited task or subagent call in, or a compaction summary where one is
   * expected (after a compact_boundary, or at the start of a chain).
   */
  private userLineWanted(b: Buffer, s: number, e: number, typeAt: number, sidechain: boolean | undefined): boolean {
    if (this.agentId === undefined && (sidechain ?? lineHas(b, s, typeAt, SIDECHAIN_TRUE))) return true;
    if ((this.summaryWindow > 0 || bytesAt(b, s, ROOT_START)) && this.nextIn(this.compactSummary, b, s, e)) return true;
    for (const use of this.pending.values()) if (this.nextIn(use.cursor, b, s, e)) return true;
    return false;
  }

  /** True when the cursor's needle occurs within `b[s, e)`; each needle is searched at most once per stretch of buffer. */
  private nextIn(cursor: Cursor, b: Buffer, s: number, e: number): boolean {
    if (cursor.at < s) {
      if (cursor.at === -1) return false;
      cursor.at = b.indexOf(cursor.needle, s);
      if (cursor.at < 0) return false;
    }
    return cursor.at < e;
  }

  // ---- shared --------------------------------------------------------------

  private link(agentId: string, toolUseId: string, via: 'agent_progress' | 'prompt', line: number, endOffset: number, out: TranscriptRecord[]): void {
    const key = `${agentId}\u0000${toolUseId}`;
    if (this.links.has(key)) return;
    this.links.add(key);
    if (this.links.size > MAX_LINKS) this.links.delete(this.links.keys().next().value!);
    out.push({ kind: 'subagent-link', line, endOffset, agentId, toolUseId, via });
  }

  /** Who a record belongs to; a 1.0.x sidechain record without an agent id belongs to its thread (the uuid of the thread's first record). */
  private origin(record: Json): RecordOrigin {
    const isSidechain = record.isSidechain === true;
    const origin: RecordOrigin = { isSidechain };
    const uuid = asString(record.uuid);
    let agentId = asString(record.agentId) ?? this.agentId;
    if (agentId === undefined && isSidechain && uuid !== undefined) agentId = this.threadRoot(uuid, asString(record.parentUuid));
    if (agentId !== undefined) origin.agentId = agentId;
    const timestamp = asString(record.timestamp);
    if (timestamp !== undefined) origin.timestamp = timestamp;
    if (uuid !== undefined) origin.uuid = uuid;
    return origin;
  }

  /** The thread (its first record's uuid) a sidechain record belongs to, remembered for its children. */
  private threadRoot(uuid: string, parentUuid: string | undefined): string {
    const known = this.threads.get(uuid);
    if (known !== undefined) return known;
    const root = parentUuid === undefined ? uuid : (this.threads.get(parentUuid) ?? this.lastThreadRoot ?? parentUuid);
    this.threads.set(uuid, root);
    if (this.threads.size > MAX_THREADS) this.threads.delete(this.threads.keys().next().value!);
    this.lastThreadRoot = root;
    return root;
  }

  /** Emit a session-info record when a line names a session, folder, version or branch other than the last. */
  private noteSession(record: Json, line: number, endOffset: number, out: TranscriptRecord[]): void {
    let changed: SessionInfoRecord | undefined;
    for (const key of SESSION_KEYS) {
      const value = record[key];
      if (typeof value !== 'string' || value === this.session[key]) continue;
      this.session[key] = value;
      changed ??= { kind: 'session-info', line, endOffset };
    }
    if (changed === undefined) return;
    for (const key of SESSION_KEYS) {
      const value = this.session[key];
      if (value !== undefined) changed[key] = value;
    }
    const timestamp = asString(record.timestamp);
    if (timestamp !== undefined) changed.timestamp = timestamp;
    out.push(changed);
  }

  private addPending(id: string, tool: string): void {
    this.pending.set(id, { id, tool, cursor: { needle: Buffer.from(`"tool_use_id":"${id}"`), at: -2 } });
    if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
  }

  private skipped(out: TranscriptRecord[], line: number, endOffset: number, reason: string): void {
    out.push({ kind: 'skipped', line, endOffset, file: this.file, reason });
  }
}

/** Whether a progress line is an agent_progress one: its data's type, right after the top-level type when it is there, else searched for. */
function isAgentProgress(b: Buffer, s: number, e: number, typeAt: number): boolean {
  // "progress" then `,"data":{"type":"`: compare what follows.
  const after = typeAt + 10;
  if (e - after > DATA_AGENT_PROGRESS.length && bytesAt(b, after, DATA_TYPE)) {
    // The data's type is read right there: agent_progress, or one of the many others.
    return b[after + DATA_TYPE.length] === 0x61 && bytesAt(b, after, DATA_AGENT_PROGRESS);
  }
  return lineHas(b, s, e, AGENT_PROGRESS);
}

/** True when `needle` occurs within `b[s, e)`. */
function lineHas(b: Buffer, s: number, e: number, needle: Buffer): boolean {
  return e - s >= needle.length && b.subarray(s, e).indexOf(needle) >= 0;
}
