import { access, mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StorageError } from '../errors.js';
import { isValidId } from '../validation/ids.js';
import type { CheckpointDocument } from './checkpointDocument.js';

/** A checkpoint document as found, or why it could not be read. */
export type LoadedCheckpoint =
  | { ok: true; document: CheckpointDocument; file: string }
  | { ok: false; checkpointId: string; file: string; reason: string };

/**
 * Where checkpoint documents live: the one interface every checkpoint store
 * implements (files, memory, PostgreSQL). The log records each checkpoint
 * (`CheckpointCreated`, with its checksum); the store keeps the state it
 * captured, so a resume can start from it instead of from the first event.
 * A store never decides whether a document is valid: it gives back what it
 * holds (or why it cannot be read), and the engine checks it against the log.
 *
 * @example
 * const store = createFileCheckpointStore('.moai');
 * await store.save(document);
 * const found = await store.load('demo', document.checkpointId); // { ok: true, document, file }
 * await store.archive(document.checkpointId, 'demo');
 */
export interface CheckpointStore {
  /** Keep a document (replacing one of the same session with the same id); all of it or, after a crash, the one before. */
  save(document: CheckpointDocument): Promise<void>;
  /** One document of a session, as found (readable or not); undefined when the store has none of that id for the session (or it is archived). */
  load(sessionId: string, checkpointId: string): Promise<LoadedCheckpoint | undefined>;
  /** Every document of a session that is not archived, as found: readable or not, in id order. */
  list(sessionId: string): Promise<LoadedCheckpoint[]>;
  /**
   * Move a document to the archive (it is no longer listed or loaded).
   * Without `sessionId` the document is looked for in every session's
   * folder (and the old flat layout); archiving one that is not there (any
   * more) does nothing.
   */
  archive(checkpointId: string, sessionId?: string): Promise<void>;
  /** Where the documents are, for messages. */
  readonly location: string;
  /** Where a session's document of that id is (or would be) kept, for messages. */
  fileOf?(sessionId: string, checkpointId: string): string;
  /**
   * The working folder whose git state each checkpoint records (when it is
   * in a git repository); undefined: no git state is recorded.
   */
  readonly workingFolder?: string;
}

/** Options of {@link createFileCheckpointStore}. */
export interface FileCheckpointStoreOptions {
  /**
   * The folder whose git state each checkpoint records; defaults to the
   * folder that holds the state folder (the project). `false`: none.
   */
  workingFolder?: string | false;
}

const NAME = /^([A-Za-z0-9][A-Za-z0-9._:-]*)\.json$/;

/**
 * Checkpoint documents as files: `<dir>/sessions/checkpoints/<sessionId>/<checkpointId>.json`,
 * archived to `<dir>/sessions/archive/<sessionId>/`. Each is written to a
 * temporary file and renamed into place, so a crash never leaves half a
 * checkpoint. Documents of the layout before the folder per session
 * (`<dir>/sessions/checkpoints/<checkpointId>.json`) are still read and archived.
 */
export function createFileCheckpointStore(dir: string, options: FileCheckpointStoreOptions = {}): CheckpointStore {
  const folder = join(dir, 'sessions', 'checkpoints');
  const archiveFolder = join(dir, 'sessions', 'archive');
  const fileOf = (sessionId: string, checkpointId: string): string => join(folder, sessionId, `${checkpointId}.json`);
  const flatFileOf = (checkpointId: string): string => join(folder, `${checkpointId}.json`);
  const exists = (file: string): Promise<boolean> => access(file).then(() => true, () => false);
  const sessionIdIn = async (file: string): Promise<unknown> => {
    try {
      return (JSON.parse(await readFile(file, 'utf8')) as { sessionId?: unknown } | null)?.sessionId;
    } catch {
      return undefined;
    }
  };
  const readDocuments = async (from: string, keep: (document: CheckpointDocument) => boolean, found: LoadedCheckpoint[]): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(from);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw new StorageError(`Cannot read the checkpoints in ${from}: ${(error as Error).message}`, { cause: error });
    }
    for (const name of names.sort()) {
      const checkpointId = NAME.exec(name)?.[1];
      if (checkpointId === undefined) continue;
      const file = join(from, name);
      try {
        const document = JSON.parse(await readFile(file, 'utf8')) as CheckpointDocument;
        if (keep(document)) found.push({ ok: true, document, file });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EISDIR') continue;
        found.push({ ok: false, checkpointId, file, reason: (error as Error).message });
      }
    }
  };
  const workingFolder = options.workingFolder === false ? undefined : (options.workingFolder ?? dirname(dir));
  return {
    location: folder,
    ...(workingFolder === undefined ? {} : { workingFolder }),
    fileOf,
    async save(document) {
      if (!isValidId('session', document.sessionId) || !isValidId('checkpoint', document.checkpointId)) {
        throw new StorageError(
          `Checkpoint ${JSON.stringify(document.checkpointId)} of session ${JSON.stringify(document.sessionId)} cannot be a file name: ` +
            'ids are letters, digits, dots, colons, underscores and dashes.',
        );
      }
      const file = fileOf(document.sessionId, document.checkpointId);
      await mkdir(dirname(file), { recursive: true });
      // Synced before the rename, so a crash leaves the old file or the whole new one.
      const temporary = `${file}.${process.pid}.tmp`;
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(`${JSON.stringify(document, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, file);
    },
    async load(sessionId, checkpointId) {
      if (!isValidId('session', sessionId) || !isValidId('checkpoint', checkpointId)) return undefined;
      for (const file of [fileOf(sessionId, checkpointId), flatFileOf(checkpointId)]) {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') continue;
          return { ok: false, checkpointId, file, reason: (error as Error).message };
        }
        let document: CheckpointDocument;
        try {
          document = JSON.parse(text) as CheckpointDocument;
        } catch (error) {
          // A flat file names no session when it cannot be read: it is reported for the session asked about.
          return { ok: false, checkpointId, file, reason: (error as Error).message };
        }
        if (file === flatFileOf(checkpointId) && document?.sessionId !== sessionId) continue;
        return { ok: true, document, file };
      }
      return undefined;
    },
    async list(sessionId) {
      const found: LoadedCheckpoint[] = [];
      if (isValidId('session', sessionId)) await readDocuments(join(folder, sessionId), (document) => document.sessionId === sessionId, found);
      // The layout before a folder per session: a file that cannot be read names no session, and is listed for each.
      const flat: LoadedCheckpoint[] = [];
      await readDocuments(folder, (document) => document.sessionId === sessionId, flat);
      const seen = new Set(found.map((entry) => (entry.ok ? entry.document.checkpointId : entry.checkpointId)));
      for (const entry of flat) {
        const id = entry.ok ? entry.document.checkpointId : entry.checkpointId;
        if (!seen.has(id)) found.push(entry);
      }
      return found;
    },
    async archive(checkpointId, sessionId) {
      const candidates: { file: string; sessionId: string | undefined }[] = [];
      if (sessionId !== undefined) {
        if (await exists(fileOf(sessionId, checkpointId))) candidates.push({ file: fileOf(sessionId, checkpointId), sessionId });
      } else {
        let names: string[] = [];
        try {
          names = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
        for (const name of names.sort()) {
          if (await exists(fileOf(name, checkpointId))) candidates.push({ file: fileOf(name, checkpointId), sessionId: name });
        }
      }
      const flat = flatFileOf(checkpointId);
      if (candidates.length === 0 && (await exists(flat))) {
        const owner = await sessionIdIn(flat);
        if (sessionId === undefined || owner === sessionId || owner === undefined) {
          candidates.push({ file: flat, sessionId: typeof owner === 'string' && isValidId('session', owner) ? owner : undefined });
        }
      }
      if (candidates.length === 0) return; // already moved: archiving twice is archiving once
      if (candidates.length > 1) {
        throw new StorageError(
          `Checkpoint ${checkpointId} is kept for several sessions (${candidates.map((c) => c.sessionId).join(', ')}); ` +
            'name the session whose checkpoint to archive.',
        );
      }
      const { file, sessionId: owner } = candidates[0]!;
      const target = owner === undefined ? archiveFolder : join(archiveFolder, owner);
      await mkdir(target, { recursive: true });
      // Never over an archived file of the same name.
      let destination = join(target, `${checkpointId}.json`);
      for (let n = 2; await exists(destination); n++) destination = join(target, `${checkpointId}.${n}.json`);
      await rename(file, destination).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
    },
  };
}

/** Options of {@link createMemoryCheckpointStore}. */
export interface MemoryCheckpointStoreOptions {
  /** The folder whose git state each checkpoint records; none by default. */
  workingFolder?: string;
}

/** Checkpoint documents in memory, for engines without a state folder. */
export function createMemoryCheckpointStore(options: MemoryCheckpointStoreOptions = {}): CheckpointStore {
  const documents = new Map<string, CheckpointDocument>();
  const key = (sessionId: string, checkpointId: string): string => JSON.stringify([sessionId, checkpointId]);
  return {
    location: '(memory)',
    ...(options.workingFolder === undefined ? {} : { workingFolder: options.workingFolder }),
    fileOf: (sessionId, checkpointId) => `(memory)/${sessionId}/${checkpointId}`,
    async save(document) {
      documents.set(key(document.sessionId, document.checkpointId), structuredClone(document));
    },
    async load(sessionId, checkpointId) {
      const document = documents.get(key(sessionId, checkpointId));
      return document === undefined
        ? undefined
        : { ok: true, document: structuredClone(document), file: `(memory)/${sessionId}/${checkpointId}` };
    },
    async list(sessionId) {
      return [...documents.values()]
        .filter((document) => document.sessionId === sessionId)
        .sort((a, b) => (a.checkpointId < b.checkpointId ? -1 : a.checkpointId > b.checkpointId ? 1 : 0))
        .map((document) => ({
          ok: true as const,
          document: structuredClone(document),
          file: `(memory)/${sessionId}/${document.checkpointId}`,
        }));
    },
    async archive(checkpointId, sessionId) {
      for (const [k, document] of documents) {
        if (document.checkpointId === checkpointId && (sessionId === undefined || document.sessionId === sessionId)) documents.delete(k);
      }
    },
  };
}
