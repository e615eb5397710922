import { randomBytes } from 'node:crypto';
import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StorageError } from '../errors.js';
import { configFilePath } from './configPath.js';
import { DEFAULT_CONFIG } from './defaultConfig.js';

/** What {@link writeDefaultConfig} did. */
export interface WriteDefaultConfigResult {
  /** False when a config file was already there; it is left untouched. */
  readonly written: boolean;
  /** The config file's path. */
  readonly path: string;
}

/**
 * The text of the default config file: every key with its default, plus a
 * `"$schema"` key pointing editors at `./config.schema.json`; 2-space JSON
 * with a trailing newline.
 */
export function defaultConfigText(): string {
  return `${JSON.stringify({ $schema: './config.schema.json', ...DEFAULT_CONFIG }, null, 2)}\n`;
}

const errorCode = (error: unknown): unknown => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * Write the default config file `<dir>/config/config.json` of the `.moai`
 * folder `dir`, creating the folders, unless a config file already exists:
 * an existing file is never overwritten, even by a concurrent writer (the
 * file appears complete or not at all).
 *
 * @throws {StorageError} when the folder or file cannot be written.
 * @example
 * const { written, path } = await writeDefaultConfig('.moai');
 * if (!written) console.log(`${path} already exists; left as it is`);
 */
export async function writeDefaultConfig(dir: string): Promise<WriteDefaultConfigResult> {
  const path = configFilePath(dir);
  const text = defaultConfigText();
  try {
    await mkdir(dirname(path), { recursive: true });
    // Write a temporary file, then link it into place: link() fails when the
    // target exists, so this both never overwrites and never leaves a half-written
    // config. (lowdb's atomic write renames over the target, which would overwrite.)
    const temporary = join(dirname(path), `.config.json.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temporary, text, { flag: 'wx' });
    try {
      await link(temporary, path);
      return { written: true, path };
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return { written: false, path };
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'].includes(String(errorCode(error)))) throw error;
      // A file system without hard links: exclusive create still never overwrites.
      try {
        await writeFile(path, text, { flag: 'wx' });
        return { written: true, path };
      } catch (fallbackError) {
        if (errorCode(fallbackError) === 'EEXIST') return { written: false, path };
        throw fallbackError;
      }
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
  } catch (error) {
    throw new StorageError(
      `Cannot write the default configuration ${path}: ${(error as Error).message}. Check that the folder is writable.`,
      { cause: error },
    );
  }
}
