import { ConfigError, type ConfigIssue } from './configError.js';
import { formatKeyPath } from './keyPath.js';

/*
 * Reading a JSON document with errors a person can act on. `JSON.parse` does
 * the parsing; its messages differ between Node versions and often carry no
 * position, so when it fails a small scanner that follows the JSON grammar
 * finds where and why. The same scanner reports duplicate keys, which
 * `JSON.parse` silently resolves to the last one. Internal to the config module.
 */

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

const MAX_DEPTH = 512;

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
    if (path.length > MAX_DEPTH) throw new Fail(i, 'the document is nested too deeply');
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

/**
 * Parse `text` as one JSON document. Throws a {@link ConfigError} naming
 * `source`, the line and the column for a syntax error, an empty file, or a
 * key written twice in one object.
 */
export function parseJsonDocument(text: string, source: string): unknown {
  // Editors on Windows may save a byte-order mark; JSON.parse refuses it.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') {
    throw new ConfigError(source, [
      { key: '', message: 'the file is empty. Write {} to use the defaults, or delete the file.', line: 1, column: 1 },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    let scanned: Problem | undefined;
    try {
      scanned = scan(body).problem;
    } catch {
      // A scanner failure (e.g. stack overflow) must not hide the real error.
    }
    const problem = scanned ?? fromEngine(error, body);
    const { line, column } = lineColumn(body, problem.offset);
    throw new ConfigError(source, [{ key: '', message: `not valid JSON: ${problem.reason}.`, line, column }], {
      cause: error,
    });
  }
  let duplicates: Duplicate[] = [];
  try {
    duplicates = scan(body).duplicates;
  } catch {
    // JSON.parse accepted the document; a scanner failure only loses the duplicate check.
  }
  if (duplicates.length > 0) {
    const issues: ConfigIssue[] = duplicates.map((duplicate) => {
      const key = formatKeyPath(duplicate.path);
      const first = lineColumn(body, duplicate.firstOffset);
      return {
        key,
        message: `${key} is written twice (first at line ${first.line}, column ${first.column}); JSON would silently keep only the last one. Remove one of them.`,
        ...lineColumn(body, duplicate.offset),
      };
    });
    throw new ConfigError(source, issues);
  }
  return value;
}
