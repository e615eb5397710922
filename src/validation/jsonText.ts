import { formatPath } from './paths.js';
import { groupDigits } from '../util/groupDigits.js';

/*
 * Reading a JSON document that comes from outside (a config file, a handoff
 * package) with errors a person can act on, and within bounds. `JSON.parse`
 * does the parsing; its messages differ between Node versions and often carry
 * no position, so when it fails a small scanner that follows the JSON grammar
 * finds where and why. The same scanner reports duplicate keys, which
 * `JSON.parse` silently resolves to the last one.
 *
 * The bounds come first: a document nested 100,000 levels deep parses, but
 * every recursive walk after it (the scanner, a merge, `JSON.stringify`)
 * overflows the stack. One linear pass over the text, which keeps no stack,
 * measures the depth before anything else looks at the document.
 */

/** How big a JSON document read from outside may be. */
export interface JsonLimits {
  /** The deepest nesting of objects and lists allowed; `{}` is 1 level. */
  readonly maxDepth: number;
  /** The most bytes (UTF-8) allowed. */
  readonly maxBytes: number;
}

/**
 * The bounds of a document read from outside unless a reader asks for others:
 * 64 levels (a config needs 5, a handoff package 4) and 16 MiB.
 */
export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 64, maxBytes: 16 * 1024 * 1024 };

/** What kind of thing is wrong with a JSON text. */
export type JsonTextProblemKind = 'empty' | 'too-large' | 'too-deep' | 'syntax' | 'duplicate-key';

/** One thing wrong with a JSON text, and where. */
export interface JsonTextProblem {
  readonly kind: JsonTextProblemKind;
  /** A phrase without a capital or a final stop, to go after "not valid JSON: " or similar. */
  readonly reason: string;
  /** 1-based line of the problem. */
  readonly line: number;
  /** 1-based column of the problem. */
  readonly column: number;
  /** For a duplicate key: its path (`store`, `session.handoff`). */
  readonly path?: string;
}

/** What {@link parseJsonText} found: the value, or every problem. */
export type JsonTextResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problems: readonly JsonTextProblem[] };

interface Problem {
  readonly offset: number;
  readonly reason: string;
}

interface Duplicate {
  readonly path: readonly (string | number)[];
  readonly offset: number;
  readonly firstOffset: number;
}

class Fail {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

function scan(text: string): { problem?: Problem; duplicates: Duplicate[] } {
  let i = 0;
  const duplicates: Duplicate[] = [];

  const found = (at: number): string => {
    const ch = text[at];
    if (ch === undefined) return 'the end of the file';
    const word = /[A-Za-z0-9_$.+-]+/y;
    word.lastIndex = at;
    const match = word.exec(text);
    if (match !== null && match[0].length > 1) return match[0].length > 20 ? `${match[0].slice(0, 20)}...` : match[0];
    return ch.charCodeAt(0) < 0x20 ? JSON.stringify(ch) : `'${ch}'`;
  };

  const ws = (): void => {
    for (;;) {
      const ch = text[i];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') i++;
      else if (ch === '/' && (text[i + 1] === '/' || text[i + 1] === '*'))
        throw new Fail(i, 'JSON does not allow comments; remove it');
      else return;
    }
  };

  const string = (): string => {
    const start = i;
    i++;
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new Fail(start, 'this string is never closed (a " is missing)');
      if (ch === '"') {
        i++;
        return JSON.parse(text.slice(start, i)) as string;
      }
      if (ch === '\\') {
        const next = text[i + 1];
        if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else if (next === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else throw new Fail(i, `invalid escape ${JSON.stringify(text.slice(i, i + 2))} in a string`);
      } else if (ch.charCodeAt(0) < 0x20) {
        throw new Fail(
          i,
          ch === '\n' || ch === '\r'
            ? 'a string cannot run over the end of the line (a closing " is missing, or write \\n)'
            : 'a control character in a string must be escaped',
        );
      } else i++;
    }
  };

  const number = (): void => {
    const start = i;
    const pattern = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    pattern.lastIndex = i;
    const match = pattern.exec(text);
    const end = match === null ? i : i + match[0].length;
    if (match === null || match[0] === '-' || /[0-9A-Za-z.+-]/.test(text[end] ?? '')) {
      throw new Fail(
        start,
        `invalid number ${found(start)}: JSON numbers look like 42, -3.5 or 1e6 (no leading zeros, + signs, hex, NaN or Infinity)`,
      );
    }
    i = end;
  };

  const value = (path: (string | number)[]): void => {
    ws();
    const ch = text[i];
    if (ch === undefined) throw new Fail(i, 'a value is missing: the file ends here');
    if (ch === '{') return object(path);
    if (ch === '[') return array(path);
    if (ch === '"') {
      string();
      return;
    }
    if (ch === '-' || (ch >= '0' && ch <= '9')) return number();
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i) && !/[A-Za-z0-9_$]/.test(text[i + literal.length] ?? '')) {
        i += literal.length;
        return;
      }
    }
    if (ch === "'") throw new Fail(i, 'JSON strings use double quotes ("), not single quotes');
    if (/[A-Za-z_$]/.test(ch)) {
      throw new Fail(i, `found ${found(i)} where a value belongs: put text in double quotes, or write true, false or null`);
    }
    throw new Fail(i, `expected a value (an object, list, string, number, true, false or null) but found ${found(i)}`);
  };

  const object = (path: (string | number)[]): void => {
    i++;
    const seen = new Map<string, number>();
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      const keyAt = i;
      const ch = text[i];
      if (ch !== '"') {
        if (ch === "'") throw new Fail(i, 'keys must be in double quotes ("), not single quotes');
        if (ch !== undefined && /[A-Za-z_$]/.test(ch)) throw new Fail(i, `the key ${found(i)} must be in double quotes`);
        throw new Fail(i, `expected a key in double quotes but found ${found(i)}`);
      }
      const key = string();
      const first = seen.get(key);
      if (first === undefined) seen.set(key, keyAt);
      else duplicates.push({ path: [...path, key], offset: keyAt, firstOffset: first });
      ws();
      if (text[i] !== ':') throw new Fail(i, `expected ':' after the key ${JSON.stringify(key)} but found ${found(i)}`);
      i++;
      value([...path, key]);
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      if (text[i] !== ',') {
        throw new Fail(
          i,
          `expected ',' or '}' after the value of ${JSON.stringify(key)} but found ${found(i)}` +
            (text[i] === '"' ? ' (is a comma missing?)' : ''),
        );
      }
      const commaAt = i;
      i++;
      ws();
      if (text[i] === '}') throw new Fail(commaAt, "JSON does not allow a comma after the last entry; remove it");
    }
  };

  const array = (path: (string | number)[]): void => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (let index = 0; ; index++) {
      value([...path, index]);
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      if (text[i] !== ',') throw new Fail(i, `expected ',' or ']' in a list but found ${found(i)}`);
      const commaAt = i;
      i++;
      ws();
      if (text[i] === ']') throw new Fail(commaAt, "JSON does not allow a comma after the last item; remove it");
    }
  };

  try {
    value([]);
    ws();
    if (i < text.length) throw new Fail(i, `found ${found(i)} after the end of the JSON document`);
    return { duplicates };
  } catch (error) {
    if (error instanceof Fail) return { problem: { offset: error.offset, reason: error.reason }, duplicates };
    throw error;
  }
}

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** The engine's own account of a parse error, for the (unexpected) case the scanner accepts what `JSON.parse` refused. */
function fromEngine(error: unknown, text: string): Problem {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message);
  return { offset: position?.[1] === undefined ? text.length : Number(position[1]), reason: message };
}

/** The deepest nesting of `text` and where it first went past `maxDepth`; strings are skipped, no stack is kept. */
export function jsonNestingDepth(text: string, maxDepth: number): { depth: number; firstTooDeep: number | undefined } {
  let depth = 0;
  let deepest = 0;
  let firstTooDeep: number | undefined;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++; // a backslash: the next character is escaped
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (depth > maxDepth && firstTooDeep === undefined) firstTooDeep = i;
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  return { depth: deepest, firstTooDeep };
}

const sizeText = (bytes: number): string => {
  const [amount, unit] = bytes >= 1024 * 1024 ? [bytes / (1024 * 1024), 'MiB'] : bytes >= 1024 ? [bytes / 1024, 'KiB'] : [bytes, 'bytes'];
  return `${amount.toFixed(unit === 'bytes' ? 0 : 1).replace(/\.0$/, '')} ${unit}`;
};

function limitProblem(text: string, limits: JsonLimits): JsonTextProblem | undefined {
  // Counting UTF-8 bytes walks the text; a text short enough in the worst case (3 bytes a character) needs no count.
  if (text.length * 3 > limits.maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > limits.maxBytes) {
      return {
        kind: 'too-large',
        reason: `the document is ${groupDigits(bytes)} bytes (${sizeText(bytes)}), more than the ${sizeText(limits.maxBytes)} allowed`,
        line: 1,
        column: 1,
      };
    }
  }
  const { depth, firstTooDeep } = jsonNestingDepth(text, limits.maxDepth);
  if (firstTooDeep === undefined) return undefined;
  return {
    kind: 'too-deep',
    reason: `the document is nested ${groupDigits(depth)} levels deep, more than the ${limits.maxDepth} levels allowed`,
    ...lineColumn(text, firstTooDeep),
  };
}

/**
 * Parse `text` as one JSON document within `limits` (each bound defaulting to
 * {@link DEFAULT_JSON_LIMITS}). Never throws for a bad document: it returns
 * the problems, each with its line and column: an empty text, a document
 * over the size or depth bound, a syntax error, or keys written twice in one
 * object (every one of them). A leading byte-order mark is ignored.
 *
 * @example
 * const result = parseJsonText(text, { maxBytes: 1024 * 1024 });
 * if (!result.ok) for (const p of result.problems) console.error(`line ${p.line}, column ${p.column}: ${p.reason}`);
 */
export function parseJsonText(text: string, limits: Partial<JsonLimits> = {}): JsonTextResult {
  const bounds: JsonLimits = { ...DEFAULT_JSON_LIMITS, ...limits };
  // Editors on Windows may save a byte-order mark; JSON.parse refuses it.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') return { ok: false, problems: [{ kind: 'empty', reason: 'the document is empty', line: 1, column: 1 }] };
  const tooBig = limitProblem(body, bounds);
  if (tooBig !== undefined) return { ok: false, problems: [tooBig] };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    let scanned: Problem | undefined;
    try {
      scanned = scan(body).problem;
    } catch {
      // A scanner failure must not hide the real error.
    }
    const problem = scanned ?? fromEngine(error, body);
    return { ok: false, problems: [{ kind: 'syntax', reason: problem.reason, ...lineColumn(body, problem.offset) }] };
  }
  const { duplicates } = scan(body);
  if (duplicates.length > 0) {
    return {
      ok: false,
      problems: duplicates.map((duplicate) => {
        const path = formatPath(duplicate.path);
        const first = lineColumn(body, duplicate.firstOffset);
        return {
          kind: 'duplicate-key',
          path,
          reason: `${path} is written twice (first at line ${first.line}, column ${first.column}); JSON would silently keep only the last one. Remove one of them`,
          ...lineColumn(body, duplicate.offset),
        };
      }),
    };
  }
  return { ok: true, value };
}

/**
 * True when `value` nests objects and lists deeper than `maxDepth` (`{}` is 1
 * level). Walks without recursion, so it is safe on any value, and stops as
 * soon as it is past the bound.
 */
export function valueDepthExceeds(value: unknown, maxDepth: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  const seen = new Set<object>();
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const current = next.value;
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const depth = next.depth + 1;
    if (depth > maxDepth) return true;
    for (const child of Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth });
    }
  }
  return false;
}
