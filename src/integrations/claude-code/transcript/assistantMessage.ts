// Reads an assistant line's `message` (the Anthropic API Message) for its id,
// model, usage counts and the position of its content, without stepping
// through the content, which holds the reply's text and tool inputs (often
// most of the line). `usage` comes after `content` in every layout seen, and
// it is the last `"usage":{` on the line (nothing after the message has one),
// so the reader jumps there; the structure after it must then close the
// message exactly, or the caller reads the line again without the jump.

import { ascii, ObjectSkimmer, readNumber, stringValueIs } from './jsonSkim.js';
import type { TokenCounts } from './types.js';

const USAGE_KEY = Buffer.from('"usage":{');
const ASSISTANT = ascii('assistant');
const MESSAGE = ascii('message');
const K = {
  role: ascii('role'),
  type: ascii('type'),
  id: ascii('id'),
  model: ascii('model'),
  usage: ascii('usage'),
  content: ascii('content'),
  inputTokens: ascii('input_tokens'),
  outputTokens: ascii('output_tokens'),
  cacheCreation: ascii('cache_creation_input_tokens'),
  cacheRead: ascii('cache_read_input_tokens'),
};

/** Where an assistant message's fields are on the line (-1 when absent), and its usage counts. */
export class AssistantMessage {
  idStart = -1;
  idEnd = -1;
  modelStart = -1;
  modelEnd = -1;
  /** Set when the message has a `usage` object; `counts` then holds it. */
  hasUsage = false;
  readonly counts: TokenCounts = { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 };
  contentStart = -1;
  /** The end of the content value, or, when the reader jumped over it, a bound it ends before. */
  contentEnd = -1;
  /** True when `contentEnd` is a bound only (the content was jumped over, not read). */
  jumped = false;
  private readonly skim = new ObjectSkimmer();
  private readonly usage = new ObjectSkimmer();

  /** Read the message whose `{` is at `start`; returns the position just after it, or -1 when it is not well formed. */
  read(b: Buffer, start: number, end: number, jump: boolean): number {
    this.idStart = this.idEnd = this.modelStart = this.modelEnd = -1;
    this.contentStart = this.contentEnd = -1;
    this.hasUsage = this.jumped = false;
    const m = this.skim;
    if (!m.open(b, start, end)) return -1;
    // Only an API reply (role "assistant" or type "message" before its content) is jumped over.
    let reply = false;
    while (m.next()) {
      if (m.keyIs(K.content) && jump && reply && !this.jumped) {
        const at = lastUsageKey(b, m.valueStart, end);
        const usageEnd = at < 0 ? -1 : this.readUsage(b, at + USAGE_KEY.length - 1, end);
        if (usageEnd > 0) {
          this.contentStart = m.valueStart;
          this.contentEnd = at;
          this.jumped = true;
          // Go on after the usage value as if the members between had been read.
          if (!m.skipTo(usageEnd)) return -1;
          continue;
        }
      }
      if (m.keyIs(K.usage)) {
        const usageEnd = this.readUsage(b, m.valueStart, end);
        if (usageEnd < 0 ? !m.skip() : !m.skipTo(usageEnd)) return -1;
        continue;
      }
      if (!m.skip()) return -1;
      if (m.keyIs(K.id)) (this.idStart = m.valueStart), (this.idEnd = m.valueEnd);
      else if (m.keyIs(K.model)) (this.modelStart = m.valueStart), (this.modelEnd = m.valueEnd);
      else if (m.keyIs(K.content)) (this.contentStart = m.valueStart), (this.contentEnd = m.valueEnd);
      else if (m.keyIs(K.role)) reply ||= stringValueIs(b, m.valueStart, m.valueEnd, ASSISTANT);
      else if (m.keyIs(K.type)) reply ||= stringValueIs(b, m.valueStart, m.valueEnd, MESSAGE);
    }
    return m.closed ? m.pos : -1;
  }

  /** Read the usage object at `start` into `counts`; returns the position after it, or -1 when it is not an object. */
  private readUsage(b: Buffer, start: number, end: number): number {
    const counts = this.counts;
    counts.input = counts.output = counts.cacheCreation = counts.cacheRead = 0;
    const u = this.usage;
    if (!u.open(b, start, end)) return -1;
    while (u.next()) {
      if (!u.skip()) return -1;
      if (u.keyIs(K.inputTokens)) counts.input = readNumber(b, u.valueStart, u.valueEnd) ?? 0;
      else if (u.keyIs(K.outputTokens)) counts.output = readNumber(b, u.valueStart, u.valueEnd) ?? 0;
      else if (u.keyIs(K.cacheCreation)) counts.cacheCreation = readNumber(b, u.valueStart, u.valueEnd) ?? 0;
      else if (u.keyIs(K.cacheRead)) counts.cacheRead = readNumber(b, u.valueStart, u.valueEnd) ?? 0;
    }
    if (!u.closed) return -1;
    this.hasUsage = true;
    return u.pos;
  }
}

/** Where the last `"usage":{` of `b[from, end)` starts, or -1 (a native search back from the end, where the usage sits). */
function lastUsageKey(b: Buffer, from: number, end: number): number {
  const at = b.lastIndexOf(USAGE_KEY, end - USAGE_KEY.length);
  return at > from ? at : -1;
}
