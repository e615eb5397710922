import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createEngine, type Engine, type EngineOptions } from '../engine/createEngine.js';
import type { EngineWarning } from '../engine/sessionHandle.js';
import type { StoredEvent } from '../events/envelope.js';
import { StorageError } from '../errors.js';
import { writeMemoryFiles } from '../memory/writeMemoryFiles.js';
import { openFileEventStore, type FileEventStore } from '../store/fileEventStore.js';
import type { CliIo, GlobalOptions } from './io.js';

/** The absolute path of the state folder the options name. */
export const stateFolder = (options: GlobalOptions, io: CliIo): string => resolve(io.cwd, options.dir);

/** Refuse a state folder that is missing or not a folder, with a sentence that says what to do. */
async function requireStateFolder(dir: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StorageError(
        `No moai-session state folder at ${dir}. Run \`moai-session demo\` or \`moai-session start\` there first, or point --dir at an existing .moai folder.`,
      );
    }
    throw new StorageError(`Cannot read the state folder ${dir}: ${(error as Error).message}`, { cause: error });
  }
  if (!info.isDirectory()) throw new StorageError(`${dir} is not a folder; --dir must name a .moai state folder.`);
}

/**
 * Open the log of an existing state folder read-only: inspection commands never
 * take the writer lock, never repair and never create anything.
 */
export async function openLogForReading(options: GlobalOptions, io: CliIo): Promise<FileEventStore> {
  const dir = stateFolder(options, io);
  await requireStateFolder(dir);
  return openFileEventStore({ dir: join(dir, 'events'), readOnly: true });
}

/** What a command gets to work with from {@link withEngine}. */
export interface EngineRun {
  engine: Engine;
  /** The absolute state folder. */
  dir: string;
  /** Every event appended while the command runs, in order (the policies' too). */
  appended: StoredEvent[];
  /** What the engine noticed and did not throw; each is also printed on stderr. */
  warnings: EngineWarning[];
}

/** Options of {@link withEngine}. */
export interface WithEngineOptions {
  /** Refuse a state folder that does not exist yet instead of creating it (every command but `start` and `demo`). */
  requireExisting?: boolean;
  /** More engine options (a clock, a summariser). */
  engine?: Omit<EngineOptions, 'dir' | 'store'>;
}

/**
 * Run a write command on the engine of the state folder: open it (taking the
 * writer lock), run `work`, then bring the memory files under
 * `<dir>/sessions/` in line with the log (when `session.persistence_enabled`)
 * and close the engine, whatever happened.
 */
export async function withEngine<T>(
  options: GlobalOptions,
  io: CliIo,
  work: (run: EngineRun) => Promise<T>,
  settings: WithEngineOptions = {},
): Promise<T> {
  const dir = stateFolder(options, io);
  if (settings.requireExisting === true) await requireStateFolder(dir);
  const engine = await createEngine({ ...settings.engine, dir });
  const run: EngineRun = { engine, dir, appended: [], warnings: [] };
  const appended = engine.events$.subscribe((event) => run.appended.push(event));
  const warnings = engine.warnings$.subscribe((warning) => {
    run.warnings.push(warning);
    io.stderr(`moai-session: warning: ${warning.message}\n`);
  });
  let succeeded = false;
  try {
    const result = await work(run);
    succeeded = true;
    return result;
  } finally {
    try {
      if (engine.settings.persistenceEnabled) await syncMemoryFiles(engine, dir);
    } catch (error) {
      // The command's events are in the log: a sync that fails after it is a
      // warning (the command's own error, if any, says more).
      if (succeeded) {
        io.stderr(
          `moai-session: warning: the memory files under ${dir}/sessions could not be rebuilt (${(error as Error).message}); ` +
            'the log is unchanged by this: fix what the message names, then run `moai-session replay --write-memory-files`.\n',
        );
      }
    } finally {
      appended.unsubscribe();
      warnings.unsubscribe();
      await engine.close();
    }
  }
}

/** Rewrite the memory files under `<dir>/sessions/` from a replay of the log (files already right are left alone). */
export async function syncMemoryFiles(engine: Engine, dir: string): Promise<void> {
  await writeMemoryFiles(dir, await engine.replay(), { contextWindows: engine.settings.budget.contextWindows });
}

/**
 * Run an inspection command on an engine over the log opened read-only: no
 * writer lock, nothing repaired, nothing written. The config of the state
 * folder applies (context windows, thresholds, handoff rules).
 */
export async function withReadOnlyEngine<T>(
  options: GlobalOptions,
  io: CliIo,
  work: (engine: Engine, dir: string) => Promise<T>,
): Promise<T> {
  const store = await openLogForReading(options, io);
  try {
    const dir = stateFolder(options, io);
    const engine = await createEngine({ store, dir });
    try {
      return await work(engine, dir);
    } finally {
      await engine.close();
    }
  } finally {
    await store.close();
  }
}
