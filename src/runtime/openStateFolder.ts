import { join } from 'node:path';
import { createFileViewSnapshots, readOnlySnapshots } from '../checkpoints/viewSnapshots.js';
import { loadConfig } from '../config/loadConfig.js';
import { createEngine, type Engine, type EngineOptions } from '../engine/createEngine.js';
import type { EngineWarning } from '../engine/commandRunner.js';
import { ReplayFold } from '../engine/replay.js';
import type { StoredEvent } from '../events/envelope.js';
import type { EventStore } from '../store/eventStore.js';
import { appendedSince } from './appendedSince.js';
import { openStateFolderLog, type StateFolderLocation } from './openStateFolderLog.js';
import { refuseForeignFolder, requireStateFolder, resolveStateFolder } from './stateFolder.js';

/** Options of {@link openStateFolder}. */
export interface OpenStateFolderOptions extends StateFolderLocation, Omit<EngineOptions, 'dir' | 'store' | 'onAppend'> {
  /**
   * `write` (default): the engine is the folder's writer (taking the lock),
   * and the folder is created if it does not exist. `read`: the engine works
   * on the log opened read-only, for inspection; nothing is written.
   */
  mode?: 'write' | 'read';
  /** Refuse a folder that does not exist yet instead of creating it (write mode; read mode always refuses). */
  requireExisting?: boolean;
  /**
   * Rebuild the memory files under `<dir>/sessions/` in {@link StateFolder.settle}
   * when anything was appended. Defaults to `session.persistence_enabled`.
   * With it, the whole log is read and checked once when the folder opens, so
   * nothing is appended to a log with a corrupt line, and the files are
   * folded from that same read plus what was appended.
   */
  memoryFiles?: boolean;
}

/** What {@link StateFolder.settle} did. */
export interface SettleResult {
  /** Checkpoints moved to the archive by the retention. */
  archived: { sessionId: string; checkpointId: string }[];
  /** Memory files rewritten (relative paths); undefined when they were not rebuilt. */
  memoryFilesWritten: string[] | undefined;
}

/** An engine on a state folder, with what the folder owes the log after work: retention and memory files. */
export interface StateFolder {
  /** The absolute state folder. */
  readonly dir: string;
  readonly engine: Engine;
  /** Every event the engine appended since the folder opened, in order (the policies' too). */
  readonly appended: readonly StoredEvent[];
  /** What the engine noticed and did not throw, in order. */
  readonly warnings: readonly EngineWarning[];
  /**
   * Bring the folder in line with the log after work, when anything was
   * appended: archive checkpoints past the retention (`retention`, default
   * true), then rewrite the memory files. Neither failure is thrown: each is
   * a warning (`RETENTION_FAILED`, `MEMORY_FILES_FAILED`) saying what to do,
   * since the events are already in the log.
   */
  settle(options?: { retention?: boolean }): Promise<SettleResult>;
  /** Close the engine and its store. */
  close(): Promise<void>;
}

/**
 * Open an engine on a state folder: its config, its store through the
 * registry, its checkpoint documents, and afterwards what the CLI does after
 * every write command (`settle`): the checkpoint retention and the memory
 * files. The one composition root for a state folder, shared by the CLI and
 * the library.
 *
 * @example
 * const folder = await openStateFolder({ dir: '.moai' });
 * const session = await folder.engine.startSession({ agent: 'planner', model: 'claude-sonnet-4-5' });
 * await session.addTask({ taskId: 'spec', title: 'Write the spec' });
 * await folder.settle(); // retention, then .moai/sessions/* rebuilt
 * await folder.close();
 */
export async function openStateFolder(options: OpenStateFolderOptions = {}): Promise<StateFolder> {
  const { dir: dirOption, cwd, env, mode = 'write', requireExisting, memoryFiles, ...engineOptions } = options;
  const dir = resolveStateFolder(dirOption, cwd);
  const appended: StoredEvent[] = [];
  const warnings: EngineWarning[] = [];
  const onWarning = (warning: EngineWarning): void => {
    warnings.push(warning);
    options.onWarning?.(warning);
  };

  let engine: Engine;
  let readStore: EventStore | undefined;
  if (mode === 'read') {
    readStore = await openStateFolderLog({ dir, env: env ?? process.env, mode: 'read' });
    try {
      const config = engineOptions.config ?? (await loadConfig({ dir, env: env ?? process.env })).config;
      engine = await createEngine({
        ...engineOptions,
        config,
        store: readStore,
        dir,
        // A reader uses the snapshots and never writes one.
        snapshots: readOnlySnapshots(createFileViewSnapshots(dir)),
        onWarning,
        onAppend: (events) => appended.push(...events),
      });
    } catch (error) {
      await readStore.close();
      throw error;
    }
  } else {
    if (requireExisting === true) await requireStateFolder(dir, env ?? process.env);
    else await refuseForeignFolder(dir, env ?? process.env);
    // The config as this environment gives it (MOAI_STORE_URL included), not the process's.
    const config = engineOptions.config ?? (await loadConfig({ dir, env: env ?? process.env })).config;
    // The folder's memory files are rebuilt by settle(), from one read of the log: not also live by the engine.
    engine = await createEngine({ ...engineOptions, config, dir, memoryFiles: false, onWarning, onAppend: (events) => appended.push(...events) });
  }
  const close = async (): Promise<void> => {
    try {
      await engine.close();
    } finally {
      await readStore?.close();
    }
  };

  // With the memory files on, the whole log is read (and so checked) before any work: a corrupt line stops the
  // command before it appends, and the files are folded from this read plus what is appended.
  let fold: ReplayFold | undefined;
  if (mode === 'write' && (memoryFiles ?? engine.settings.persistenceEnabled)) {
    try {
      fold = new ReplayFold(engine.store);
      await fold.visitLog();
    } catch (error) {
      await close();
      throw error;
    }
  }

  const settle = async (settleOptions: { retention?: boolean } = {}): Promise<SettleResult> => {
    const result: SettleResult = { archived: [], memoryFilesWritten: undefined };
    if (appended.length === 0) return result; // nothing appended, nothing to bring in line
    if (settleOptions.retention !== false) {
      try {
        result.archived = (await engine.applyRetention()).archived;
      } catch (error) {
        onWarning({
          code: 'RETENTION_FAILED',
          message: `old checkpoints could not be archived (${(error as Error).message}); the command's events are in the log.`,
        });
      }
    }
    // Which session is current, for the next command: a cache, so a failure costs only its speed.
    await (await import('./currentSession.js')).refreshSessionActivity(engine.store, dir, appended).catch(() => undefined);
    if (fold !== undefined) {
      try {
        // What this command appended, when that is all the log has past the fold: not read again.
        const tail = appendedSince(appended, fold.lastPosition + 1, await engine.store.headPosition());
        if (tail === undefined) await fold.visitLog(fold.lastPosition + 1);
        else await fold.visitBatch(tail);
        const { writeMemoryFiles } = await import('../memory/writeMemoryFiles.js');
        const { memoryFilesOptionsFrom } = await import('../memory/memoryFiles.js');
        const written = await writeMemoryFiles(dir, fold.report(), {
          ...memoryFilesOptionsFrom(engine.settings),
          headPosition: () => engine.store.headPosition(),
        });
        if (written.tookOverLock !== undefined) onWarning({ code: 'MEMORY_FILES_LOCK_TAKEN_OVER', message: written.tookOverLock });
        result.memoryFilesWritten = written.written;
      } catch (error) {
        onWarning({
          code: 'MEMORY_FILES_FAILED',
          message:
            `the command's events are in the log, but the memory files under ${join(dir, 'sessions')} could not be rebuilt ` +
            `(${(error as Error).message}): fix what the message names, then run \`moai-session replay --write-memory-files\`.`,
        });
      }
    }
    return result;
  };

  return { dir, engine, appended, warnings, settle, close };
}
