import { loadConfig } from '../../config/loadConfig.js';
import type { MoaiConfig } from '../../config/schema.js';
import { EXIT } from '../exitCodes.js';
import { flattenForDisplay, table } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { stateFolder } from '../stateFolder.js';
import { configSchemaText } from './init.js';

/** Options of `moai-session config show` and `config schema`. */
export type ConfigCommandOptions = GlobalOptions;

/** A store URL with its password hidden, for printing. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

/** The config as printed: the store's password hidden. */
function printable(config: MoaiConfig): MoaiConfig {
  if (config.store.url === undefined) return config;
  return { ...config, store: { ...config.store, url: withoutPassword(config.store.url) } };
}

/**
 * `moai-session config show`: the effective configuration (the file over the
 * defaults, then MOAI_STORE_URL), as `key  value` lines or, with --json, the
 * config object itself (a valid config file). A bad file exits 1 naming the key.
 */
export async function configShowCommand(options: ConfigCommandOptions, io: CliIo): Promise<number> {
  const loaded = await loadConfig({ dir: stateFolder(options, io), env: io.env });
  const config = printable(loaded.config);
  if (options.json) {
    io.stdout(`${JSON.stringify(config, null, 2)}\n`);
    return EXIT.ok;
  }
  const source = loaded.fromFile ? `from ${loaded.path} over the defaults` : `the defaults (no file at ${loaded.path})`;
  io.stdout(
    [
      `Effective configuration: ${source}${loaded.storeFromEnv ? '; the store from MOAI_STORE_URL' : ''}`,
      table(flattenForDisplay(config).map(([key, value]) => [`  ${key}`, value])),
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}

/** `moai-session config schema`: the JSON Schema of `config/config.json`, for editors. */
export function configSchemaCommand(_options: ConfigCommandOptions, io: CliIo): Promise<number> {
  io.stdout(configSchemaText());
  return Promise.resolve(EXIT.ok);
}
