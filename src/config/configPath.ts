import { join } from 'node:path';

/** The config file's path inside the `.moai` folder. */
export const CONFIG_FILE = 'config/config.json';

/** Where the generated JSON Schema goes, beside the config file (the `$schema` of the default file points at it). */
export const CONFIG_SCHEMA_FILE = 'config/config.schema.json';

/**
 * The path of the config file of the `.moai` folder `dir`.
 *
 * @example
 * configFilePath('/repo/.moai'); // '/repo/.moai/config/config.json'
 */
export const configFilePath = (dir: string): string => join(dir, CONFIG_FILE);

/** The path of the generated JSON Schema of the `.moai` folder `dir`, beside the config file. */
export const configSchemaFilePath = (dir: string): string => join(dir, CONFIG_SCHEMA_FILE);
