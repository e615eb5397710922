import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig, STORE_URL_ENV } from '../config/loadConfig.js';
import { StorageError } from '../errors.js';
import { storeKindOfUrl, storeTargetFromConfig, type StoreTarget } from '../store/openEventStore.js';

/** The absolute path of a state folder: `dir` (default `.moai`) against `cwd` (default the process's). */
export const resolveStateFolder = (dir = '.moai', cwd = process.cwd()): string => resolve(cwd, dir);

/**
 * Refuse a state folder that is missing, not a folder, or a folder that is
 * not one of ours (no `events/` and no `config/config.json`), with a sentence
 * that says what to do. When `env` names a store that is not the folder's
 * own files (`MOAI_STORE_URL=postgres://...`), the log is elsewhere: the
 * folder only holds memory files, so a missing one is no error (a reader on
 * another machine needs no local files) and only a path that is not a
 * folder is refused.
 */
export async function requireStateFolder(dir: string, env?: Readonly<Record<string, string | undefined>>): Promise<void> {
  if (env !== undefined && (await storeTargetOfFolder(dir, env)).kind !== 'file') {
    await refuseNonFolder(dir);
    return;
  }
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
  if (!info.isDirectory()) throw notAFolderError(dir);
  // A state folder of the file store holds its log, its config, or both: any other folder (a project's own,
  // say, with a sessions/ folder of its own) is a wrong --dir, not an empty log, and nothing in it is touched.
  if (!(await holdsOurLog(join(dir, 'events'))) && !(await exists(join(dir, 'config', 'config.json')))) {
    const inside = join(dir, '.moai');
    throw new StorageError(
      `${dir} is not a moai-session state folder (it has no events/ or config/config.json in it)` +
        ((await exists(inside)) ? `; did you mean --dir ${inside}?` : '; point --dir at a .moai folder.'),
    );
  }
}

/** Refuse a path that exists and is not a folder (a state folder that does not exist yet is created). */
export async function refuseNonFolder(dir: string): Promise<void> {
  if ((await stat(dir).catch(() => undefined))?.isDirectory() === false) throw notAFolderError(dir);
}

/** What a state folder may hold before its log does: the hook's spool and log, the caches. */
const BEFORE_THE_LOG = new Set(['cache', 'logs', 'spool']);

/**
 * Refuse, before a write command creates a state folder, a path it must not
 * write into: one that is not a folder, or, with the log in the folder's own
 * files, a folder that holds something else already (a project's own folder
 * named by `--dir .`, say, whose `sessions/` the memory files would
 * overwrite). A missing or empty folder, or one of ours, is fine. With the
 * log elsewhere (`MOAI_STORE_URL=postgres://...`) the folder holds only
 * memory files, and only a non-folder is refused.
 */
export async function refuseForeignFolder(dir: string, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  await refuseNonFolder(dir);
  const entries = await readdir(dir).catch(() => undefined);
  if (entries === undefined || entries.every((entry) => BEFORE_THE_LOG.has(entry))) return;
  await requireStateFolder(dir, env);
}

const notAFolderError = (dir: string): StorageError => new StorageError(`${dir} is not a folder; --dir must name a .moai state folder.`);

/** A file only the file store writes in its log folder: a segment, its index file, the writer's lock or record. */
const OUR_LOG_FILE = /^(segment-\d{6,}\.(jsonl|idx)|writer\.(lock|acked|json)|repaired\.json)$/;

/**
 * Whether `eventsDir` is a log folder of ours: one that holds a file only
 * the file store writes, or nothing yet. A folder named `events/` of a
 * project's own (a common name) is not.
 */
async function holdsOurLog(eventsDir: string): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir(eventsDir);
  } catch (error) {
    // Missing: no log. There but unreadable (not a folder, no permission): the store names the problem.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  return entries.length === 0 || entries.some((entry) => OUR_LOG_FILE.test(entry));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The store a state folder's log is in, for reading it: what its config (or
 * `MOAI_STORE_URL`) names. Reading needs no valid config: one that cannot be
 * loaded is the write commands' to report, but what it (or the variable)
 * says of the store still counts, so a read never silently opens another
 * store than the one the writers use.
 */
export async function storeTargetOfFolder(
  dir: string,
  env: Readonly<Record<string, string | undefined>>,
  extra: Omit<StoreTarget, 'kind'> = {},
): Promise<StoreTarget> {
  const loaded = await loadConfig({ dir, env }).catch(() => undefined);
  if (loaded !== undefined) return storeTargetFromConfig(loaded.config, dir, extra);
  const url = env[STORE_URL_ENV];
  if (url !== undefined && url.trim() !== '') return { kind: storeKindOfUrl(url), url, source: STORE_URL_ENV, ...extra };
  return { kind: await storeKindOfBrokenConfig(dir), dir: join(dir, 'events'), ...extra };
}

/** The `store.kind` of a config file that does not load, if it parses that far; `file` otherwise. */
async function storeKindOfBrokenConfig(dir: string): Promise<string> {
  const raw = await readFile(join(dir, 'config', 'config.json'), 'utf8').catch(() => undefined);
  if (raw === undefined) return 'file';
  try {
    const kind = (JSON.parse(raw) as { store?: { kind?: unknown } } | null)?.store?.kind;
    return typeof kind === 'string' ? kind : 'file';
  } catch {
    return 'file';
  }
}
