// Reads an assistant line's `message` (the Anthropic API Message) for its id,
// model, usage and the position of its content, without stepping through the
// content, which holds the reply's text and tool inputs (often most of the
// line). `usage` comes after `content` in every layout seen, and it is the
// last `"usage":{` on the line (nothing after the message has one), so the
// reader jumps there; the structure after it must then close the message
// exactly, or the caller reads the line again without the jump.

import { ascii, ObjectSkimmer, skipContainer, stringValueIs } from './jsonSkim.js';

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
};

/** Where an assistant message's fields are on the line (-1 when absent). */
export class AssistantMessage {
  idStart = -1;
  idEnd = -1;
  modelStart = -1;
  modelEnd = -1;
  usageStart = -1;
  usageEnd = -1;
  contentStart = -1;
  /** The end of the content value, or, when the reader jumped over it, a bound it ends before. */
  contentEnd = -1;
  /** True when `contentEnd` is a bound only (the content was jumped over, not read). */
  jumped = false;
  private readonly skim = new ObjectSkimmer();

  /** Read the message whose `{` is at `start`; returns the position just after it, or -1 when it is not well formed. */
  read(b: Buffer, start: number, end: number, jump: boolean): number {
    this.idStart = this.idEnd = this.modelStart = this.modelEnd = -1;
    this.usageStart = this.usageEnd = this.contentStart = this.contentEnd = -1;
    this.jumped = false;
    const m = this.skim;
    if (!m.open(b, start, end)) return -1;
    // Only an API reply (role "assistant" or type "message" before its content) is jumped over.
    let reply = false;
    while (m.next()) {
      if (jump && reply && !this.jumped && m.keyIs(K.content)) {
        const at = b.lastIndexOf(USAGE_KEY, end - USAGE_KEY.length);
        const usageStart = at + USAGE_KEY.length - 1;
        const usageEnd = at > m.valueStart ? skipContainer(b, usageStart, end) : -1;
        if (usageEnd > 0) {
          this.contentStart = m.valueStart;
          this.contentEnd = at;
          this.jumped = true;
          this.usageStart = usageStart;
          this.usageEnd = usageEnd;
          // Go on after the usage value as if the members between had been read.
          if (!m.skipTo(usageEnd)) return -1;
          continue;
        }
      }
      if (!m.skip()) return -1;
      if (m.keyIs(K.id)) (this.idStart = m.valueStart), (this.idEnd = m.valueEnd);
      else if (m.keyIs(K.model)) (this.modelStart = m.valueStart), (this.modelEnd = m.valueEnd);
      else if (m.keyIs(K.usage)) (this.usageStart = m.valueStart), (this.usageEnd = m.valueEnd);
      else if (m.keyIs(K.content)) (this.contentStart = m.valueStart), (this.contentEnd = m.valueEnd);
      else if (m.keyIs(K.role)) reply ||= stringValueIs(b, m.valueStart, m.valueEnd, ASSISTANT);
      else if (m.keyIs(K.type)) reply ||= stringValueIs(b, m.valueStart, m.valueEnd, MESSAGE);
    }
    return m.closed ? m.pos : -1;
  }
}
