import { isMoaiError } from '../errors.js';
import { exitCodeFor } from './exitCodes.js';
import type { CliIo } from './io.js';

/**
 * Say on stderr what a command threw and return its exit code: a known error
 * by its message (and its stack with `--debug`), anything else as an internal
 * error. The command-line parser's runs and the fast paths that bypass it
 * (`state`) report errors this one way.
 */
export function reportCommandError(error: unknown, argv: readonly string[], io: CliIo): number {
  const debug = argv.includes('--debug');
  if (isMoaiError(error)) {
    io.stderr(`moai-session: ${error.message}\n`);
    if (debug && error.stack) io.stderr(`${error.stack}\n`);
  } else {
    io.stderr(`moai-session: internal error: ${(error as Error)?.message ?? String(error)}\n`);
    io.stderr(debug ? `${(error as Error)?.stack ?? ''}\n` : 'Rerun with --debug for the stack, and report it.\n');
  }
  return exitCodeFor(error);
}
