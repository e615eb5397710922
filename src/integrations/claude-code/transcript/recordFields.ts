// The top-level fields of a transcript line that the decoder reads, found by
// one skim of the line: for each, where its value starts and ends (-1 when
// absent). One instance is reused for every line.

import { ObjectSkimmer } from './jsonSkim.js';

/** Field slots, by index into {@link RecordFields.start} / {@link RecordFields.end}. */
export const F = {
  type: 0,
  parentUuid: 1,
  isSidechain: 2,
  sessionId: 3,
  cwd: 4,
  version: 5,
  gitBranch: 6,
  agentId: 7,
  uuid: 8,
  timestamp: 9,
  subtype: 10,
  message: 11,
  requestId: 12,
  compactMetadata: 13,
  logicalParentUuid: 14,
  summary: 15,
  leafUuid: 16,
  data: 17,
  parentToolUseID: 18,
  toolUseResult: 19,
  isCompactSummary: 20,
} as const;

const SLOTS = 21;

/** The value positions of one line's top-level fields. */
export class RecordFields {
  readonly start = new Int32Array(SLOTS);
  readonly end = new Int32Array(SLOTS);
  private readonly skim = new ObjectSkimmer();
  /** Where the skim failed (a malformed line), or -1. */
  errorAt = -1;
  /** False when the last read stopped early at "type". */
  complete = false;
  /**
   * Where the first top-level "type" or "message" key starts (its quote), and
   * whether every member before it was flat (no object or array value): the
   * line's head, which the next lines often repeat byte for byte.
   */
  headKeyAt = -1;
  headFlat = true;

  /** True when the field was on the line. */
  has(slot: number): boolean {
    return this.start[slot]! >= 0;
  }

  /**
   * Skim the object on `b[s, e)`, noting the fields above. With `stopAtType`
   * the skim stops once `type` is read when `stopAtType(typeStart, typeEnd)`
   * says the rest is not needed. `readMessage`, when given, reads the
   * `message` value and returns where it ends (or -1 to have it skimmed).
   * False when the line is malformed.
   */
  read(
    b: Buffer,
    s: number,
    e: number,
    stopAtType?: (b: Buffer, start: number, end: number) => boolean,
    readMessage?: (b: Buffer, start: number, end: number) => number,
  ): boolean {
    this.start.fill(-1);
    this.end.fill(-1);
    const skim = this.skim;
    if (!skim.open(b, s, e)) {
      this.errorAt = skim.errorAt;
      return false;
    }
    return this.members(b, e, stopAtType, readMessage);
  }

  /**
   * Go on reading the line's members from `pos` (the start of a member's key),
   * the fields before it being set already (from a known head).
   */
  readFrom(
    b: Buffer,
    pos: number,
    e: number,
    stopAtType?: (b: Buffer, start: number, end: number) => boolean,
    readMessage?: (b: Buffer, start: number, end: number) => number,
  ): boolean {
    this.skim.resume(b, pos, e);
    return this.members(b, e, stopAtType, readMessage);
  }

  /** Clear every field, for a line whose head fields are then set from a known head. */
  clear(): void {
    this.start.fill(-1);
    this.end.fill(-1);
  }

  private members(
    b: Buffer,
    e: number,
    stopAtType: ((b: Buffer, start: number, end: number) => boolean) | undefined,
    readMessage: ((b: Buffer, start: number, end: number) => number) | undefined,
  ): boolean {
    this.errorAt = -1;
    this.complete = false;
    this.headKeyAt = -1;
    this.headFlat = true;
    const skim = this.skim;
    while (skim.next()) {
      const slot = slotOf(b, skim.keyStart, skim.keyEnd);
      if (this.headKeyAt < 0) {
        if (slot === F.type || slot === F.message) this.headKeyAt = skim.keyStart - 1;
        else if (b[skim.valueStart] === 0x7b || b[skim.valueStart] === 0x5b) this.headFlat = false;
      }
      if (slot === F.message && readMessage !== undefined) {
        // The message reader steps over the value its own way and says where it ends.
        const valueEnd = readMessage(b, skim.valueStart, e);
        if (valueEnd < 0 ? !skim.skip() : !skim.skipTo(valueEnd)) break;
      } else if (!skim.skip()) break;
      if (slot < 0) continue;
      this.start[slot] = skim.valueStart;
      this.end[slot] = skim.valueEnd;
      if (slot === F.type && stopAtType !== undefined && stopAtType(b, skim.valueStart, skim.valueEnd)) return true;
    }
    if (skim.failed || !skim.closed) {
      this.errorAt = skim.errorAt;
      return false;
    }
    // Anything but whitespace after the object means two records ran together.
    for (let k = skim.pos; k < e; k++) {
      if (b[k]! > 0x20) {
        this.errorAt = k;
        return false;
      }
    }
    this.complete = true;
    return true;
  }
}

/** The slot of the key at `b[ks, ke)`, or -1 for a key the decoder does not read. */
function slotOf(b: Buffer, ks: number, ke: number): number {
  // A switch on the length, then the bytes: no string is built for a key.
  switch (ke - ks) {
    case 3:
      return is(b, ks, 'cwd') ? F.cwd : -1;
    case 4:
      if (is(b, ks, 'type')) return F.type;
      if (is(b, ks, 'uuid')) return F.uuid;
      return is(b, ks, 'data') ? F.data : -1;
    case 7:
      switch (b[ks]) {
        case 0x6d: // m
          return is(b, ks, 'message') ? F.message : -1;
        case 0x76: // v
          return is(b, ks, 'version') ? F.version : -1;
        case 0x61: // a
          return is(b, ks, 'agentId') ? F.agentId : -1;
        case 0x73: // s
          if (is(b, ks, 'subtype')) return F.subtype;
          return is(b, ks, 'summary') ? F.summary : -1;
        default:
          return -1;
      }
    case 8:
      return is(b, ks, 'leafUuid') ? F.leafUuid : -1;
    case 9:
      switch (b[ks]) {
        case 0x73: // s
          return is(b, ks, 'sessionId') ? F.sessionId : -1;
        case 0x67: // g
          return is(b, ks, 'gitBranch') ? F.gitBranch : -1;
        case 0x72: // r
          return is(b, ks, 'requestId') ? F.requestId : -1;
        case 0x74: // t
          return is(b, ks, 'timestamp') ? F.timestamp : -1;
        default:
          return -1;
      }
    case 10:
      return is(b, ks, 'parentUuid') ? F.parentUuid : -1;
    case 11:
      return is(b, ks, 'isSidechain') ? F.isSidechain : -1;
    case 13:
      return is(b, ks, 'toolUseResult') ? F.toolUseResult : -1;
    case 15:
      if (is(b, ks, 'compactMetadata')) return F.compactMetadata;
      return is(b, ks, 'parentToolUseID') ? F.parentToolUseID : -1;
    case 16:
      return is(b, ks, 'isCompactSummary') ? F.isCompactSummary : -1;
    case 17:
      return is(b, ks, 'logicalParentUuid') ? F.logicalParentUuid : -1;
    default:
      return -1;
  }
}

/** True when the bytes at `b[at...]` spell `text` (ASCII); the caller has checked the length. */
function is(b: Buffer, at: number, text: string): boolean {
  for (let k = 0; k < text.length; k++) if (b[at + k] !== text.charCodeAt(k)) return false;
  return true;
}
