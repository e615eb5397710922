import { isMoaiError, MoaiError } from '../errors.js';

/** A command line that does not say what to do: a missing option, options that exclude each other. Exit 2. */
export class CliUsageError extends MoaiError {
  constructor(message: string) {
    super('CLI_USAGE', message);
  }
}

/**
 * The exit codes of `moai-session`:
 * 0 success; 1 a user error (bad input, unknown session, refused command,
 * a locked or unreadable state folder); 2 a command-line usage error;
 * 3 `replay` found a divergence; 4 the log is corrupt; 70 an internal error.
 */
export const EXIT = {
  ok: 0,
  userError: 1,
  usage: 2,
  divergence: 3,
  corruptLog: 4,
  internal: 70,
} as const;

/** The exit code for an error a command threw. */
export function exitCodeFor(error: unknown): number {
  if (!isMoaiError(error)) return EXIT.internal;
  if (error.code === 'CLI_USAGE') return EXIT.usage;
  if (error.code === 'CORRUPT_LOG') return EXIT.corruptLog;
  if (error.code === 'INVALID_EVENT' && /:\d+$/.test((error as { where?: string }).where ?? '')) return EXIT.corruptLog;
  return EXIT.userError;
}
