import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { StorageError } from '../errors.js';
import {
  type MemorySource,
  buildMemoryDocuments,
  CONTEXT_CACHE_FILE,
  memoryFilesOf,
  SESSION_STATE_FILE,
  toJsonText,
  type MemoryFilesOptions,
} from './memoryFiles.js';

/** What {@link writeMemoryFiles} did, by relative path. */
export interface WriteMemoryFilesResult {
  /** Files whose content changed (or that did not exist) and were rewritten. */
  written: string[];
  /** Files already holding exactly the expected content, left alone. */
  unchanged: string[];
}

let tempCounter = 0;

/**
 * Write a text file atomically: a temporary file in the same folder, then a
 * rename over the target, so a reader sees the old content or the new, never
 * half of it. Not fsynced: memory files are rebuilt from the log.
 */
export async function writeTextFileAtomic(file: string, content: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${++tempCounter}.tmp`);
  try {
    await writeFile(temp, content, 'utf8');
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

// A JSON memory file through lowdb: its adapters write a temporary file and
// rename it (steno). DataFile rather than JSONFile for the trailing newline.
async function writeJsonDocument(file: string, data: object): Promise<void> {
  const db = new Low<object>(new DataFile<object>(file, { parse: JSON.parse, stringify: toJsonText }), data);
  await db.write();
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Write the memory files of the sessions (views and token histories) under `dir`,
 * the `.moai` folder: `sessions/session-state.json` and
 * `sessions/context-cache.json` through lowdb, `sessions/token-usage.log` and
 * `sessions/active-tasks.md` directly; each atomically. A file already holding
 * exactly the expected content is not rewritten.
 *
 * @throws StorageError naming the file when a file cannot be read or written.
 * @example
 * await writeMemoryFiles('.moai', await engine.replay());
 */
export async function writeMemoryFiles(
  dir: string,
  source: MemorySource,
  options: MemoryFilesOptions = {},
): Promise<WriteMemoryFilesResult> {
  const documents = buildMemoryDocuments(source, options);
  const contents = memoryFilesOf(documents);
  const data: ReadonlyMap<string, object> = new Map<string, object>([
    [SESSION_STATE_FILE, documents.sessionState],
    [CONTEXT_CACHE_FILE, documents.contextCache],
  ]);
  const result: WriteMemoryFilesResult = { written: [], unchanged: [] };
  const sessionsDir = join(dir, 'sessions');
  try {
    await mkdir(sessionsDir, { recursive: true });
  } catch (error) {
    throw new StorageError(`Cannot create the memory-file folder ${sessionsDir}: ${(error as Error).message}.`, {
      cause: error,
    });
  }
  for (const [path, content] of contents) {
    const file = join(dir, path);
    try {
      if ((await readIfExists(file)) === content) {
        result.unchanged.push(path);
        continue;
      }
      const document = data.get(path);
      if (document !== undefined) await writeJsonDocument(file, document);
      else await writeTextFileAtomic(file, content);
      result.written.push(path);
    } catch (error) {
      throw new StorageError(
        `Cannot write the memory file ${file}: ${(error as Error).message}. ` +
          'Check that the folder is writable; the files are rebuilt from the log on the next sync.',
        { cause: error },
      );
    }
  }
  return result;
}
