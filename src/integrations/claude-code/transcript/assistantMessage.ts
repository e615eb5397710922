// Reads an assistant line's `message` (the Anthropic API Message) for its id,
// model, usage counts and where its content is. The content is stepped over,
// not read: a string at a time, natively, which also checks that the line is
// whole (a record cut short and another written after it fails here).

import { ascii, ObjectSkimmer, readNumber } from './jsonSkim.js';
import type { TokenCounts } from './types.js';

const K = {
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
  contentStart = -1;
  contentEnd = -1;
  /** Set when the message has a `usage` object; `counts` then holds it. */
  hasUsage = false;
  readonly counts: TokenCounts = { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 };
  private readonly skim = new ObjectSkimmer();
  private readonly usage = new ObjectSkimmer();

  /** Read the message whose `{` is at `start`; returns the position just after it, or -1 when it is not well formed. */
  read(b: Buffer, start: number, end: number): number {
    this.idStart = this.idEnd = this.modelStart = this.modelEnd = this.contentStart = this.contentEnd = -1;
    this.hasUsage = false;
    const m = this.skim;
    if (!m.open(b, start, end)) return -1;
    while (m.next()) {
      if (m.keyIs(K.usage)) {
        const usageEnd = this.readUsage(b, m.valueStart, end);
        if (usageEnd < 0 ? !m.skip() : !m.skipTo(usageEnd)) return -1;
        continue;
      }
      if (!m.skip()) return -1;
      if (m.keyIs(K.id)) (this.idStart = m.valueStart), (this.idEnd = m.valueEnd);
      else if (m.keyIs(K.model)) (this.modelStart = m.valueStart), (this.modelEnd = m.valueEnd);
      else if (m.keyIs(K.content)) (this.contentStart = m.valueStart), (this.contentEnd = m.valueEnd);
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
