import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { lock } from 'proper-lockfile';
import { LogLockedError, StorageError } from '../errors.js';

/*
 * One writer process at a time: `writer.lock` (proper-lockfile, refreshed
 * while held, stale after 10 s) and, beside it, `writer.json` saying who
 * holds it, so a second writer is told whom it waits for.
 */

const LOCK_NAME = 'writer.lock';
const OWNER_NAME = 'writer.json';

/** Options of {@link acquireWriterLock}. */
export interface WriterLockOptions {
  /** How long to wait for another writer to let go; 0 fails at once. */
  waitMs: number;
  /** Called when the lock was lost while held (its file changed or went stale under it). */
  onCompromised: (error: Error) => void;
}

/** A held writer lock. */
export interface WriterLock {
  /** Let the lock go (and remove the owner file); never fails. */
  release(): Promise<void>;
}

/**
 * Take the writer lock of the log in `dir` and say who holds it. A lock
 * another writer holds is a {@link LogLockedError} naming that writer; an
 * owner file that cannot be written lets the lock go again before it throws.
 */
export async function acquireWriterLock(dir: string, options: WriterLockOptions): Promise<WriterLock> {
  const { waitMs } = options;
  let releaseLock: () => Promise<void>;
  try {
    releaseLock = await lock(dir, {
      lockfilePath: join(dir, LOCK_NAME),
      stale: 10_000,
      update: 2_000,
      retries: waitMs > 0 ? { retries: Math.ceil(waitMs / 100), minTimeout: 100, maxTimeout: 100, factor: 1 } : 0,
      onCompromised: options.onCompromised,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new LogLockedError(dir, await describeOwner(dir));
    }
    throw new StorageError(`Cannot lock the event log in ${dir}: ${(error as Error).message}`, { cause: error });
  }
  let released = false;
  const held: WriterLock = {
    async release() {
      if (released) return;
      released = true;
      await rm(join(dir, OWNER_NAME), { force: true }).catch(() => {}); // whatever is in its way, the lock is let go
      await releaseLock().catch(() => {});
    },
  };
  try {
    await writeOwner(dir);
  } catch (error) {
    await held.release();
    throw error;
  }
  return held;
}

/** Say who holds the lock, for the message a second writer gets. */
async function writeOwner(dir: string): Promise<void> {
  const owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const path = join(dir, OWNER_NAME);
  await writeFile(path, `${JSON.stringify(owner)}\n`).catch((error: unknown) => {
    throw new StorageError(`Cannot write ${path}: ${(error as Error).message}`, { cause: error });
  });
}

async function describeOwner(dir: string): Promise<string> {
  try {
    const owner = JSON.parse(await readFile(join(dir, OWNER_NAME), 'utf8')) as Record<string, unknown>;
    return `pid ${String(owner.pid)} on ${String(owner.host)}, since ${String(owner.since)}`;
  } catch {
    return 'owner unknown';
  }
}
