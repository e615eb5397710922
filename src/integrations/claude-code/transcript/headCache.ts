// Consecutive transcript lines repeat their envelope byte for byte: after
// `parentUuid` come the same isSidechain, userType, cwd, sessionId, version,
// gitBranch and slug, up to "type" (user, progress and system lines) or
// "message" (assistant lines). The decoder reads one such head field by
// field, and recognises the next lines that repeat it with one memcmp,
// reusing where its fields are instead of reading them again.

import { F, type RecordFields } from './recordFields.js';

const PARENT_KEY = '{"parentUuid":';
const PARENT_KEY_LENGTH = PARENT_KEY.length;
/** Heads remembered at once: a file alternates between a few (user/progress lines, assistant lines, a root line). */
const ENTRIES = 4;
/** The head fields a cached head can carry, with where their values sit relative to the head's start. */
const HEAD_SLOTS = [F.isSidechain, F.sessionId, F.cwd, F.version, F.gitBranch, F.agentId, F.uuid, F.timestamp, F.requestId, F.subtype] as const;

/** A known head: its bytes, where its fields are, and what follows it. */
interface Head {
  bytes: Buffer;
  /** Triples of slot, value start, value end, relative to the head's start. */
  slots: number[];
  /** The member the head ends with: its key and colon are the head's last bytes but one (the value's first byte is last). */
  next: typeof F.type | typeof F.message;
  /** The decoder's session-fields version when the head was learnt. */
  sessionVersion: number;
}

/** What a known head gives: the next member and where its value starts. */
export interface HeadMatch {
  next: typeof F.type | typeof F.message;
  valueAt: number;
  /** Where the member's key starts, to go on reading from there. */
  keyAt: number;
  /** True when the session fields have not changed since the head was learnt: the head's are the session's. */
  sessionNoted: boolean;
}

/** The position just after a chain line's `parentUuid` value and its comma, or -1 when the line does not start that way. */
export function afterParent(b: Buffer, s: number, e: number): number {
  if (e - s < PARENT_KEY_LENGTH + 8) return -1;
  for (let k = 0; k < PARENT_KEY_LENGTH; k++) if (b[s + k] !== PARENT_KEY.charCodeAt(k)) return -1;
  const v = s + PARENT_KEY_LENGTH;
  let after: number;
  if (b[v] === 0x6e) {
    after = v + 4; // null
  } else if (b[v] === 0x22) {
    // A uuid: no quote or backslash inside, so the first quote closes it.
    let q = v + 1;
    while (q < e && b[q] !== 0x22 && b[q] !== 0x5c) q++;
    if (b[q] !== 0x22) return -1;
    after = q + 1;
  } else {
    return -1;
  }
  return b[after] === 0x2c ? after + 1 : -1;
}

/** The few heads seen last, most recent first. */
export class HeadCache {
  private readonly heads: Head[] = [];

  /**
   * When the line's bytes from `after` (see {@link afterParent}) repeat a
   * known head, set `fields` as that head has them (positions in this line)
   * and say what follows; else undefined.
   */
  match(b: Buffer, s: number, after: number, e: number, fields: RecordFields, sessionVersion: number): HeadMatch | undefined {
    const heads = this.heads;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      const n = head.bytes.length;
      if (e - after <= n || b.compare(head.bytes, 0, n, after, after + n) !== 0) continue;
      if (i > 0) {
        heads.splice(i, 1);
        heads.unshift(head);
      }
      fields.clear();
      fields.start[F.parentUuid] = s + PARENT_KEY_LENGTH;
      fields.end[F.parentUuid] = after - 1;
      const slots = head.slots;
      for (let k = 0; k < slots.length; k += 3) {
        fields.start[slots[k]!] = after + slots[k + 1]!;
        fields.end[slots[k]!] = after + slots[k + 2]!;
      }
      const valueAt = after + n - 1;
      const keyAt = head.next === F.type ? valueAt - 7 : valueAt - 10; // "type": / "message":
      return { next: head.next, valueAt, keyAt, sessionNoted: head.sessionVersion === sessionVersion };
    }
    return undefined;
  }

  /** Remember the head of a line whose fields were just read from its start, when it has one worth remembering. */
  learn(b: Buffer, after: number, fields: RecordFields, sessionVersion: number): void {
    const keyAt = fields.headKeyAt;
    if (after < 0 || keyAt < after || !fields.headFlat) return;
    const next = fields.start[F.type] === keyAt + 7 ? F.type : fields.start[F.message] === keyAt + 10 ? F.message : -1;
    if (next < 0) return;
    const valueAt = fields.start[next]!;
    const slots: number[] = [];
    for (const slot of HEAD_SLOTS) {
      const vs = fields.start[slot]!;
      if (vs >= after && vs < keyAt) slots.push(slot, vs - after, fields.end[slot]! - after);
    }
    // The head ends with the value's first byte (`"` or `{`), so a match also says what kind of value follows.
    const bytes = Buffer.from(b.subarray(after, valueAt + 1));
    this.heads.unshift({ bytes, slots, next: next as Head['next'], sessionVersion });
    if (this.heads.length > ENTRIES) this.heads.pop();
  }
}
