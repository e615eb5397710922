// The CLI's side of the state-folder runtime: the folder the options name,
// opened as the runtime does for a library user, with what it notices said
// on stderr.
import type { Engine, EngineOptions } from '../engine/createEngine.js';
import type { EngineWarning } from '../engine/commandRunner.js';
import type { StoredEvent } from '../events/envelope.js';
import { openStateFolderLog } from '../runtime/openStateFolderLog.js';
import { resolveStateFolder } from '../runtime/stateFolder.js';
import type { EventStore } from '../store/eventStore.js';
import type { CliIo, GlobalOptions } from './io.js';
import { parseWaitMs } from './parse.js';
import { plural } from '../util/plural.js';

/** The absolute path of the state folder the options name. */
export const stateFolder = (options: GlobalOptions, io: CliIo): string => resolveStateFolder(options.dir, io.cwd);

const warnOnStderr = (io: CliIo) => (warning: { message: string }) => io.stderr(`moai-session: warning: ${warning.message}\n`);

/**
 * Open the log of an existing state folder read-only: inspection commands never
 * take the writer lock, never repair and never create anything.
 */
export function openLogForReading(options: GlobalOptions, io: CliIo): Promise<EventStore> {
  return openStateFolderLog({ dir: options.dir, cwd: io.cwd, env: io.env, mode: 'read' });
}

/**
 * Open the log of an existing state folder as its writer (taking the lock),
 * for a command that writes beside the log (memory files) and must not race
 * a write command. A torn last line is cut off and said so on stderr.
 */
export function openLogForWriting(options: GlobalOptions, io: CliIo): Promise<EventStore> {
  const lockWaitMs = parseWaitMs('--wait', options.wait);
  return openStateFolderLog({
    dir: options.dir,
    cwd: io.cwd,
    env: io.env,
    mode: 'write',
    onWarning: warnOnStderr(io),
    ...(lockWaitMs === undefined ? {} : { lockWaitMs }),
  });
}

/** What a command gets to work with from {@link withEngine}. */
export interface EngineRun {
  engine: Engine;
  /** The absolute state folder. */
  dir: string;
  /** Every event appended while the command runs, in order (the policies' too). */
  appended: readonly StoredEvent[];
  /** What the engine noticed and did not throw; each is also printed on stderr. */
  warnings: readonly EngineWarning[];
}

/** Options of {@link withEngine}. */
export interface WithEngineOptions {
  /** Refuse a state folder that does not exist yet instead of creating it (every command but `start` and `demo`). */
  requireExisting?: boolean;
  /** More engine options (a clock, a summariser). */
  engine?: Omit<EngineOptions, 'dir' | 'store' | 'onAppend' | 'onWarning'>;
}

/**
 * Run a write command on the engine of the state folder (`openStateFolder`):
 * open it (taking the writer lock), run `work`, then settle the folder (the
 * checkpoint retention, once the work succeeded, and the memory files) and
 * close it, whatever happened. With `session.persistence_enabled` (the
 * default) the whole log is read and checked before `work` runs, so a
 * command never appends to a log with a corrupt line (exit 4).
 */
export async function withEngine<T>(
  options: GlobalOptions,
  io: CliIo,
  work: (run: EngineRun) => Promise<T>,
  settings: WithEngineOptions = {},
): Promise<T> {
  const lockWaitMs = parseWaitMs('--wait', options.wait);
  // Loaded here, not at the top: a read command needs the log, never the engine.
  const { openStateFolder } = await import('../runtime/openStateFolder.js');
  const folder = await openStateFolder({
    ...settings.engine,
    ...(lockWaitMs === undefined ? {} : { lockWaitMs }),
    dir: options.dir,
    cwd: io.cwd,
    env: io.env,
    ...(settings.requireExisting === undefined ? {} : { requireExisting: settings.requireExisting }),
    onWarning: warnOnStderr(io),
  });
  let succeeded = false;
  try {
    const result = await work({ engine: folder.engine, dir: folder.dir, appended: folder.appended, warnings: folder.warnings });
    succeeded = true;
    return result;
  } finally {
    try {
      // Retention is a policy of a command that did its work; the memory files follow what is in the log either way.
      const { archived } = await folder.settle({ retention: succeeded });
      if (archived.length > 0) {
        io.stderr(
          `moai-session: archived ${plural(archived.length, 'checkpoint')} older than session.checkpoint_retention_days: ` +
            `${archived.map((a) => `${a.checkpointId} (${a.sessionId})`).join(', ')}.\n`,
        );
      }
    } finally {
      await folder.close();
    }
  }
}

/**
 * The session a write command means: the typed id, the one session whose id
 * starts with it, or the current session when none is typed (see
 * `resolveSessionId`). The writer keeps the look-up's cache fresh.
 */
export async function sessionOf(run: EngineRun, typed: string | undefined): Promise<string> {
  const { resolveSessionId } = await import('../runtime/currentSession.js');
  return resolveSessionId(run.engine.store, typed, { dir: run.dir, writable: true });
}

/** The session a read command means (see {@link sessionOf}); a reader never writes the cache. */
export async function sessionToRead(store: EventStore, options: GlobalOptions, io: CliIo, typed: string | undefined): Promise<string> {
  const { resolveSessionId } = await import('../runtime/currentSession.js');
  return resolveSessionId(store, typed, { dir: stateFolder(options, io) });
}

/**
 * Run an inspection command on an engine over the log opened read-only: no
 * writer lock, nothing repaired, nothing written. The config of the state
 * folder applies (context windows, thresholds, handoff rules).
 */
export async function withReadOnlyEngine<T>(options: GlobalOptions, io: CliIo, work: (engine: Engine, dir: string) => Promise<T>): Promise<T> {
  const { openStateFolder } = await import('../runtime/openStateFolder.js');
  const folder = await openStateFolder({ dir: options.dir, cwd: io.cwd, env: io.env, mode: 'read' });
  try {
    return await work(folder.engine, folder.dir);
  } finally {
    await folder.close();
  }
}
