// A forward-only skimmer over the bytes of one JSON text: it finds where
// members and values start and end without building them, so a line's few
// needed fields can be read (or JSON.parse'd as a slice) while the large ones
// (tool results, file contents) are stepped over. It checks the structure it
// steps over (string ends, bracket depth), not the grammar inside scalars.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Strings longer than this are searched with the native `indexOf` instead of a byte loop. */
const SHORT_STRING = 48;

/** True for JSON whitespace (and any control byte, which a line can only hold by mistake). */
const isSpace = (c: number): boolean => c <= 0x20;

/** The first position at or after `i` that is not whitespace (or `end`). */
export function skipSpace(b: Buffer, i: number, end: number): number {
  while (i < end && isSpace(b[i]!)) i++;
  return i;
}

/** The position just after the string whose opening quote is at `i`, or -1 when it does not close before `end`. */
export function skipString(b: Buffer, i: number, end: number): number {
  let j = i + 1;
  // Most strings here are short (ids, keys, paths): a byte loop beats a native call.
  const shortEnd = Math.min(end, j + SHORT_STRING);
  while (j < shortEnd) {
    const c = b[j]!;
    if (c === QUOTE) return j + 1;
    j += c === BACKSLASH ? 2 : 1;
  }
  while (j < end) {
    const q = b.indexOf(QUOTE, j);
    if (q < 0 || q >= end) return -1;
    // The quote is escaped when an odd number of backslashes stands before it.
    let k = q - 1;
    while (k >= j && b[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    j = q + 1;
  }
  return -1;
}

/** The position just after the object or array opening at `i`, or -1 when it does not close before `end`. */
export function skipContainer(b: Buffer, i: number, end: number): number {
  let depth = 0;
  let j = i;
  while (j < end) {
    const c = b[j]!;
    if (c === QUOTE) {
      j = skipString(b, j, end);
      if (j < 0) return -1;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return j + 1;
    }
    j++;
  }
  return -1;
}

/** The position just after the value starting at `i` (no leading whitespace), or -1 when it is cut short. */
export function skipValue(b: Buffer, i: number, end: number): number {
  if (i >= end) return -1;
  const c = b[i]!;
  if (c === QUOTE) return skipString(b, i, end);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) return skipContainer(b, i, end);
  let j = i;
  while (j < end) {
    const d = b[j]!;
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isSpace(d)) break;
    j++;
  }
  return j > i ? j : -1;
}

/**
 * Steps through the members of one JSON object: `next()` reads a key and
 * stops at its value (so a caller can peek into it), `skip()` steps over the
 * value. One instance is reused for every line, so reading allocates nothing.
 */
export class ObjectSkimmer {
  b: Buffer = Buffer.alloc(0);
  end = 0;
  /** Where the next member (or the closing brace) is looked for. */
  pos = 0;
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  /** Set when the object is malformed or cut short; `errorAt` is the byte where it was noticed. */
  failed = false;
  errorAt = 0;
  /** Set once the closing brace is read; `pos` is then just after it. */
  closed = false;
  private valuePending = false;

  /** Start on the object whose `{` is at or after `i` (after whitespace); false when none is there. */
  open(b: Buffer, i: number, end: number): boolean {
    this.b = b;
    this.end = end;
    this.failed = false;
    this.closed = false;
    this.valuePending = false;
    const j = skipSpace(b, i, end);
    if (j >= end || b[j] !== OPEN_BRACE) return this.fail(j);
    this.pos = j + 1;
    return true;
  }

  /** Go on with an object already read up to `pos`, where its next member's key (or its closing brace) starts. */
  resume(b: Buffer, pos: number, end: number): void {
    this.b = b;
    this.end = end;
    this.failed = false;
    this.closed = false;
    this.valuePending = false;
    this.pos = pos;
  }

  /** Read the next member's key; false at the end of the object or on an error (see `failed`). */
  next(): boolean {
    if (this.failed || this.closed) return false;
    if (this.valuePending && !this.skip()) return false;
    const { b, end } = this;
    let j = skipSpace(b, this.pos, end);
    if (j < end && b[j] === CLOSE_BRACE) {
      this.closed = true;
      this.pos = j + 1;
      return false;
    }
    if (j >= end || b[j] !== QUOTE) return this.fail(j);
    const keyEnd = skipString(b, j, end);
    if (keyEnd < 0) return this.fail(end);
    this.keyStart = j + 1;
    this.keyEnd = keyEnd - 1;
    j = skipSpace(b, keyEnd, end);
    if (j >= end || b[j] !== COLON) return this.fail(j);
    this.valueStart = skipSpace(b, j + 1, end);
    this.valuePending = true;
    return true;
  }

  /** Step over the current value and the comma after it; false on an error. */
  skip(): boolean {
    if (!this.valuePending) return !this.failed;
    this.valuePending = false;
    const { b, end } = this;
    const valueEnd = skipValue(b, this.valueStart, end);
    if (valueEnd < 0) return this.fail(end);
    this.valueEnd = valueEnd;
    let j = skipSpace(b, valueEnd, end);
    if (j < end && b[j] === COMMA) j++;
    else if (j >= end || b[j] !== CLOSE_BRACE) return this.fail(j);
    this.pos = j;
    return true;
  }

  /** Step over the current value, known to end at `valueEnd`, and the comma after it; false on an error. */
  skipTo(valueEnd: number): boolean {
    this.valuePending = false;
    this.valueEnd = valueEnd;
    const { b, end } = this;
    let j = skipSpace(b, valueEnd, end);
    if (j < end && b[j] === COMMA) j++;
    else if (j >= end || b[j] !== CLOSE_BRACE) return this.fail(j);
    this.pos = j;
    return true;
  }

  /** Read every remaining member; true when the object closes well. */
  finish(): boolean {
    while (this.next());
    return this.closed;
  }

  /** True when the current key is `key` (given as its bytes). */
  keyIs(key: Uint8Array): boolean {
    const n = key.length;
    if (this.keyEnd - this.keyStart !== n) return false;
    const { b, keyStart } = this;
    for (let k = 0; k < n; k++) if (b[keyStart + k] !== key[k]) return false;
    return true;
  }

  private fail(at: number): false {
    this.failed = true;
    this.errorAt = at;
    return false;
  }
}

/** The bytes of an ASCII key or value, for comparing against a buffer without decoding it. */
export const ascii = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

/** True when `b[start, end)` holds exactly `bytes`. */
export function bytesEqual(b: Buffer, start: number, end: number, bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (end - start !== n) return false;
  for (let k = 0; k < n; k++) if (b[start + k] !== bytes[k]) return false;
  return true;
}

/** True when the string value at `b[start, end)` (quotes included) is `"` + `bytes` + `"`. */
export function stringValueIs(b: Buffer, start: number, end: number, bytes: Uint8Array): boolean {
  return b[start] === QUOTE && bytesEqual(b, start + 1, end - 1, bytes);
}

/** The string value at `b[start, end)` (quotes included), or undefined when it is not a string. */
export function readString(b: Buffer, start: number, end: number): string | undefined {
  if (b[start] !== QUOTE || end - start < 2) return undefined;
  // Escapes are rare in the fields read this way; only then is JSON.parse needed.
  let escaped = false;
  for (let k = start + 1; k < end - 1; k++) {
    if (b[k] === BACKSLASH) {
      escaped = true;
      break;
    }
  }
  if (!escaped) return b.toString('utf8', start + 1, end - 1);
  const value: unknown = JSON.parse(b.toString('utf8', start, end));
  return typeof value === 'string' ? value : undefined;
}

/**
 * Reads a string value that often repeats the one before (a model, a split
 * reply's message and request ids): the last string is returned again when
 * the bytes are the same, instead of decoding a new one.
 */
export class RepeatedString {
  private last: string | undefined;

  /** The string value at `b[start, end)` (quotes included), or undefined when it is not a string. */
  read(b: Buffer, start: number, end: number): string | undefined {
    const last = this.last;
    if (last !== undefined && end - start - 2 === last.length && b[start] === QUOTE) {
      let k = 0;
      while (k < last.length && b[start + 1 + k] === last.charCodeAt(k)) k++;
      if (k === last.length) return last;
    }
    return (this.last = readString(b, start, end));
  }
}

/** The non-negative integer at `b[start, end)`, or undefined when it is anything else (a float is parsed too). */
export function readNumber(b: Buffer, start: number, end: number): number | undefined {
  let n = 0;
  for (let k = start; k < end; k++) {
    const c = b[k]!;
    if (c < 0x30 || c > 0x39) {
      const parsed = Number(b.toString('latin1', start, end));
      return Number.isFinite(parsed) ? parsed : undefined;
    }
    n = n * 10 + (c - 0x30);
  }
  return end > start ? n : undefined;
}

/** The boolean at `b[start, end)`, or undefined when it is not one. */
export function readBoolean(b: Buffer, start: number, end: number): boolean | undefined {
  if (end - start === 4 && b[start] === 0x74) return true;
  if (end - start === 5 && b[start] === 0x66) return false;
  return undefined;
}

/** True when the value at `b[start, end)` is `null`. */
export const isNull = (b: Buffer, start: number, end: number): boolean => end - start === 4 && b[start] === 0x6e;

/** JSON.parse of the value at `b[start, end)`; undefined when it does not parse. */
export function parseSlice(b: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(b.toString('utf8', start, end)) as unknown;
  } catch {
    return undefined;
  }
}
