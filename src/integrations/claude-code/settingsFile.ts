// Reading and writing a Claude Code settings file for the installer: a file
// that is not a JSON object is refused with the line and column, writing
// nothing; a write keeps the file's indentation, goes through a temporary
// file renamed into place, and keeps the file as it was beside it.

import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { MoaiError } from '../../errors.js';
import { requireCommonJs } from '../../util/commonJs.js';

/** A settings file the installer will not touch: not JSON, not an object, or a `hooks` of the wrong shape. */
export class SettingsFileError extends MoaiError {
  constructor(message: string) {
    super('SETTINGS_FILE', message);
  }
}

/** A settings file as read. */
export interface SettingsText {
  path: string;
  /** The text, or undefined when the file does not exist. */
  text: string | undefined;
  settings: Record<string, unknown>;
  /** The indentation its objects use (two spaces when it cannot be told). */
  indent: string;
}

/** The line and column (1-based) of a character offset in a text. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** Read and parse a settings file; a missing file is an empty object. */
export function readSettingsFile(path: string): SettingsText {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, text: undefined, settings: {}, indent: '  ' };
    throw new SettingsFileError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') return { path, text, settings: {}, indent: '  ' };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new SettingsFileError(`${path} is not valid JSON${syntaxErrorOf(body, (error as Error).message)}; fix it first: nothing was written.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SettingsFileError(`${path} holds ${Array.isArray(value) ? 'an array' : String(value === null ? 'null' : typeof value)}, not a settings object; nothing was written.`);
  }
  const indent = /^\{\r?\n([ \t]+)"/.exec(body)?.[1] ?? '  ';
  return { path, text, settings: value as Record<string, unknown>, indent };
}

/** The text a settings object is written as: JSON in the file's indentation, ending with a new line. */
export const settingsText = (settings: Record<string, unknown>, indent: string): string => `${JSON.stringify(settings, null, indent)}\n`;

/**
 * Write a settings file atomically (a temporary file beside it, flushed,
 * renamed into place), keeping the old file as `<path>.moai-session.bak`;
 * returns the backup's path, if there was a file to keep.
 */
export function writeSettingsFile(path: string, text: string, old: string | undefined): string | undefined {
  mkdirSync(dirname(path), { recursive: true });
  let backup: string | undefined;
  if (old !== undefined) {
    backup = `${path}.moai-session.bak`;
    copyFileSync(path, backup);
  }
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return backup;
}

/** The line edits that turn `a` into `b` (a longest common subsequence; settings files are small). */
function lineEdits(a: readonly string[], b: readonly string[]): ('=' | '-' | '+')[] {
  const n = a.length;
  const m = b.length;
  // lcs[i * (m + 1) + j]: the longest common subsequence of a[i..] and b[j..].
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
    }
  }
  const edits: ('=' | '-' | '+')[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      edits.push('=');
      i++;
      j++;
    } else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!)) {
      edits.push('-');
      i++;
    } else {
      edits.push('+');
      j++;
    }
  }
  return edits;
}

/** A unified diff of two texts (three lines of context), as `--dry-run` prints it; empty when they are the same. */
export function unifiedDiff(oldText: string, newText: string, oldName: string, newName: string): string {
  if (oldText === newText) return '';
  const a = oldText === '' ? [] : oldText.replace(/\n$/, '').split('\n');
  const b = newText === '' ? [] : newText.replace(/\n$/, '').split('\n');
  const edits = lineEdits(a, b);
  const CONTEXT = 3;
  const out = [`--- ${oldName}`, `+++ ${newName}`];
  // Positions of each edit in a and b.
  const at: { i: number; j: number }[] = [];
  let i = 0;
  let j = 0;
  for (const edit of edits) {
    at.push({ i, j });
    if (edit !== '+') i++;
    if (edit !== '-') j++;
  }
  let k = 0;
  while (k < edits.length) {
    if (edits[k] === '=') {
      k++;
      continue;
    }
    // A hunk: from CONTEXT lines before this change to CONTEXT after the last change within 2 * CONTEXT of the one before.
    let from = Math.max(0, k - CONTEXT);
    while (from < k && edits[from] !== '=') from++;
    let last = k;
    for (let x = k; x < edits.length; x++) {
      if (edits[x] !== '=') last = x;
      else if (x - last > 2 * CONTEXT) break;
    }
    const to = Math.min(edits.length, last + 1 + CONTEXT);
    const lines: string[] = [];
    let oldCount = 0;
    let newCount = 0;
    for (let x = from; x < to; x++) {
      const edit = edits[x]!;
      const { i: ai, j: bj } = at[x]!;
      if (edit === '=') {
        lines.push(` ${a[ai]}`);
        oldCount++;
        newCount++;
      } else if (edit === '-') {
        lines.push(`-${a[ai]}`);
        oldCount++;
      } else {
        lines.push(`+${b[bj]}`);
        newCount++;
      }
    }
    const start = at[from]!;
    out.push(`@@ -${oldCount === 0 ? start.i : start.i + 1},${oldCount} +${newCount === 0 ? start.j : start.j + 1},${newCount} @@`, ...lines);
    k = to;
  }
  return `${out.join('\n')}\n`;
}

type Json = Record<string, unknown>;
const isPlainObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The text of `next` made from the file's text by the fewest edits: the
 * groups and handlers of `hooks` that are gone are cut out (with their comma),
 * those added are appended after the last element (on the array's line when
 * it is written on one line, else on lines of their own at its indentation),
 * new events and `statusLine` are added as properties after the last one,
 * and every other byte of the file stays as it was. The positions come from
 * jsonc-parser's syntax tree. `next` must differ from `old` only there (the
 * installer's changes); if the edited text does not read back as `next`,
 * the whole object is written out instead.
 */
export function editSettingsText(text: string, old: Json, next: Json, indent: string): string {
  const jsonc = requireJsonc();
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const editor = new TextEditor(jsonc, text, indent, eol);
  const oldHooks = isPlainObject(old.hooks) ? old.hooks : undefined;
  const newHooks = isPlainObject(next.hooks) ? next.hooks : undefined;
  if (oldHooks === undefined && newHooks !== undefined) editor.setProperty([], 'hooks', newHooks);
  else if (oldHooks !== undefined && newHooks === undefined) editor.remove(['hooks']);
  else if (oldHooks !== undefined && newHooks !== undefined) {
    for (const event of Object.keys(oldHooks)) if (!(event in newHooks)) editor.remove(['hooks', event]);
    for (const [event, groups] of Object.entries(newHooks)) {
      const before = oldHooks[event];
      if (!Array.isArray(before)) {
        editor.setProperty(['hooks'], event, groups);
        continue;
      }
      if (sameJson(before, groups)) continue;
      const after = groups as unknown[];
      // The old groups that stay are, in order, the first of the new ones; the rest of the new ones are appended.
      let kept = 0;
      const removals: { index: number; handlers?: number[] }[] = [];
      for (let i = 0; i < before.length; i++) {
        const group = before[i];
        const match = after[kept];
        if (match !== undefined && sameJson(group, match)) {
          kept++;
          continue;
        }
        // Someone else's group with one of ours among its handlers: only ours go.
        if (isPlainObject(group) && isPlainObject(match) && Array.isArray(group.hooks) && Array.isArray(match.hooks) && match.hooks.length > 0 && sameJson({ ...group, hooks: match.hooks }, match)) {
          const stay = match.hooks as unknown[];
          const gone: number[] = [];
          let j = 0;
          (group.hooks as unknown[]).forEach((handler, h) => {
            if (j < stay.length && sameJson(handler, stay[j])) j++;
            else gone.push(h);
          });
          // Only when what stays is the group's own handlers, in order, with ours cut out.
          if (j === stay.length) {
            removals.push({ index: i, handlers: gone });
            kept++;
            continue;
          }
        }
        removals.push({ index: i });
      }
      for (const removal of removals.reverse()) {
        if (removal.handlers === undefined) editor.remove(['hooks', event, removal.index]);
        else for (const h of [...removal.handlers].reverse()) editor.remove(['hooks', event, removal.index, 'hooks', h]);
      }
      for (let i = kept; i < after.length; i++) editor.append(['hooks', event], after[i]);
    }
  }
  if (!sameJson(old.statusLine, next.statusLine)) {
    if (next.statusLine === undefined) editor.remove(['statusLine']);
    else editor.setProperty([], 'statusLine', next.statusLine);
  }
  const out = editor.text;
  try {
    if (sameJson(JSON.parse(out), next)) return out;
  } catch {
    // fall through: the whole object, as JSON
  }
  return settingsText(next, indent);
}

type JsoncNode = import('jsonc-parser').Node;

/** Edits of a JSON text at positions its syntax tree gives, each on the text the one before left. */
class TextEditor {
  constructor(
    private readonly jsonc: typeof import('jsonc-parser'),
    public text: string,
    private readonly indent: string,
    private readonly eol: string,
  ) {}

  private node(path: (string | number)[]): JsoncNode | undefined {
    const tree = this.jsonc.parseTree(this.text);
    return tree === undefined ? undefined : path.length === 0 ? tree : this.jsonc.findNodeAtLocation(tree, path);
  }

  private splice(from: number, to: number, insert: string): void {
    this.text = `${this.text.slice(0, from)}${insert}${this.text.slice(to)}`;
  }

  /** The whitespace a line starts with, for the line holding `offset`. */
  private leadAt(offset: number): string {
    const lineStart = this.text.lastIndexOf('\n', offset - 1) + 1;
    return /^[ \t]*/.exec(this.text.slice(lineStart, offset))![0];
  }

  /** `value` as JSON whose lines after the first start with `lead`. */
  private json(value: unknown, lead: string): string {
    return JSON.stringify(value, null, this.indent).split('\n').join(`${this.eol}${lead}`);
  }

  /** Remove the element or property at `path` with the comma that joins it to a neighbour. */
  remove(path: (string | number)[]): void {
    let node = this.node(path);
    if (node === undefined) return;
    if (node.parent?.type === 'property') node = node.parent;
    const siblings = node.parent?.children ?? [];
    const at = siblings.indexOf(node);
    if (at > 0) {
      const previous = siblings[at - 1]!;
      this.splice(previous.offset + previous.length, node.offset + node.length, '');
    } else if (at === 0 && siblings.length > 1) {
      this.splice(node.offset, siblings[1]!.offset, '');
    } else if (node.parent !== undefined) {
      const container = node.parent;
      this.splice(container.offset + 1, container.offset + container.length - 1, '');
    }
  }

  /** Append `value` to the array at `path`, after its last element. */
  append(path: (string | number)[], value: unknown): void {
    const array = this.node(path);
    if (array?.type !== 'array') return;
    const last = array.children?.at(-1);
    if (last === undefined) {
      const lead = this.leadAt(array.offset);
      this.splice(array.offset, array.offset + array.length, `[${this.eol}${lead}${this.indent}${this.json(value, lead + this.indent)}${this.eol}${lead}]`);
      return;
    }
    const end = last.offset + last.length;
    if (!this.text.slice(array.offset, array.offset + array.length).includes('\n')) {
      this.splice(end, end, `, ${JSON.stringify(value)}`);
      return;
    }
    const lead = this.leadAt(last.offset);
    this.splice(end, end, `,${this.eol}${lead}${this.json(value, lead)}`);
  }

  /** Set the property `key` of the object at `path`: its value replaced, or the property added after the last one. */
  setProperty(path: (string | number)[], key: string, value: unknown): void {
    const object = this.node(path);
    if (object?.type !== 'object') return;
    const property = object.children?.find((child) => child.children?.[0]?.value === key);
    if (property !== undefined) {
      const valueNode = property.children![1]!;
      this.splice(valueNode.offset, valueNode.offset + valueNode.length, this.json(value, this.leadAt(property.offset)));
      return;
    }
    const last = object.children?.at(-1);
    if (last === undefined) {
      const lead = this.leadAt(object.offset);
      this.splice(object.offset, object.offset + object.length, `{${this.eol}${lead}${this.indent}${JSON.stringify(key)}: ${this.json(value, lead + this.indent)}${this.eol}${lead}}`);
      return;
    }
    const end = last.offset + last.length;
    if (!this.text.slice(object.offset, object.offset + object.length).includes('\n')) {
      this.splice(end, end, `, ${JSON.stringify(key)}: ${JSON.stringify(value)}`);
      return;
    }
    const lead = this.leadAt(last.offset);
    this.splice(end, end, `,${this.eol}${lead}${JSON.stringify(key)}: ${this.json(value, lead)}`);
  }
}

/**
 * Where and what the first syntax error of a text JSON.parse refused is, as
 * ` at line L, column C (what)`: jsonc-parser (strict: no comments, no
 * trailing commas) gives an offset for every kind of error, where V8's
 * message often names none. V8's message alone if jsonc-parser finds none.
 */
function syntaxErrorOf(body: string, message: string): string {
  // V8 quotes the text around the error, new lines and all: one line.
  const v8Message = message.replace(/\s+/g, ' ').trim();
  const jsonc = requireJsonc();
  const errors: import('jsonc-parser').ParseError[] = [];
  jsonc.parse(body, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first === undefined) return ` (${v8Message})`;
  const { line, column } = lineAndColumn(body, first.offset);
  return ` at line ${line}, column ${column} (${jsonc.printParseErrorCode(first.error)}: ${v8Message})`;
}

/** jsonc-parser, loaded when a settings file is edited (its UMD build is CommonJS). */
function requireJsonc(): typeof import('jsonc-parser') {
  return requireCommonJs('jsonc-parser') as typeof import('jsonc-parser');
}
