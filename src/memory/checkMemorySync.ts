import { access, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CheckpointStore } from '../checkpoints/checkpointStore.js';
import { isCheckpointIntact, stateChecksum } from '../checkpoints/checkpointDocument.js';
import type { Engine } from '../engine/createEngine.js';
import { sessionStream } from '../events/envelope.js';
import type { CheckpointRef } from '../projections/checkpoints.js';
import { sessionViewProjection, sessionViewToJson, type SessionView } from '../projections/sessionView.js';
import { isCompressedText, unpackText } from '../context/packText.js';
import { diffLines } from './lineDiff.js';
import {
  ACTIVE_TASKS_FILE,
  buildMemoryDocuments,
  CHECKPOINTS_FOLDER,
  checkpointFilePath,
  CONTEXT_CACHE_FILE,
  legacyCheckpointFilePath,
  MEMORY_FILES,
  MEMORY_FILES_LOCK,
  memoryFilesOf,
  memoryFilesOptionsFrom,
  ownCheckpoints,
  SESSION_STATE_FILE,
  sessionsInStartOrder,
  TOKEN_USAGE_LOG_FILE,
  type MemoryFilesOptions,
} from './memoryFiles.js';

/** One way a memory file differs from what the log gives. */
export interface MemoryDifference {
  /** The file, relative to the `.moai` folder, e.g. `sessions/session-state.json`. */
  file: string;
  /** In a JSON file: the JSON path of the field, e.g. `sessions.demo.tokens.contextTokens`. */
  field?: string;
  /** In a text file: the 1-based line number. */
  line?: number;
  /** What the log gives; absent when the file has something the log does not. */
  expected?: unknown;
  /** What the file holds; absent when it is missing. */
  found?: unknown;
  /** One readable sentence, starting with the file. */
  message: string;
}

/** What {@link checkMemorySync} found. */
export interface MemorySyncReport {
  /** True when every memory file is exactly what the log gives. */
  inSync: boolean;
  /** Every difference, file by file: the four memory files, then the checkpoints, then unexplained files. */
  differences: MemoryDifference[];
}

type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A JSON path as `a.b[2]["odd-key"]`. */
export function formatJsonPath(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

const show = (value: unknown): string => {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface JsonChange {
  path: PathSegment[];
  kind: 'changed' | 'missing' | 'unexpected';
  expected?: unknown;
  found?: unknown;
}

/** Every leaf where `found` differs from `expected`, with its path. */
function diffJson(expected: unknown, found: unknown, path: PathSegment[], out: JsonChange[]): void {
  if (Array.isArray(expected) && Array.isArray(found)) {
    const length = Math.max(expected.length, found.length);
    for (let i = 0; i < length; i++) {
      if (i >= found.length) out.push({ path: [...path, i], kind: 'missing', expected: expected[i] });
      else if (i >= expected.length) out.push({ path: [...path, i], kind: 'unexpected', found: found[i] });
      else diffJson(expected[i], found[i], [...path, i], out);
    }
    return;
  }
  if (isRecord(expected) && isRecord(found)) {
    for (const [key, value] of Object.entries(expected)) {
      if (!Object.hasOwn(found, key)) out.push({ path: [...path, key], kind: 'missing', expected: value });
      else diffJson(value, found[key], [...path, key], out);
    }
    for (const [key, value] of Object.entries(found)) {
      if (!Object.hasOwn(expected, key)) out.push({ path: [...path, key], kind: 'unexpected', found: value });
    }
    return;
  }
  if (expected !== found) out.push({ path, kind: 'changed', expected, found });
}

function jsonDifference(file: string, change: JsonChange, fieldPrefix: PathSegment[] = []): MemoryDifference {
  const segments = [...fieldPrefix, ...change.path];
  const field = formatJsonPath(segments);
  const difference: MemoryDifference = { file, field, message: '' };
  if (change.expected !== undefined) difference.expected = change.expected;
  if (change.found !== undefined) difference.found = change.found;
  const isSession = fieldPrefix.length === 0 && segments.length === 2 && segments[0] === 'sessions';
  if (change.kind === 'missing') {
    difference.message = isSession
      ? `${file}: ${field}: missing: the log has session ${String(segments[1])} (not ended), the file does not`
      : `${file}: ${field}: missing, expected ${show(change.expected)}`;
  } else if (change.kind === 'unexpected') {
    difference.message = isSession
      ? `${file}: ${field}: the file has session ${String(segments[1])}, which the log does not have as a session that is not ended`
      : `${file}: ${field}: not expected, found ${show(change.found)}`;
  } else {
    difference.message = `${file}: ${field}: expected ${show(change.expected)}, found ${show(change.found)}`;
  }
  return difference;
}

/** What to do about a missing file: memory files are rebuilt from the log; a checkpoint's state is not in the log. */
const MISSING_MEMORY_FILE = 'the log gives it (rewrite it with a memory sync)';
const MISSING_CHECKPOINT = 'the log records the checkpoint, but its state is only in this file: a resume skips it (take a new checkpoint)';

async function readText(dir: string, file: string, out: MemoryDifference[], missing = MISSING_MEMORY_FILE): Promise<string | undefined> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    out.push({
      file,
      message: code === 'ENOENT' ? `${file}: missing; ${missing}` : `${file}: cannot be read: ${(error as Error).message}`,
    });
    return undefined;
  }
}

function parseJson(file: string, text: string, out: MemoryDifference[]): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    out.push({ file, message: `${file}: not valid JSON: ${(error as Error).message}` });
    return undefined;
  }
}

/**
 * A compressed context text (`{ encoding: "gzip+base64", chars, data }`) in
 * a session of `context-cache.json`, as its text: two zlib builds may
 * compress one text to different bytes, so the texts are compared, not the data.
 */
function uncompressContexts(value: unknown): unknown {
  if (!isRecord(value) || !isRecord(value.sessions)) return value;
  const sessions: Record<string, unknown> = {};
  for (const [id, entry] of Object.entries(value.sessions)) {
    if (isRecord(entry) && isCompressedText(entry.critical_context)) {
      let text: unknown = entry.critical_context;
      try {
        text = { encoding: entry.critical_context.encoding, chars: entry.critical_context.chars, text: unpackText(entry.critical_context, 'it') };
      } catch {
        // Damaged data stays as it is, and differs.
      }
      sessions[id] = { ...entry, critical_context: text };
    } else {
      sessions[id] = entry;
    }
  }
  return { ...value, sessions };
}

function checkJsonFile(file: string, expectedText: string, expected: unknown, text: string, out: MemoryDifference[]): void {
  const parsed = parseJson(file, text, out);
  if (parsed === undefined) return;
  const changes: JsonChange[] = [];
  const compressed = file === CONTEXT_CACHE_FILE;
  diffJson(compressed ? uncompressContexts(expected) : expected, compressed ? uncompressContexts(parsed.value) : parsed.value, [], changes);
  for (const change of changes) out.push(jsonDifference(file, change));
  if (changes.length === 0 && text !== expectedText && !(compressed && sameShape(text, expectedText))) {
    out.push({
      file,
      message: `${file}: the data matches the log but the text is not as written (2-space JSON with a trailing newline)`,
    });
  }
}

/** Two JSON texts that differ only inside compressed data: written alike. */
function sameShape(text: string, expectedText: string): boolean {
  const blank = (t: string) => t.replace(/"data": "[A-Za-z0-9+/=]*"/g, '"data": ""');
  return blank(text) === blank(expectedText);
}

const linesOf = (text: string): string[] => {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

/**
 * Line differences, a true diff: the shortest set of lines to take out of
 * the file and put in to get what the log gives (Myers), so a line missing
 * or added in the middle is that one line, never the equal lines after it.
 * A stretch of lines that were replaced is reported line for line as
 * "expected, found". Line numbers are the file's (for a missing line: the
 * line it belongs before). Texts too different to list are one difference.
 */
function checkTextFile(file: string, expectedText: string, text: string, out: MemoryDifference[]): void {
  if (text === expectedText) return;
  const expected = linesOf(expectedText);
  const found = linesOf(text);
  const hunks = diffLines(expected, found);
  if (hunks === undefined) {
    out.push({
      file,
      message: `${file}: differs from what the log gives in too many lines to list (${found.length} lines, ${expected.length} expected); rewrite it with a memory sync`,
    });
    return;
  }
  const before = out.length;
  for (const hunk of hunks) {
    const paired = Math.min(hunk.expectedLines, hunk.foundLines);
    for (let i = 0; i < paired; i++) {
      const e = expected[hunk.expectedStart + i]!;
      const f = found[hunk.foundStart + i]!;
      const line = hunk.foundStart + i + 1;
      out.push({ file, line, expected: e, found: f, message: `${file}:${line}: expected ${show(e)}, found ${show(f)}` });
    }
    for (let i = paired; i < hunk.expectedLines; i++) {
      const e = expected[hunk.expectedStart + i]!;
      const line = hunk.foundStart + paired + 1;
      const where = line > found.length ? 'at the end' : `before line ${line}`;
      out.push({ file, line, expected: e, message: `${file}:${line}: missing line ${where}, expected ${show(e)}` });
    }
    for (let i = paired; i < hunk.foundLines; i++) {
      const f = found[hunk.foundStart + i]!;
      const line = hunk.foundStart + i + 1;
      out.push({ file, line, found: f, message: `${file}:${line}: line not expected, found ${show(f)}` });
    }
  }
  if (out.length === before) {
    out.push({ file, message: `${file}: the lines match the log but the line endings differ (one \\n after each line)` });
  }
}

// A temporary file of an atomic write in progress (ours, lowdb's or the
// checkpoint store's, all ending in `.tmp`): not a memory file.
// Temporary files of a write under way, and the lock writers hold while they write.
const isTempFile = (name: string): boolean => name.endsWith('.tmp') || name === MEMORY_FILES_LOCK;

async function listFolder(dir: string, folder: string, out: MemoryDifference[]): Promise<string[]> {
  try {
    const entries = await readdir(join(dir, folder), { withFileTypes: true });
    return entries.filter((entry) => !isTempFile(entry.name)).map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    out.push({ file: folder, message: `${folder}: cannot be listed: ${(error as Error).message}` });
    return [];
  }
}

const exists = (dir: string, file: string): Promise<boolean> => access(join(dir, file)).then(() => true, () => false);

/** The session a checkpoint document names, if it can be read. */
async function ownerOf(dir: string, file: string): Promise<unknown> {
  try {
    return (JSON.parse(await readFile(join(dir, file), 'utf8')) as { sessionId?: unknown } | null)?.sessionId;
  } catch {
    return undefined;
  }
}

interface CheckpointToVerify {
  sessionId: string;
  view: SessionView;
  ref: CheckpointRef;
}

/**
 * The views of a session at some versions, folded once from the raw stream
 * (a fork from its parent's state at the fork, as the engine does): the check
 * must not trust a checkpoint to rebuild the state it is checking.
 */
async function viewsAtVersions(engine: Engine, stream: string, versions: ReadonlySet<number>): Promise<Map<number, SessionView>> {
  const found = new Map<number, SessionView>();
  const last = Math.max(...versions);
  if (!Number.isFinite(last) || last < 1) return found;
  let view = sessionViewProjection.initialState();
  for await (const event of engine.store.readStream(stream, { toVersion: last })) {
    if (event.version === 1 && event.type === 'SessionForked') {
      view = await engine.sessionState(event.data.parentSessionId, { atVersion: event.data.parentVersion });
    }
    view = sessionViewProjection.evolve(view, event);
    if (versions.has(view.version)) found.set(view.version, view);
  }
  return found;
}

/** A checkpoint's document as found: where (for messages), and what it holds; undefined when a difference says why there is none. */
type FoundDocument = { file: string; document: unknown } | undefined;

/** A checkpoint's file under `<dir>/sessions/checkpoints/`, where a file checkpoint store of this folder keeps it. */
async function checkpointFile(dir: string, { sessionId, ref }: CheckpointToVerify, out: MemoryDifference[], checked: Set<string>): Promise<FoundDocument> {
  // The layout before a folder per session is still read: a document there is where the engine finds it.
  const legacy = legacyCheckpointFilePath(ref.checkpointId);
  const current = checkpointFilePath(sessionId, ref.checkpointId);
  let file = current;
  if (!(await exists(dir, current)) && (await exists(dir, legacy))) {
    const owner = await ownerOf(dir, legacy);
    if (owner === sessionId || owner === undefined) file = legacy;
  }
  checked.add(file);
  const text = await readText(dir, file, out, MISSING_CHECKPOINT);
  if (text === undefined) return undefined;
  const parsed = parseJson(file, text, out);
  return parsed === undefined ? undefined : { file, document: parsed.value };
}

/** A checkpoint's document in the engine's checkpoint store when it keeps them elsewhere (PostgreSQL, memory, another folder). */
async function storedCheckpoint(store: CheckpointStore, { sessionId, ref }: CheckpointToVerify, out: MemoryDifference[]): Promise<FoundDocument> {
  const where = store.fileOf?.(sessionId, ref.checkpointId) ?? `${store.location} (${sessionId}, ${ref.checkpointId})`;
  let loaded;
  try {
    loaded = await store.load(sessionId, ref.checkpointId);
  } catch (error) {
    out.push({ file: where, message: `${where}: cannot be read: ${(error as Error).message}` });
    return undefined;
  }
  if (loaded === undefined) {
    out.push({ file: where, message: `${where}: missing; the log records the checkpoint, but the checkpoint store has no document of it: a resume skips it (take a new checkpoint)` });
    return undefined;
  }
  if (!loaded.ok) {
    out.push({ file: loaded.file, message: `${loaded.file}: cannot be read: ${loaded.reason}` });
    return undefined;
  }
  return { file: loaded.file, document: loaded.document };
}

function checkCheckpoint(
  found: { file: string; document: unknown },
  { sessionId, view, ref }: CheckpointToVerify,
  logView: SessionView | undefined,
  out: MemoryDifference[],
): void {
  const { file, document } = found;
  if (!isRecord(document) || !isRecord(document.state) || typeof document.checksum !== 'string') {
    out.push({ file, message: `${file}: not a checkpoint document (it needs a "state" object and a "checksum" string)` });
    return;
  }
  const recorded: Record<string, unknown> = {
    checkpointId: ref.checkpointId,
    sessionId,
    stream: view.session.stream,
    reason: ref.reason,
    version: ref.version,
    position: ref.position,
    checksum: ref.checksum,
  };
  // The product's names, in a document that has them, say the same.
  if (Object.hasOwn(document, 'checkpoint_id')) recorded['checkpoint_id'] = ref.checkpointId;
  if (Object.hasOwn(document, 'session_id')) recorded['session_id'] = sessionId;
  if (Object.hasOwn(document, 'timestamp')) recorded['timestamp'] = ref.at;
  if (Object.hasOwn(document, 'git') && ref.git !== undefined) recorded['git'] = ref.git;
  for (const [field, expected] of Object.entries(recorded)) {
    const found = document[field];
    if (JSON.stringify(found) !== JSON.stringify(expected)) {
      const difference: MemoryDifference = {
        file,
        field,
        expected,
        message: `${file}: ${field}: expected ${show(expected)} (as the log recorded it), found ${show(found)}`,
      };
      if (found !== undefined) difference.found = found;
      out.push(difference);
    }
  }
  const state = document.state;
  if (!isCheckpointIntact({ state, checksum: document.checksum })) {
    out.push({
      file,
      field: 'state',
      expected: document.checksum,
      found: stateChecksum(state),
      message: `${file}: state: does not match the document's checksum ${document.checksum}: edited or damaged`,
    });
  }
  if (logView === undefined) {
    out.push({
      file,
      field: 'version',
      expected: ref.version,
      message: `${file}: the log records this checkpoint at version ${ref.version} of session ${sessionId}, which the stream does not have`,
    });
    return;
  }
  const logState = sessionViewToJson(logView);
  const logChecksum = stateChecksum(logState);
  if (logChecksum !== ref.checksum) {
    out.push({
      file,
      field: 'checksum',
      expected: logChecksum,
      found: ref.checksum,
      message:
        `${file}: checksum: the CheckpointCreated event recorded ${ref.checksum}, but the state the log gives at ` +
        `version ${ref.version} has ${logChecksum}`,
    });
  }
  if (stateChecksum(state) !== logChecksum) {
    const changes: JsonChange[] = [];
    diffJson(logState, state, [], changes);
    for (const change of changes) {
      const difference = jsonDifference(file, change, ['state']);
      difference.message += ` (the log's state at version ${ref.version})`;
      out.push(difference);
    }
  }
}

/**
 * Check the memory files under `<dir>/sessions/` against the log: rebuild
 * them in memory from a replay and report every difference. A missing file,
 * a missing or extra session, each differing JSON field (with its path) and
 * each differing text line (with its number) is one difference; invalid JSON
 * is a difference, never a crash. Every checkpoint the log records (and has
 * not archived) must have its document, intact, with the state the log gives
 * at its version: its file (`sessions/checkpoints/<sessionId>/<id>.json`, or
 * the layout before a folder per session) when the engine's checkpoint store
 * keeps them in this folder, else the document in that store (the
 * `checkpoints` table beside a PostgreSQL log); a file in `sessions/` (or, with
 * the documents here, in `sessions/checkpoints/`) that the log does not
 * explain is reported too. The `archive/` folder is not
 * checked. Text files are compared with a true line diff; a compressed
 * context is compared as its text. Options not given come from the engine's
 * settings (`memoryFilesOptionsFrom`).
 *
 * @example
 * const report = await checkMemorySync(engine, '.moai');
 * for (const d of report.differences) console.log(d.message);
 * // sessions/session-state.json: sessions.demo.tokens.contextTokens: expected 73200, found 70000
 */
export async function checkMemorySync(
  engine: Engine,
  dir: string,
  options: MemoryFilesOptions = {},
): Promise<MemorySyncReport> {
  const replayed = await engine.replay();
  const { sessions } = replayed;
  const documents = buildMemoryDocuments(replayed, { ...memoryFilesOptionsFrom(engine.settings), ...options });
  const expectedText = memoryFilesOf(documents);
  const differences: MemoryDifference[] = [];

  const jsonData = new Map<string, unknown>([
    [SESSION_STATE_FILE, documents.sessionState],
    [CONTEXT_CACHE_FILE, documents.contextCache],
  ]);
  for (const file of MEMORY_FILES) {
    const expected = expectedText.get(file)!;
    const text = await readText(dir, file, differences);
    if (text === undefined) continue;
    if (file === TOKEN_USAGE_LOG_FILE || file === ACTIVE_TASKS_FILE) checkTextFile(file, expected, text, differences);
    else checkJsonFile(file, expected, jsonData.get(file), text, differences);
  }

  // Checkpoints, session by session in start order, each in log order: the files under
  // sessions/checkpoints/ when the engine keeps them there, else the documents of its store.
  const filesHere = resolve(engine.checkpoints.location) === resolve(dir, CHECKPOINTS_FOLDER);
  // By session, then id: `<sessionId>/<checkpointId>`.
  const recorded = new Set<string>();
  const archived = new Set<string>();
  // The checkpoint files the check read: the log explains them.
  const checked = new Set<string>();
  for (const [sessionId, view] of sessionsInStartOrder(sessions)) {
    const toVerify: CheckpointToVerify[] = [];
    for (const ref of ownCheckpoints(sessionId, sessions)) {
      if (view.checkpoints.archived.has(ref.checkpointId)) {
        archived.add(`${sessionId}/${ref.checkpointId}`);
        continue;
      }
      recorded.add(`${sessionId}/${ref.checkpointId}`);
      toVerify.push({ sessionId, view, ref });
    }
    if (toVerify.length === 0) continue;
    const stream = view.session.stream === '' ? sessionStream(sessionId) : view.session.stream;
    const logViews = await viewsAtVersions(engine, stream, new Set(toVerify.map((c) => c.ref.version)));
    for (const checkpoint of toVerify) {
      const found = filesHere ? await checkpointFile(dir, checkpoint, differences, checked) : await storedCheckpoint(engine.checkpoints, checkpoint, differences);
      if (found !== undefined) checkCheckpoint(found, checkpoint, logViews.get(checkpoint.ref.version), differences);
    }
  }

  // Files the log does not explain.
  const explained = new Set<string>([...MEMORY_FILES.map((f) => f.slice('sessions/'.length)), 'checkpoints/', 'archive/']);
  for (const name of (await listFolder(dir, 'sessions', differences)).sort()) {
    if (!explained.has(name)) {
      const file = `sessions/${name}`;
      differences.push({ file, message: `${file}: not a memory file; the log does not explain it` });
    }
  }
  const stray = (file: string, sessionId: string | undefined, id: string | undefined): void => {
    differences.push({
      file,
      message:
        id !== undefined && sessionId !== undefined && archived.has(`${sessionId}/${id}`)
          ? `${file}: checkpoint ${id} of session ${sessionId} was archived in the log; its file belongs in sessions/archive/`
          : `${file}: no checkpoint ${id ?? file.slice(file.lastIndexOf('/') + 1)} is recorded in the log` +
            `${sessionId === undefined ? '' : ` for session ${sessionId}`}; the file is stray`,
    });
  };
  const jsonId = (name: string): string | undefined => (name.endsWith('.json') ? name.slice(0, -'.json'.length) : undefined);
  // With the documents elsewhere, files in sessions/checkpoints/ are none of the engine's: not checked.
  for (const name of filesHere ? (await listFolder(dir, CHECKPOINTS_FOLDER, differences)).sort() : []) {
    const file = `${CHECKPOINTS_FOLDER}/${name}`;
    if (name.endsWith('/')) {
      // A session's folder: every document in it is a checkpoint its log records.
      const sessionId = name.slice(0, -1);
      for (const inner of (await listFolder(dir, file.slice(0, -1), differences)).sort()) {
        if (checked.has(`${file}${inner}`)) continue;
        stray(`${file}${inner}`, sessionId, jsonId(inner));
      }
      continue;
    }
    // The layout before a folder per session: the document names its session.
    if (checked.has(file)) continue;
    const named = await ownerOf(dir, file);
    stray(file, typeof named === 'string' ? named : undefined, jsonId(name));
  }

  return { inSync: differences.length === 0, differences };
}
