import { mkdir, readFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { configSchemaFilePath } from '../../config/configPath.js';
import { configJsonSchema } from '../../config/jsonSchema.js';
import { writeDefaultConfig } from '../../config/writeDefaultConfig.js';
import { StorageError } from '../../errors.js';
import { writeTextFileAtomic } from '../../memory/writeMemoryFiles.js';
import { EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { stateFolder } from '../stateFolder.js';

/** Options of `moai-session init`. */
export type InitCommandOptions = GlobalOptions;

/** The text of the generated JSON Schema file. */
export const configSchemaText = (): string => `${JSON.stringify(configJsonSchema(), null, 2)}\n`;

/**
 * `moai-session init`: write the default `config/config.json` of the state
 * folder (never over an existing one) and the JSON Schema beside it, which is
 * generated and so brought up to date whenever it differs.
 */
export async function initCommand(options: InitCommandOptions, io: CliIo): Promise<number> {
  const dir = stateFolder(options, io);
  const config = await writeDefaultConfig(dir);
  const schemaPath = configSchemaFilePath(dir);
  const schemaText = configSchemaText();
  let current: string | undefined;
  try {
    current = await readFile(schemaPath, 'utf8');
  } catch {
    current = undefined;
  }
  const schemaWritten = current !== schemaText;
  if (schemaWritten) {
    try {
      await mkdir(dirname(schemaPath), { recursive: true });
      await writeTextFileAtomic(schemaPath, schemaText);
    } catch (error) {
      throw new StorageError(`Cannot write the JSON Schema ${schemaPath}: ${(error as Error).message}. Check that the folder is writable.`, {
        cause: error,
      });
    }
  }
  if (options.json) {
    io.stdout(
      `${JSON.stringify({ config: { path: config.path, written: config.written }, schema: { path: schemaPath, written: schemaWritten } }, null, 2)}\n`,
    );
    return EXIT.ok;
  }
  const show = (path: string): string => relative(io.cwd, path) || path;
  io.stdout(
    [
      config.written
        ? `Wrote the default configuration to ${show(config.path)}.`
        : `${show(config.path)} already exists; left it as it is (\`moai-session config show\` prints what is in force).`,
      schemaWritten ? `Wrote its JSON Schema to ${show(schemaPath)}.` : `${show(schemaPath)} is up to date.`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
