import { open } from 'node:fs/promises';
import { StorageError } from '../errors.js';
import { ConfigError } from './configError.js';
import { configFilePath } from './configPath.js';
import { CONFIG_JSON_LIMITS, parseJsonDocument } from './jsonDocument.js';
import type { MoaiConfig } from './schema.js';
import { checkConfig, checkStoreUrlOverride, type StoreUrlOverride } from './validateConfig.js';
import { groupDigits } from '../util/groupDigits.js';

/** The environment variable whose PostgreSQL URL replaces the configured store. */
export const STORE_URL_ENV = 'MOAI_STORE_URL';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** The `.moai` folder; the file read is `<dir>/config/config.json`. */
  readonly dir: string;
  /** The environment to read `MOAI_STORE_URL` from; `process.env` when absent. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** What {@link loadConfig} found: the effective configuration and where it came from. */
export interface LoadedConfig {
  /** The effective configuration: the file over the defaults, then `MOAI_STORE_URL`. */
  readonly config: MoaiConfig;
  /** The config file looked for. */
  readonly path: string;
  /** False when there is no config file and the defaults apply. */
  readonly fromFile: boolean;
  /** True when `MOAI_STORE_URL` set the store. */
  readonly storeFromEnv: boolean;
}

/** The config file's text, or undefined when there is none; a file over the size bound is refused before it is read. */
async function readConfigText(path: string): Promise<string | undefined> {
  let size: number;
  let text: string;
  try {
    const file = await open(path, 'r');
    try {
      size = (await file.stat()).size;
      if (size > CONFIG_JSON_LIMITS.maxBytes) text = '';
      else text = await file.readFile('utf8');
    } finally {
      await file.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StorageError(
      `Cannot read the configuration file ${path}: ${(error as Error).message}. ` +
        'Check that it is a readable file, or remove it to use the defaults.',
      { cause: error },
    );
  }
  if (size > CONFIG_JSON_LIMITS.maxBytes) {
    throw new ConfigError(path, [
      {
        key: '',
        message:
          `the file is ${groupDigits(size)} bytes, more than the ${groupDigits(CONFIG_JSON_LIMITS.maxBytes)} ` +
          'a configuration may have: this cannot be a moai-session configuration. Check that it is the right file.',
      },
    ]);
  }
  return text;
}

/**
 * Read the effective configuration of the `.moai` folder `dir`: the file
 * `<dir>/config/config.json` merged over the defaults (a missing file means
 * all defaults), then `MOAI_STORE_URL` from `env` (a postgres:// or
 * postgresql:// URL makes the store PostgreSQL at that URL; an empty value is
 * ignored).
 *
 * @throws {ConfigError} for invalid JSON (with line and column), a file over
 *   1 MiB or nested more than 64 levels deep, unknown keys, bad values, broken
 *   cross-key rules or a `MOAI_STORE_URL` that is not a PostgreSQL URL.
 * @throws {StorageError} when the file exists but cannot be read.
 * @example
 * const { config } = await loadConfig({ dir: '.moai' });
 * config.session.checkpoint_interval_minutes; // 10 unless the file says otherwise
 */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const path = configFilePath(options.dir);
  const env = options.env ?? process.env;
  const url = env[STORE_URL_ENV];
  const storeUrl: StoreUrlOverride | undefined = url === undefined || url === '' ? undefined : { url, from: STORE_URL_ENV };
  if (storeUrl !== undefined) checkStoreUrlOverride(storeUrl);

  const text = await readConfigText(path);
  const document = text === undefined ? {} : parseJsonDocument(text, path);
  return {
    config: checkConfig(document, path, storeUrl),
    path,
    fromFile: text !== undefined,
    storeFromEnv: storeUrl !== undefined,
  };
}
