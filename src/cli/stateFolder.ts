import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createEngine, type Engine, type EngineOptions } from '../engine/createEngine.js';
import { ReplayFold } from '../engine/replay.js';
import { loadConfig } from '../config/loadConfig.js';
import type { EngineWarning } from '../engine/sessionHandle.js';
import type { StoredEvent } from '../events/envelope.js';
import { StorageError, unsupportedStoreError } from '../errors.js';
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
  if (!info.isDirectory()) throw notAFolder(dir);
  // A state folder holds its log, its config, or both: any other folder is a wrong --dir, not an empty log.
  if (!(await exists(join(dir, 'events'))) && !(await exists(join(dir, 'config', 'config.json')))) {
    const inside = join(dir, '.moai');
    throw new StorageError(
      `${dir} is not a moai-session state folder (it has no events/ or config/config.json in it)` +
        ((await exists(inside)) ? `; did you mean --dir ${inside}?` : '; point --dir at a .moai folder.'),
    );
  }
}

const notAFolder = (dir: string): StorageError => new StorageError(`${dir} is not a folder; --dir must name a .moai state folder.`);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Open the log of an existing state folder read-only: inspection commands never
 * take the writer lock, never repair and never create anything.
 */
export async function openLogForReading(options: GlobalOptions, io: CliIo): Promise<FileEventStore> {
  const dir = stateFolder(options, io);
  await requireStateFolder(dir);
  await refuseOtherStores(dir, io);
  return openFileEventStore({ dir: join(dir, 'events'), readOnly: true });
}

/** The CLI reads the file log only: a config (or MOAI_STORE_URL) naming another store is refused, not ignored. */
async function refuseOtherStores(dir: string, io: CliIo): Promise<void> {
  // Reading the log needs no config: one that cannot be loaded is the write commands' to report,
  // but what it (or MOAI_STORE_URL) says of the store still counts.
  const loaded = await loadConfig({ dir, env: io.env }).catch(() => undefined);
  const kind = loaded !== undefined ? loaded.config.store.kind : await storeKindDespiteErrors(dir, io);
  if (kind !== 'file') throw unsupportedStoreError(kind);
}

/**
 * Open the log of an existing state folder as its writer (taking the lock),
 * for a command that writes beside the log (memory files) and must not race
 * a write command. A torn last line is cut off and said so on stderr.
 */
export async function openLogForWriting(options: GlobalOptions, io: CliIo): Promise<FileEventStore> {
  const dir = stateFolder(options, io);
  await requireStateFolder(dir);
  await refuseOtherStores(dir, io);
  return openFileEventStore({
    dir: join(dir, 'events'),
    onWarning: (warning) => io.stderr(`moai-session: warning: ${warning.message}\n`),
  });
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
 * `<dir>/sessions/` in line with the log and close the engine, whatever
 * happened.
 *
 * With `session.persistence_enabled` (the default) the whole log is read and
 * checked before `work` runs, so a command never appends to a log with a
 * corrupt line (it fails with the line's file and number, exit 4); the
 * appended events are then folded into that same read for the memory files.
 * Without it, a command reads only what it needs, and `replay` finds what is
 * wrong elsewhere.
 */
export async function withEngine<T>(
  options: GlobalOptions,
  io: CliIo,
  work: (run: EngineRun) => Promise<T>,
  settings: WithEngineOptions = {},
): Promise<T> {
  const dir = stateFolder(options, io);
  if (settings.requireExisting === true) await requireStateFolder(dir);
  else if ((await stat(dir).catch(() => undefined))?.isDirectory() === false) throw notAFolder(dir);
  const warnings: EngineWarning[] = [];
  const engine = await createEngine({
    ...settings.engine,
    dir,
    onWarning: (warning) => {
      warnings.push(warning);
      io.stderr(`moai-session: warning: ${warning.message}\n`);
    },
  });
  const run: EngineRun = { engine, dir, appended: [], warnings };
  const appended = engine.events$.subscribe((event) => run.appended.push(event));
  let fold: ReplayFold | undefined;
  let succeeded = false;
  try {
    if (engine.settings.persistenceEnabled) {
      fold = new ReplayFold(engine.store);
      await fold.visitLog();
    }
    const result = await work(run);
    succeeded = true;
    return result;
  } finally {
    // Old checkpoints move to the archive as the config says (a policy; DESIGN.md), once the
    // command's own work is done and in the log: a failure here is a warning, never the command's.
    if (succeeded && run.appended.length > 0) await archiveOldCheckpoints(engine, io);
    try {
      // Nothing appended, nothing to bring in line: a command that failed before appending leaves every file alone.
      if (fold !== undefined && run.appended.length > 0) {
        await fold.visitLog(fold.lastPosition + 1);
        await writeMemoryFiles(dir, fold.report(), { contextWindows: engine.settings.budget.contextWindows });
      }
    } catch (error) {
      // The command's events are in the log: a sync that fails after it is a
      // warning (the command's own error, if any, says more).
      if (succeeded) {
        io.stderr(
          `moai-session: warning: the command's events are in the log, but the memory files under ${dir}/sessions could not be rebuilt ` +
            `(${(error as Error).message}): fix what the message names, then run \`moai-session replay --write-memory-files\`.\n`,
        );
      }
    } finally {
      appended.unsubscribe();
      await engine.close();
    }
  }
}

/** The store a config that does not load names anyway: MOAI_STORE_URL's, or the file's `store.kind` if it parses. */
async function storeKindDespiteErrors(dir: string, io: CliIo): Promise<string> {
  const url = io.env.MOAI_STORE_URL;
  if (url !== undefined && url.trim() !== '') return url.split(':')[0]!.replace(/ql$/, '') || 'other';
  const raw = await readFile(join(dir, 'config', 'config.json'), 'utf8').catch(() => undefined);
  if (raw === undefined) return 'file';
  try {
    const kind = (JSON.parse(raw) as { store?: { kind?: unknown } } | null)?.store?.kind;
    return typeof kind === 'string' ? kind : 'file';
  } catch {
    return 'file';
  }
}

/** Apply the checkpoint retention, saying on stderr what it archived, or why it could not. */
async function archiveOldCheckpoints(engine: Engine, io: CliIo): Promise<void> {
  try {
    const { archived } = await engine.applyRetention();
    if (archived.length > 0) {
      io.stderr(
        `moai-session: archived ${archived.length} checkpoint(s) older than session.checkpoint_retention_days: ` +
          `${archived.map((a) => `${a.checkpointId} (${a.sessionId})`).join(', ')}.\n`,
      );
    }
  } catch (error) {
    io.stderr(`moai-session: warning: old checkpoints could not be archived (${(error as Error).message}); the command's events are in the log.\n`);
  }
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
