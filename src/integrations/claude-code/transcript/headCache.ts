// Consecutive transcript lines repeat their envelope byte for byte: after
// `parentUuid` come the same isSidechain, userType, cwd, sessionId, version,
// gitBranch and slug, up to "type" (user, progress and system lines) or
// "message" (assistant lines). Each head is found once by native searches and
// then recognised on the next lines with one memcmp, so most lines are
// classified without a byte of them being looked at by JavaScript.

const PARENT_KEY = Buffer.from('{"parentUuid":');
const TYPE_KEY = Buffer.from('"type":"');
const MESSAGE_KEY = Buffer.from('"message":');
const SIDECHAIN_TRUE = Buffer.from('"isSidechain":true');
/** Heads remembered at once: a file alternates between a few (user/progress lines, assistant lines, a root line). */
const ENTRIES = 4;

/** What a known head says of a line. */
export interface Head {
  /** The head's bytes, from after the parentUuid value to the first byte of the "type" or "message" value. */
  readonly bytes: Buffer;
  /** The member the head ends with. */
  readonly next: 'type' | 'message';
  /** The head's `isSidechain` is true. */
  readonly isSidechain: boolean;
}

/**
 * True when `b` holds `bytes` at `at`. A byte loop: for the few bytes compared
 * here it costs less than a call of Buffer#compare (whose argument checks
 * alone are ~100 ns).
 */
export function bytesAt(b: Buffer, at: number, bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (at < 0 || at + n > b.length) return false;
  for (let k = 0; k < n; k++) if (b[at + k] !== bytes[k]) return false;
  return true;
}

/** The position just after a chain line's `parentUuid` value and its comma, or -1 when the line does not start that way. */
export function afterParent(b: Buffer, s: number, e: number): number {
  if (e - s < 24 || !bytesAt(b, s, PARENT_KEY)) return -1;
  const v = s + PARENT_KEY.length;
  let after: number;
  if (b[v] === 0x6e) {
    after = v + 4; // null
  } else if (b[v] === 0x22) {
    // A uuid: no escapes inside, so the first quote closes it.
    const q = b.indexOf(0x22, v + 1);
    if (q < 0 || q >= e || b[q - 1] === 0x5c) return -1;
    after = q + 1;
  } else {
    return -1;
  }
  return b[after] === 0x2c ? after + 1 : -1;
}

/**
 * The position of a line's top-level "type" value (its opening quote) when
 * "type" comes before anything nested, else -1. A raw `"type":"` can only be
 * a key with a string value (inside a string its quotes would be escaped),
 * and nothing nests without a `{` before it (an array holds a key only in an
 * object). Two native searches.
 */
export function topLevelTypeAt(b: Buffer, from: number, e: number): number {
  const at = b.indexOf(TYPE_KEY, from);
  if (at < 0 || at >= e) return -1;
  const brace = b.indexOf(0x7b, from);
  return brace >= 0 && brace < at ? -1 : at + TYPE_KEY.length - 1;
}

/** The few heads seen last, most recent first. */
export class HeadCache {
  private readonly heads: Head[] = [];

  /**
   * The head of the chain line `b[s, e)` whose parentUuid value ends at
   * `after`, and where the value it ends with starts; undefined when the line
   * has no head of the two kinds (something else nests first).
   */
  find(b: Buffer, after: number, e: number): { head: Head; valueAt: number } | undefined {
    const heads = this.heads;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      const bytes = head.bytes;
      const n = bytes.length;
      // The head's last bytes (`:"` or `:{` at its length) tell most heads apart before the memcmp.
      if (e - after <= n || b[after + n - 1] !== bytes[n - 1] || b[after + n - 2] !== bytes[n - 2] || b[after + n - 3] !== bytes[n - 3]) continue;
      if (b.compare(bytes, 0, n, after, after + n) !== 0) continue;
      if (i > 0) {
        heads.splice(i, 1);
        heads.unshift(head);
      }
      return { head, valueAt: after + n - 1 };
    }
    return this.learn(b, after, e);
  }

  private learn(b: Buffer, after: number, e: number): { head: Head; valueAt: number } | undefined {
    let next: Head['next'];
    let valueAt = topLevelTypeAt(b, after, e);
    if (valueAt >= 0) {
      next = 'type';
    } else {
      // The first nesting: a head only when it is the message's object.
      const brace = b.indexOf(0x7b, after);
      if (brace < 0 || brace >= e || brace - MESSAGE_KEY.length < after || !bytesAt(b, brace - MESSAGE_KEY.length, MESSAGE_KEY)) return undefined;
      next = 'message';
      valueAt = brace;
    }
    const bytes = Buffer.from(b.subarray(after, valueAt + 1));
    const head: Head = { bytes, next, isSidechain: bytes.includes(SIDECHAIN_TRUE) };
    this.heads.unshift(head);
    if (this.heads.length > ENTRIES) this.heads.pop();
    return { head, valueAt };
  }
}
