import { access, mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../errors.js';
import type { CheckpointDocument } from './checkpointDocument.js';

/** A checkpoint document as found, or why it could not be read. */
export type LoadedCheckpoint =
  | { ok: true; document: CheckpointDocument; file: string }
  | { ok: false; checkpointId: string; file: string; reason: string };

/**
 * Where checkpoint documents live. The log records each checkpoint
 * (`CheckpointCreated`, with its checksum); the store keeps the state it
 * captured, so a resume can start from it instead of from the first event.
 */
export interface CheckpointStore {
  /** Keep a document (replacing one of the same session with the same id; another session's is refused). */
  save(document: CheckpointDocument): Promise<void>;
  /** Every document of a session that is not archived, as found: readable or not. */
  list(sessionId: string): Promise<LoadedCheckpoint[]>;
  /** Move a document to the archive. */
  archive(checkpointId: string): Promise<void>;
  /** Where the documents are, for messages. */
  readonly location: string;
}

const NAME = /^([A-Za-z0-9][A-Za-z0-9._:-]*)\.json$/;

/**
 * Checkpoint documents as files: `<dir>/sessions/checkpoints/<checkpointId>.json`,
 * archived to `<dir>/sessions/archive/`. Each is written to a temporary file
 * and renamed into place, so a crash never leaves half a checkpoint.
 */
export function createFileCheckpointStore(dir: string): CheckpointStore {
  const folder = join(dir, 'sessions', 'checkpoints');
  const archiveFolder = join(dir, 'sessions', 'archive');
  return {
    location: folder,
    async save(document) {
      await mkdir(folder, { recursive: true });
      const file = join(folder, `${document.checkpointId}.json`);
      // Ids are unique within a session; engines with injected ids can repeat one across sessions.
      // A file that cannot be read or parsed names no session: it is replaced, as before.
      let owner: unknown;
      try {
        owner = (JSON.parse(await readFile(file, 'utf8')) as { sessionId?: unknown } | null)?.sessionId;
      } catch {
        owner = undefined;
      }
      if (owner !== undefined && owner !== document.sessionId) {
        throw new StorageError(
          `${file} holds checkpoint ${document.checkpointId} of session ${String(owner)}; ` +
            `it is not overwritten with session ${document.sessionId}'s. Give the engine an id source that does not repeat across sessions.`,
        );
      }
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
    async list(sessionId) {
      let names: string[];
      try {
        names = await readdir(folder);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw new StorageError(`Cannot read the checkpoints in ${folder}: ${(error as Error).message}`, { cause: error });
      }
      const found: LoadedCheckpoint[] = [];
      for (const name of names) {
        const checkpointId = NAME.exec(name)?.[1];
        if (checkpointId === undefined) continue;
        const file = join(folder, name);
        try {
          const document = JSON.parse(await readFile(file, 'utf8')) as CheckpointDocument;
          if (document.sessionId === sessionId) found.push({ ok: true, document, file });
        } catch (error) {
          found.push({ ok: false, checkpointId, file, reason: (error as Error).message });
        }
      }
      return found;
    },
    async archive(checkpointId) {
      await mkdir(archiveFolder, { recursive: true });
      // Never over an archived file of the same name (another session's, with a repeated id).
      let target = join(archiveFolder, `${checkpointId}.json`);
      for (let n = 2; await access(target).then(() => true, () => false); n++) target = join(archiveFolder, `${checkpointId}.${n}.json`);
      await rename(join(folder, `${checkpointId}.json`), target).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
    },
  };
}

/** Checkpoint documents in memory, for engines without a state folder. */
export function createMemoryCheckpointStore(): CheckpointStore {
  const documents = new Map<string, CheckpointDocument>();
  return {
    location: '(memory)',
    async save(document) {
      documents.set(document.checkpointId, structuredClone(document));
    },
    async list(sessionId) {
      return [...documents.values()]
        .filter((document) => document.sessionId === sessionId)
        .map((document) => ({ ok: true as const, document: structuredClone(document), file: `(memory)/${document.checkpointId}` }));
    },
    async archive(checkpointId) {
      documents.delete(checkpointId);
    },
  };
}
