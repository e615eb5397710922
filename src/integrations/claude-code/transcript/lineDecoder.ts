// Turns one transcript line into the records that matter, reading as little
// of it as it can. Most lines are hook/bash progress and tool results that
// carry nothing needed: those are classified from the first bytes of the
// line and left unread. Assistant and system lines are skimmed field by field
// (the large content is stepped over), and only the rare task-tool results and
// compaction summaries are JSON.parse'd whole, found by byte search.

import { ascii, ObjectSkimmer, RepeatedString, readBoolean, readNumber, readString, skipSpace, skipValue, stringValueIs, isNull, parseSlice } from './jsonSkim.js';
import { AssistantMessage } from './assistantMessage.js';
import { afterParent, HeadCache } from './headCache.js';
import { F, RecordFields } from './recordFields.js';
import { asObject, asString, contentText, subagentResultFacts, taskResultFacts, todoItems, asId } from './toolShapes.js';
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

const TYPE_KEY = Buffer.from('"type":"');
const ASSISTANT = ascii('assistant');
const USER = ascii('user');
const SYSTEM = ascii('system');
const PROGRESS = ascii('progress');
const SUMMARY = ascii('summary');
const COMPACT_BOUNDARY = ascii('compact_boundary');
const AGENT_PROGRESS = ascii('agent_progress');
const DATA_THEN_TYPE = ascii(',"data":{"type":"');
const TOOL_USE = ascii('tool_use');
// A content array holds a task or subagent call only if a "name" key with one of these names occurs in it.
const NAME_KEY = Buffer.from('"name":"');
const TOOL_NAME_PREFIXES = [ascii('TodoWrite"'), ascii('Task'), ascii('Agent"')];
const SIDECHAIN_TRUE = Buffer.from('"isSidechain":true');
const COMPACT_SUMMARY_TRUE = Buffer.from('"isCompactSummary":true');
const AGENT_PROGRESS_VALUE = Buffer.from('"agent_progress"');
const ROOT_START = ascii('{"parentUuid":null');
/** How many lines after a compact_boundary the summary is looked for (it is the next one in every transcript seen). */
const SUMMARY_WINDOW = 16;

const K = {
  id: ascii('id'),
  model: ascii('model'),
  usage: ascii('usage'),
  content: ascii('content'),
  type: ascii('type'),
  name: ascii('name'),
  input: ascii('input'),
  inputTokens: ascii('input_tokens'),
  outputTokens: ascii('output_tokens'),
  cacheCreation: ascii('cache_creation_input_tokens'),
  cacheRead: ascii('cache_read_input_tokens'),
  trigger: ascii('trigger'),
  preTokens: ascii('preTokens'),
  postTokens: ascii('postTokens'),
  agentId: ascii('agentId'),
};

const TASK_TOOLS: ReadonlySet<string> = new Set<TaskToolName>(['TodoWrite', 'TaskCreate', 'TaskUpdate']);
const AGENT_TOOLS: ReadonlySet<string> = new Set(['Task', 'Agent']);

// Bounds on what a decoder remembers, so a long or odd file cannot grow it
// without limit: tool calls whose result never came, 1.0.x thread links.
const MAX_PENDING = 1_000;
const MAX_THREADS = 20_000;
const MAX_PROMPTS = 50;
const MAX_LINKS = 10_000;
/** How many lines back from the end a scan looks for the last timestamp. */
const LAST_TIMESTAMP_LINES = 64;

/** A byte needle and where it next occurs in the current buffer (-2: not searched yet). */
interface Cursor {
  needle: Buffer;
  at: number;
}

interface PendingUse extends PendingToolUse {
  cursor: Cursor;
}

type SessionKey = 'sessionId' | 'cwd' | 'version' | 'gitBranch';
const SESSION_KEYS: readonly [SessionKey, number][] = [
  ['sessionId', F.sessionId],
  ['cwd', F.cwd],
  ['version', F.version],
  ['gitBranch', F.gitBranch],
];

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
  /** Summary leaves found in the file. */
  readonly leavesFound = new Set<string>();

  private readonly agentId: string | undefined;
  private readonly fields = new RecordFields();
  private readonly message = new AssistantMessage();
  private readonly readMessage = (b: Buffer, start: number, end: number): number => this.message.read(b, start, end);
  private readonly inner = new ObjectSkimmer();
  private readonly pending = new Map<string, PendingUse>();
  private readonly session: Partial<Record<SessionKey, string>> = {};
  private readonly threads = new Map<string, string>();
  private lastThreadRoot: string | undefined;
  private readonly unlinkedPrompts = new Map<string, string>();
  private readonly links = new Set<string>();
  private readonly leaves: Cursor[] = [];
  private readonly compactSummary: Cursor = { needle: COMPACT_SUMMARY_TRUE, at: -2 };
  private readonly heads = new HeadCache();
  // Consecutive lines of a split reply repeat these: decoded once, then reused.
  private readonly messageIds = new RepeatedString();
  private readonly requestIds = new RepeatedString();
  private readonly models = new RepeatedString();
  private readonly agentIds = new RepeatedString();
  /** Counts the changes of the session fields, so a remembered head knows whether its fields are still the session's. */
  private sessionVersion = 0;
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

  /** Tell the decoder a new buffer is in use: byte positions it remembered no longer apply. */
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
    s = skipSpace(b, s, e);
    while (e > s && b[e - 1]! <= 0x20) e--;
    if (s === e) return;
    if (b[s] !== 0x7b) return this.skipped(out, line, endOffset, 'not a JSON object');
    if (b[e - 1] !== 0x7d) return this.skipped(out, line, endOffset, 'cut short: the line does not end with "}"');
    if (this.summaryWindow > 0) this.summaryWindow--;

    if (this.firstTimestamp === undefined) {
      // The first lines, until one gives the first timestamp: read every field.
      this.decodeSkimmed(b, s, e, line, endOffset, out, true);
      return;
    }
    const after = afterParent(b, s, e);
    if (after >= 0) {
      const head = this.heads.match(b, s, after, e, this.fields, this.sessionVersion);
      if (head === undefined) {
        // A head not seen lately: read it field by field (and remember it).
        this.decodeSkimmed(b, s, e, line, endOffset, out, false);
      } else if (head.next === F.type) {
        this.decodeByType(b, s, e, head.valueAt, line, endOffset, out, true);
      } else {
        this.decodeFrom(b, s, e, head.keyAt, line, endOffset, out, head.sessionNoted);
      }
      return;
    }
    // Records outside the chain ({"type":... first) and other layouts.
    const typeAt = topLevelTypeValue(b, s, e);
    if (typeAt < 0) this.decodeSkimmed(b, s, e, line, endOffset, out, false);
    else this.decodeByType(b, s, e, typeAt, line, endOffset, out, false);
  }

  /**
   * A line whose top-level "type" value starts at `typeAt`, read no further:
   * most types need nothing more, the few that do are read field by field.
   * `headKnown` says whether `this.fields` holds the line's head fields.
   */
  private decodeByType(b: Buffer, s: number, e: number, typeAt: number, line: number, endOffset: number, out: TranscriptRecord[], headKnown: boolean): void {
    const typeEnd = b.indexOf(0x22, typeAt + 1) + 1;
    if (typeEnd <= typeAt || typeEnd > e) return this.skipped(out, line, endOffset, 'cut short inside the "type" value');
    if (stringValueIs(b, typeAt, typeEnd, USER)) {
      this.decodeUser(b, s, e, typeAt, line, endOffset, out, headKnown);
    } else if (stringValueIs(b, typeAt, typeEnd, PROGRESS)) {
      if (isAgentProgress(b, s, e, typeEnd)) this.decodeSkimmed(b, s, e, line, endOffset, out, true);
    } else if (stringValueIs(b, typeAt, typeEnd, ASSISTANT) || stringValueIs(b, typeAt, typeEnd, SYSTEM) || stringValueIs(b, typeAt, typeEnd, SUMMARY)) {
      this.decodeSkimmed(b, s, e, line, endOffset, out, true);
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
    let whole = false;
    try {
      whole = asObject(JSON.parse(text)) !== undefined;
    } catch {
      whole = false;
    }
    if (!whole) {
      this.skipped(out, line, endOffset, 'partial last line (no newline yet): left to read once it is complete');
      return false;
    }
    this.decodeLine(b, s, e, line, endOffset, out);
    return true;
  }

  /** The timestamp of the last line in `b[0, end)` that has one (looking back a few lines). */
  lastTimestamp(b: Buffer, end: number): string | undefined {
    let e = end;
    for (let n = 0; n < LAST_TIMESTAMP_LINES && e > 0; n++) {
      const nl = e > 0 && b[e - 1] === 0x0a ? e - 1 : e;
      const s = nl > 0 ? b.lastIndexOf(0x0a, nl - 1) + 1 : 0;
      const fields = this.fields;
      if (nl > s && fields.read(b, s, nl) && fields.has(F.timestamp)) {
        const ts = readString(b, fields.start[F.timestamp]!, fields.end[F.timestamp]!);
        if (ts !== undefined) return ts;
      }
      e = s;
    }
    return undefined;
  }

  // ---- skimmed lines -------------------------------------------------------

  /** Skim the line's fields (all of them, or with `full` false up to "type" for a user or progress line) and decode it by its type. */
  private decodeSkimmed(b: Buffer, s: number, e: number, line: number, endOffset: number, out: TranscriptRecord[], full: boolean): void {
    const fields = this.fields;
    // A user or progress line's large rest is not needed field by field.
    const stop = full || this.firstTimestamp === undefined ? undefined : stopAfterType;
    if (!fields.read(b, s, e, stop, this.readMessage)) return this.skipped(out, line, endOffset, `malformed JSON at column ${fields.errorAt - s + 1}`);
    this.dispatch(b, s, e, line, endOffset, out, false);
    // Learnt after the session fields are noted, so a line repeating the head has nothing new to note.
    this.heads.learn(b, afterParent(b, s, e), fields, this.sessionVersion);
  }

  /**
   * A line whose head is known (its fields set) and ends at "message": read
   * on from the message. `sessionNoted` says the head's session fields are
   * the session's now (nothing to compare).
   */
  private decodeFrom(b: Buffer, s: number, e: number, keyAt: number, line: number, endOffset: number, out: TranscriptRecord[], sessionNoted: boolean): void {
    if (!this.fields.readFrom(b, keyAt, e, stopAfterType, this.readMessage)) {
      return this.skipped(out, line, endOffset, `malformed JSON at column ${this.fields.errorAt - s + 1}`);
    }
    this.dispatch(b, s, e, line, endOffset, out, sessionNoted);
  }

  /** Decode a line whose fields are read, by its type. */
  private dispatch(b: Buffer, s: number, e: number, line: number, endOffset: number, out: TranscriptRecord[], sessionNoted: boolean): void {
    const fields = this.fields;
    if (fields.has(F.timestamp) && this.firstTimestamp === undefined) {
      const ts = readString(b, fields.start[F.timestamp]!, fields.end[F.timestamp]!);
      if (ts !== undefined) this.firstTimestamp = ts;
    }
    if (!sessionNoted) this.noteSession(b, line, endOffset, out);
    const ts = fields.start[F.type]!;
    const te = fields.end[F.type]!;
    if (ts < 0) return;
    if (stringValueIs(b, ts, te, ASSISTANT)) this.decodeAssistant(b, line, endOffset, out);
    else if (stringValueIs(b, ts, te, USER)) this.decodeUser(b, s, e, ts, line, endOffset, out, true);
    else if (stringValueIs(b, ts, te, SYSTEM)) this.decodeSystem(b, line, endOffset, out);
    else if (stringValueIs(b, ts, te, PROGRESS)) this.decodeProgress(b, s, e, line, endOffset, out);
    else if (stringValueIs(b, ts, te, SUMMARY)) this.decodeSummary(b, line, endOffset, out);
  }

  private decodeAssistant(b: Buffer, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const fields = this.fields;
    const m = this.message;
    if (fields.start[F.message]! < 0) return;
    const origin = this.origin(b);
    if (m.hasUsage) {
      const { input, output, cacheCreation, cacheRead } = m.counts;
      const record: TranscriptRecord = { kind: 'api-call', line, endOffset, ...origin, usage: { input, output, cacheCreation, cacheRead } };
      const messageId = m.idStart >= 0 ? this.messageIds.read(b, m.idStart, m.idEnd) : undefined;
      if (messageId !== undefined) record.messageId = messageId;
      const requestId = fields.has(F.requestId) ? this.requestIds.read(b, fields.start[F.requestId]!, fields.end[F.requestId]!) : undefined;
      if (requestId !== undefined) record.requestId = requestId;
      const model = m.modelStart >= 0 ? this.models.read(b, m.modelStart, m.modelEnd) : undefined;
      if (model !== undefined) record.model = model;
      const sessionId = this.session.sessionId;
      if (sessionId !== undefined) record.sessionId = sessionId;
      out.push(record);
    }
    const cs = m.contentStart;
    // The blocks are read only when a task or subagent tool is named in them (a native search).
    if (cs >= 0 && b[cs] === 0x5b && namesTaskTool(b, cs, m.contentEnd)) this.decodeToolUses(b, cs, m.contentEnd, origin, line, endOffset, out);
  }

  /** The tool_use blocks of an assistant message's content array that are task or subagent tools. */
  private decodeToolUses(b: Buffer, s: number, e: number, origin: RecordOrigin, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const block = this.inner;
    let i = skipSpace(b, s + 1, e);
    while (i < e && b[i] !== 0x5d) {
      const itemEnd = skipValue(b, i, e);
      if (itemEnd < 0) return;
      if (b[i] === 0x7b) {
        let isToolUse = false, idS = -1, idE = -1, nameS = -1, nameE = -1, inputS = -1, inputE = -1;
        block.open(b, i, itemEnd);
        while (block.next()) {
          if (!block.skip()) break;
          if (block.keyIs(K.type)) isToolUse = stringValueIs(b, block.valueStart, block.valueEnd, TOOL_USE);
          else if (block.keyIs(K.id)) (idS = block.valueStart), (idE = block.valueEnd);
          else if (block.keyIs(K.name)) (nameS = block.valueStart), (nameE = block.valueEnd);
          else if (block.keyIs(K.input)) (inputS = block.valueStart), (inputE = block.valueEnd);
        }
        if (isToolUse && nameS >= 0 && idS >= 0) {
          const name = readString(b, nameS, nameE);
          const id = readString(b, idS, idE);
          if (name !== undefined && id !== undefined && (TASK_TOOLS.has(name) || AGENT_TOOLS.has(name))) {
            const input = inputS >= 0 ? asObject(parseSlice(b, inputS, inputE)) : undefined;
            this.toolUse(name, id, input ?? {}, origin, line, endOffset, out);
          }
        }
      }
      i = skipSpace(b, itemEnd, e);
      if (b[i] === 0x2c) i = skipSpace(b, i + 1, e);
    }
  }

  private toolUse(name: string, id: string, input: Record<string, unknown>, origin: RecordOrigin, line: number, endOffset: number, out: TranscriptRecord[]): void {
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

  private decodeSystem(b: Buffer, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const fields = this.fields;
    if (!fields.has(F.subtype) || !stringValueIs(b, fields.start[F.subtype]!, fields.end[F.subtype]!, COMPACT_BOUNDARY)) return;
    const record: TranscriptRecord = { kind: 'compaction', line, endOffset, ...this.origin(b) };
    this.summaryWindow = SUMMARY_WINDOW;
    const logical = fields.has(F.logicalParentUuid) ? readString(b, fields.start[F.logicalParentUuid]!, fields.end[F.logicalParentUuid]!) : undefined;
    if (logical !== undefined) record.logicalParentUuid = logical;
    const ms = fields.start[F.compactMetadata]!;
    if (ms >= 0 && b[ms] === 0x7b) {
      const meta = this.inner;
      meta.open(b, ms, fields.end[F.compactMetadata]!);
      while (meta.next()) {
        if (!meta.skip()) break;
        if (meta.keyIs(K.trigger)) {
          const trigger = readString(b, meta.valueStart, meta.valueEnd);
          if (trigger !== undefined) record.trigger = trigger;
        } else if (meta.keyIs(K.preTokens)) {
          const pre = readNumber(b, meta.valueStart, meta.valueEnd);
          if (pre !== undefined) record.preTokens = pre;
        } else if (meta.keyIs(K.postTokens)) {
          const post = readNumber(b, meta.valueStart, meta.valueEnd);
          if (post !== undefined) record.postTokens = post;
        }
      }
    }
    out.push(record);
  }

  private decodeProgress(b: Buffer, s: number, e: number, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const fields = this.fields;
    if (!fields.complete) {
      // The skim stopped at "type": read the rest only for an agent_progress line.
      if (!isAgentProgress(b, s, e, fields.end[F.type]!)) return;
      if (!fields.read(b, s, e)) return this.skipped(out, line, endOffset, `malformed JSON at column ${fields.errorAt - s + 1}`);
    }
    const ds = fields.start[F.data]!;
    if (ds < 0 || b[ds] !== 0x7b) return;
    const data = this.inner;
    data.open(b, ds, fields.end[F.data]!);
    let isAgent = false;
    let agentId: string | undefined;
    while (data.next()) {
      if (!data.skip()) break;
      if (data.keyIs(K.type)) isAgent = stringValueIs(b, data.valueStart, data.valueEnd, AGENT_PROGRESS);
      else if (data.keyIs(K.agentId)) agentId = readString(b, data.valueStart, data.valueEnd);
    }
    if (!isAgent || agentId === undefined || !fields.has(F.parentToolUseID)) return;
    const toolUseId = readString(b, fields.start[F.parentToolUseID]!, fields.end[F.parentToolUseID]!);
    if (toolUseId !== undefined) this.link(agentId, toolUseId, 'agent_progress', line, endOffset, out);
  }

  private decodeSummary(b: Buffer, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const fields = this.fields;
    const summary = fields.has(F.summary) ? readString(b, fields.start[F.summary]!, fields.end[F.summary]!) : undefined;
    if (summary === undefined) return;
    const record: TranscriptRecord = { kind: 'summary', line, endOffset, summary };
    const leafUuid = fields.has(F.leafUuid) ? readString(b, fields.start[F.leafUuid]!, fields.end[F.leafUuid]!) : undefined;
    if (leafUuid !== undefined) {
      record.leafUuid = leafUuid;
      const leaf: Cursor = { needle: Buffer.from(`"uuid":"${leafUuid}"`), at: -2 };
      this.leaves.push(leaf);
      this.searchLeaf(b, leaf);
    }
    out.push(record);
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
   * A user line: its large rest is read only when a byte search finds in it
   * the result of a task or subagent call awaiting one, or a compaction
   * summary.
   */
  private decodeUser(b: Buffer, s: number, e: number, typeAt: number, line: number, endOffset: number, out: TranscriptRecord[], headKnown: boolean): void {
    // 1.0.x inline sidechains: every sidechain line is needed to follow its thread.
    const fields = this.fields;
    const sidechain = headKnown && fields.has(F.isSidechain)
      ? readBoolean(b, fields.start[F.isSidechain]!, fields.end[F.isSidechain]!) === true
      : lineHas(b, s, typeAt, SIDECHAIN_TRUE);
    if (this.agentId === undefined && sidechain) {
      if (!this.fields.read(b, s, e)) return this.skipped(out, line, endOffset, `malformed JSON at column ${this.fields.errorAt - s + 1}`);
      if (!this.fields.has(F.agentId)) this.followThread(b, line, endOffset, out);
    }
    // A compaction summary follows a compact_boundary, or starts a chain (older layouts): only there is it searched for.
    let wanted = (this.summaryWindow > 0 || startsWith(b, s, e, ROOT_START)) && this.nextIn(this.compactSummary, b, s, e);
    if (!wanted) {
      for (const use of this.pending.values()) {
        if (this.nextIn(use.cursor, b, s, e)) {
          wanted = true;
          break;
        }
      }
    }
    if (!wanted) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(b.toString('utf8', s, e));
    } catch (error) {
      return this.skipped(out, line, endOffset, `malformed JSON: ${(error as Error).message}`);
    }
    const record = asObject(parsed);
    if (record !== undefined) this.decodeUserObject(record, line, endOffset, out);
  }

  private decodeUserObject(record: Record<string, unknown>, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const origin = this.originOf(record);
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
    const content = message?.content;
    if (!Array.isArray(content)) return;
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
      const isError = block!.is_error === true;
      const at = { line, endOffset, ...origin, toolUseId: id, isError };
      if (TASK_TOOLS.has(use.tool)) {
        out.push({ kind: 'task-tool-result', ...at, tool: use.tool as TaskToolName, ...taskResultFacts(use.tool as TaskToolName, structured, text) });
      } else {
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
  }

  /** A 1.0.x inline sidechain line (fields read): note its thread; a thread's first line is tied to the Task call whose prompt it is. */
  private followThread(b: Buffer, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const fields = this.fields;
    const uuid = fields.has(F.uuid) ? readString(b, fields.start[F.uuid]!, fields.end[F.uuid]!) : undefined;
    if (uuid === undefined) return;
    const ps = fields.start[F.parentUuid]!;
    const isRoot = ps < 0 || isNull(b, ps, fields.end[F.parentUuid]!);
    this.threadRoot(uuid, isRoot ? undefined : readString(b, ps, fields.end[F.parentUuid]!));
    if (!isRoot || !fields.has(F.message)) return;
    const prompt = contentText(asObject(parseSlice(b, fields.start[F.message]!, fields.end[F.message]!))?.content);
    if (prompt === undefined) return;
    for (const [toolUseId, launched] of this.unlinkedPrompts) {
      if (launched === prompt) {
        this.unlinkedPrompts.delete(toolUseId);
        this.link(uuid, toolUseId, 'prompt', line, endOffset, out);
        return;
      }
    }
  }

  /** The thread (its first record's uuid) a sidechain record belongs to, remembered for its children. */
  private threadRoot(uuid: string, parentUuid: string | undefined): string {
    const root = parentUuid === undefined ? uuid : (this.threads.get(parentUuid) ?? this.lastThreadRoot ?? parentUuid);
    this.threads.set(uuid, root);
    if (this.threads.size > MAX_THREADS) this.threads.delete(this.threads.keys().next().value!);
    this.lastThreadRoot = root;
    return root;
  }

  // ---- shared --------------------------------------------------------------

  private link(agentId: string, toolUseId: string, via: 'agent_progress' | 'prompt', line: number, endOffset: number, out: TranscriptRecord[]): void {
    const key = `${agentId}\u0000${toolUseId}`;
    if (this.links.has(key)) return;
    this.links.add(key);
    if (this.links.size > MAX_LINKS) this.links.delete(this.links.keys().next().value!);
    out.push({ kind: 'subagent-link', line, endOffset, agentId, toolUseId, via });
  }

  /** The origin of the skimmed line in `this.fields`. */
  private origin(b: Buffer): RecordOrigin {
    const fields = this.fields;
    const isSidechain = fields.has(F.isSidechain) && readBoolean(b, fields.start[F.isSidechain]!, fields.end[F.isSidechain]!) === true;
    const origin: RecordOrigin = { isSidechain };
    const uuid = fields.has(F.uuid) ? readString(b, fields.start[F.uuid]!, fields.end[F.uuid]!) : undefined;
    let agentId = fields.has(F.agentId) ? this.agentIds.read(b, fields.start[F.agentId]!, fields.end[F.agentId]!) : undefined;
    agentId ??= this.agentId;
    if (agentId === undefined && isSidechain && uuid !== undefined) {
      const ps = fields.start[F.parentUuid]!;
      const parent = ps < 0 || isNull(b, ps, fields.end[F.parentUuid]!) ? undefined : readString(b, ps, fields.end[F.parentUuid]!);
      agentId = this.threadRoot(uuid, parent);
    }
    if (agentId !== undefined) origin.agentId = agentId;
    const timestamp = fields.has(F.timestamp) ? readString(b, fields.start[F.timestamp]!, fields.end[F.timestamp]!) : undefined;
    if (timestamp !== undefined) origin.timestamp = timestamp;
    if (uuid !== undefined) origin.uuid = uuid;
    return origin;
  }

  /** The origin of a parsed line. */
  private originOf(record: Record<string, unknown>): RecordOrigin {
    const isSidechain = record.isSidechain === true;
    const origin: RecordOrigin = { isSidechain };
    const uuid = asString(record.uuid);
    let agentId = asString(record.agentId) ?? this.agentId;
    if (agentId === undefined && isSidechain && uuid !== undefined) agentId = this.threads.get(uuid) ?? this.lastThreadRoot;
    if (agentId !== undefined) origin.agentId = agentId;
    const timestamp = asString(record.timestamp);
    if (timestamp !== undefined) origin.timestamp = timestamp;
    if (uuid !== undefined) origin.uuid = uuid;
    return origin;
  }

  /** Emit a session-info record when the skimmed line names a session, folder, version or branch other than the last. */
  private noteSession(b: Buffer, line: number, endOffset: number, out: TranscriptRecord[]): void {
    const fields = this.fields;
    let changed: SessionInfoRecord | undefined;
    for (const [key, slot] of SESSION_KEYS) {
      const vs = fields.start[slot]!;
      if (vs < 0) continue;
      const known = this.session[key];
      if (known !== undefined && sameString(b, vs, fields.end[slot]!, known)) continue;
      const value = readString(b, vs, fields.end[slot]!);
      if (value === undefined || value === known) continue;
      this.session[key] = value;
      changed ??= { kind: 'session-info', line, endOffset };
    }
    if (changed === undefined) return;
    this.sessionVersion++;
    for (const [key] of SESSION_KEYS) {
      const value = this.session[key];
      if (value !== undefined) changed[key] = value;
    }
    const timestamp = fields.has(F.timestamp) ? readString(b, fields.start[F.timestamp]!, fields.end[F.timestamp]!) : undefined;
    if (timestamp !== undefined) changed.timestamp = timestamp;
    out.push(changed);
  }

  private addPending(id: string, tool: string): void {
    this.pending.set(id, { id, tool, cursor: { needle: Buffer.from(`"tool_use_id":"${id}"`), at: -2 } });
    if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
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

  private skipped(out: TranscriptRecord[], line: number, endOffset: number, reason: string): void {
    out.push({ kind: 'skipped', line, endOffset, file: this.file, reason });
  }
}

/** Stop a skim at "type" for the lines whose rest is not needed field by field. */
function stopAfterType(b: Buffer, start: number, end: number): boolean {
  return stringValueIs(b, start, end, USER) || stringValueIs(b, start, end, PROGRESS);
}

/**
 * The position of the top-level "type" value's opening quote, when "type"
 * comes before anything nested (then it can only be the top level's), else -1.
 * A raw `"type":"` can only be a key with a string value (inside a string its
 * quotes would be escaped), and nothing nests without a `{` (an array holds
 * a "type" key only inside an object). Two native searches, no byte loop.
 */
function topLevelTypeValue(b: Buffer, s: number, e: number): number {
  const at = b.indexOf(TYPE_KEY, s);
  if (at < 0 || at >= e) return -1;
  const brace = b.indexOf(0x7b, s + 1);
  return brace >= 0 && brace < at ? -1 : at + TYPE_KEY.length - 1;
}

/** Whether a progress line is an agent_progress one: its data's type, read right after the top-level type when it is there, else searched for. */
function isAgentProgress(b: Buffer, s: number, e: number, typeEnd: number): boolean {
  let k = 0;
  while (k < DATA_THEN_TYPE.length && b[typeEnd + k] === DATA_THEN_TYPE[k]) k++;
  if (k === DATA_THEN_TYPE.length) {
    const vs = typeEnd + k - 1;
    const ve = b.indexOf(0x22, vs + 1) + 1;
    return ve > vs && ve <= e && stringValueIs(b, vs, ve, AGENT_PROGRESS);
  }
  return lineHas(b, s, e, AGENT_PROGRESS_VALUE);
}

/** True when a `"name":"` key in `b[s, e)` names a task or subagent tool (or a tool whose name starts as theirs). */
function namesTaskTool(b: Buffer, s: number, e: number): boolean {
  const region = b.subarray(s, e);
  for (let at = region.indexOf(NAME_KEY); at >= 0; at = region.indexOf(NAME_KEY, at + 1)) {
    const v = at + NAME_KEY.length;
    for (const prefix of TOOL_NAME_PREFIXES) {
      let k = 0;
      while (k < prefix.length && region[v + k] === prefix[k]) k++;
      if (k === prefix.length) return true;
    }
  }
  return false;
}

/** True when the line `b[s, e)` starts with `prefix`. */
function startsWith(b: Buffer, s: number, e: number, prefix: Uint8Array): boolean {
  if (e - s < prefix.length) return false;
  for (let k = 0; k < prefix.length; k++) if (b[s + k] !== prefix[k]) return false;
  return true;
}

/** True when `needle` occurs within `b[s, e)`. */
function lineHas(b: Buffer, s: number, e: number, needle: Buffer): boolean {
  return e - s >= needle.length && b.subarray(s, e).indexOf(needle) >= 0;
}

/** True when the string value at `b[s, e)` is `text` (no escapes in either). */
function sameString(b: Buffer, s: number, e: number, text: string): boolean {
  if (e - s - 2 !== text.length) return false;
  for (let k = 0; k < text.length; k++) if (b[s + 1 + k] !== text.charCodeAt(k)) return false;
  return true;
}
