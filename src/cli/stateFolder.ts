import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StorageError } from '../errors.js';
import { openFileEventStore, type FileEventStore } from '../store/fileEventStore.js';
import type { CliIo, GlobalOptions } from './io.js';

/** The absolute path of the state folder the options name. */
export const stateFolder = (options: GlobalOptions, io: CliIo): string => resolve(io.cwd, options.dir);

/**
 * Open the log of an existing state folder read-only: inspection commands never
 * take the writer lock, never repair and never create anything.
 */
export async function openLogForReading(options: GlobalOptions, io: CliIo): Promise<FileEventStore> {
  const dir = stateFolder(options, io);
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StorageError(
        `No moai-session state folder at ${dir}. Run \`moai-session demo\` there first, or point --dir at an existing .moai folder.`,
      );
    }
    throw new StorageError(`Cannot read the state folder ${dir}: ${(error as Error).message}`, { cause: error });
  }
  if (!info.isDirectory()) throw new StorageError(`${dir} is not a folder; --dir must name a .moai state folder.`);
  return openFileEventStore({ dir: join(dir, 'events'), readOnly: true });
}
