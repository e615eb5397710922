import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isLogLockedError, StorageError } from '../errors.js';
import { acquireWriterLock } from '../store/writerLock.js';
import {
  type MemorySource,
  buildMemoryDocuments,
  MEMORY_FILES_LOCK,
  memoryFilesOf,
  SESSION_STATE_FILE,
  type MemoryFilesOptions,
} from './memoryFiles.js';

/** What {@link writeMemoryFiles} did, by relative path. */
export interface WriteMemoryFilesResult {
  /** Files whose content changed (or that did not exist) and were rewritten. */
  written: string[];
  /** Files already holding exactly the expected content, left alone. */
  unchanged: string[];
  /**
   * The log position the files on disk were built at, when it is later than
   * the source's (`lastPosition`): another process wrote newer files, and
   * nothing was written (`written` and `unchanged` are empty).
   */
  newerOnDisk?: number;
  /**
   * Set when the lock of the memory files was left by a process that is gone
   * (killed while it wrote them) and was taken at once: a sentence naming it.
   */
  tookOverLock?: string;
}

/** Options of {@link writeMemoryFiles}: what the files hold, and how to tell files of another log. */
export interface WriteMemoryFilesOptions extends MemoryFilesOptions {
  /**
   * The log's head position now. Files that show a later position than the
   * source's are left alone only while that position is in the log; past its
   * head they were built from another log (one replaced, or repaired
   * shorter) and are overwritten. Without it, such files are left alone.
   */
  headPosition?: () => Promise<number>;
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

/*
 * Several processes may sync one folder's memory files at once (with the log
 * in PostgreSQL nothing else serialises them). Each write takes the lock in
 * `sessions/.memory-files.lock/` (the writer lock of src/store/writerLock.ts
 * in a folder of its own: a file saying who holds it, pid, host, PID
 * namespace and start time), then reads the log position
 * `session-state.json` was built at and writes only when its own is not
 * older. The lock alone would let an older projection that took the lock
 * last win; the position alone would leave a gap between the comparison and
 * the rename. Under the lock, lowdb's atomic write (whose temporary name is
 * the same in every process) is safe: it was the cause of the ENOENT races
 * before the lock.
 *
 * A lock whose owner is gone (a process killed while it wrote the files) is
 * taken at once and said so (`tookOverLock`); one from another host or PID
 * namespace only once it has gone 10 s without a touch. The folder stays.
 */
const LOCK_WAIT_MS = 15_000;

interface MemoryFilesLock {
  /** Why a lock left by a gone owner was taken, if one was. */
  tookOver: string | undefined;
  release(): Promise<void>;
}

async function lockMemoryFiles(sessionsDir: string): Promise<MemoryFilesLock> {
  const lockDir = join(sessionsDir, MEMORY_FILES_LOCK);
  try {
    await mkdir(lockDir, { recursive: true });
    // A lock lost while held (taken over as stale) is no reason to stop: the files are rebuilt from the log.
    const lock = await acquireWriterLock(lockDir, { waitMs: LOCK_WAIT_MS, onCompromised: () => undefined });
    const prefix = `Took over the writer lock of ${lockDir}: `;
    const why = lock.tookOver?.startsWith(prefix) ? lock.tookOver.slice(prefix.length) : lock.tookOver;
    return {
      tookOver:
        why === undefined
          ? undefined
          : `Took over the memory-files lock ${lockDir} without waiting: ${why.replace(/\.$/, '')}; ` +
            'a process stopped while it wrote the memory files, which were written again from the log.',
      release: () => lock.release(),
    };
  } catch (error) {
    const why = isLogLockedError(error) ? `another process holds it (${error.owner})` : (error as Error).message;
    throw new StorageError(
      `Cannot lock the memory files (${lockDir}): ${why}. They are rebuilt from the log on the next sync.`,
      { cause: error },
    );
  }
}

/** The log position `session-state.json` says it was built at; undefined when it is missing, unreadable or says none. */
async function positionOnDisk(file: string): Promise<number | undefined> {
  let text: string | undefined;
  try {
    text = await readIfExists(file);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  try {
    const position = (JSON.parse(text) as { log_position?: unknown }).log_position;
    return typeof position === 'number' && Number.isSafeInteger(position) ? position : undefined;
  } catch {
    return undefined;
  }
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
 * the `.moai` folder: `sessions/session-state.json`, `sessions/context-cache.json`,
 * `sessions/token-usage.log` and `sessions/active-tasks.md`, each atomically
 * through lowdb's text adapter (a temporary file, then a rename), under the
 * lock. A file already holding exactly the expected content is not rewritten.
 *
 * Safe across processes: the write holds the lock in `sessions/.memory-files.lock/`
 * (one left by a process that is gone is taken at once, said in `tookOverLock`), and
 * when the source says the log position it reflects (`lastPosition`, as a
 * replay report does) and `session-state.json` shows a later one, nothing is
 * written (`newerOnDisk`): an older projection never overwrites a newer one
 * (unless `options.headPosition` says that position is past the log's head).
 *
 * @throws StorageError naming the file when a file cannot be read or written.
 * @example
 * await writeMemoryFiles('.moai', await engine.replay());
 */
export async function writeMemoryFiles(
  dir: string,
  source: MemorySource,
  options: WriteMemoryFilesOptions = {},
): Promise<WriteMemoryFilesResult> {
  const { headPosition, ...fileOptions } = options;
  const contents = memoryFilesOf(buildMemoryDocuments(source, fileOptions));
  const result: WriteMemoryFilesResult = { written: [], unchanged: [] };
  const sessionsDir = join(dir, 'sessions');
  try {
    await mkdir(sessionsDir, { recursive: true });
  } catch (error) {
    throw new StorageError(`Cannot create the memory-file folder ${sessionsDir}: ${(error as Error).message}.`, {
      cause: error,
    });
  }
  const lock = await lockMemoryFiles(sessionsDir);
  if (lock.tookOver !== undefined) result.tookOverLock = lock.tookOver;
  const { TextFile } = await import('lowdb/node');
  try {
    if (source.lastPosition !== undefined) {
      const onDisk = await positionOnDisk(join(dir, SESSION_STATE_FILE));
      if (onDisk !== undefined && onDisk > source.lastPosition && (headPosition === undefined || onDisk <= (await headPosition()))) {
        return { ...result, newerOnDisk: onDisk };
      }
    }
    // session-state.json, which says the position, last: it never claims files not yet written.
    const ordered = [...contents].sort(([a], [b]) => Number(a === SESSION_STATE_FILE) - Number(b === SESSION_STATE_FILE));
    for (const [path, content] of ordered) {
      const file = join(dir, path);
      try {
        if ((await readIfExists(file)) === content) {
          result.unchanged.push(path);
          continue;
        }
        // lowdb's text adapter writes a temporary file and renames it (steno). Its temporary name
        // (`.<name>.tmp`) is the same in every process, which the lock above makes safe: one writer at a time.
        await new TextFile(file).write(content);
        result.written.push(path);
      } catch (error) {
        throw new StorageError(
          `Cannot write the memory file ${file}: ${(error as Error).message}. ` +
            'Check that the folder is writable; the files are rebuilt from the log on the next sync.',
          { cause: error },
        );
      }
    }
    // Reported in the files' own order, whatever order they were written in.
    const order = [...contents.keys()];
    const byOrder = (a: string, b: string): number => order.indexOf(a) - order.indexOf(b);
    result.written.sort(byOrder);
    result.unchanged.sort(byOrder);
    return result;
  } finally {
    await lock.release().catch(() => undefined);
  }
}
