// `moai-session state` without the command-line parser: the entry of the
// bundle the build makes of it (dist/state.cjs, see scripts/bundleCli.ts),
// loaded with a V8 code cache instead of commander and the ~90 modules
// `state` imports. Only the plain forms of the command line are taken here;
// any other (help, an unknown option, `--at=5`, a missing value) goes to the
// full parser, so that its messages and exit codes stay the only ones.

import { stateCommand, type StateCommandOptions } from './commands/state.js';
import { processIo, type CliIo } from './io.js';
import { reportCommandError } from './reportError.js';

/** The global options and `state`'s own that take a value, and the flags; each as the full parser names it. */
const GLOBAL_VALUES = { '--dir': 'dir', '--wait': 'wait' } as const;
const GLOBAL_FLAGS = { '--json': 'json', '--debug': 'debug' } as const;
const STATE_VALUES = { '--at': 'at' } as const;
const STATE_FLAGS = { '--skip-damaged': 'skipDamaged' } as const;

const own = <T extends object>(table: T, key: string): key is Extract<keyof T, string> => Object.hasOwn(table, key);

/**
 * The options of a `state` command line (`argv` without `node` and the
 * script) in its plain forms: global options before or after `state`,
 * `state`'s own after it, each value as the next argument (not starting with
 * `-`), at most one session. Undefined for anything else, which the full
 * parser takes (help included); the last of a repeated option wins, as there.
 */
export function stateArguments(argv: readonly string[]): StateCommandOptions | undefined {
  const options: StateCommandOptions = { dir: '.moai', json: false, debug: false, skipDamaged: false, sessionId: undefined };
  const values = options as unknown as Record<string, string | boolean | undefined>;
  let command = false;
  let sessions = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (own(GLOBAL_FLAGS, arg)) values[GLOBAL_FLAGS[arg]] = true;
    else if (command && own(STATE_FLAGS, arg)) values[STATE_FLAGS[arg]] = true;
    else if (own(GLOBAL_VALUES, arg) || (command && own(STATE_VALUES, arg))) {
      const value = argv[++i];
      if (value === undefined || value.startsWith('-')) return undefined;
      values[own(GLOBAL_VALUES, arg) ? GLOBAL_VALUES[arg] : STATE_VALUES[arg as keyof typeof STATE_VALUES]] = value;
    } else if (arg.startsWith('-')) return undefined;
    else if (!command) {
      if (arg !== 'state') return undefined;
      command = true;
    } else if (++sessions > 1) return undefined;
    else options.sessionId = arg;
  }
  return command ? options : undefined;
}

/**
 * Run `state` from a plain command line, reporting an error as the full
 * parser's run does; undefined when the command line is not one
 * {@link stateArguments} takes.
 */
export async function runStateCommand(argv: readonly string[], io: CliIo = processIo()): Promise<number | undefined> {
  const options = stateArguments(argv);
  if (options === undefined) return undefined;
  try {
    return await stateCommand(options, io);
  } catch (error) {
    return reportCommandError(error, argv, io);
  }
}
