import { isCorruptLogError, isLogLockedError, isMoaiError, MoaiError } from '../errors.js';

/** A command line that does not say what to do: a missing option, options that exclude each other. Exit 2. */
export class CliUsageError extends MoaiError {
  constructor(message: string) {
    super('CLI_USAGE', message);
  }
}

/**
 * The exit codes of `moai-session`:
 * 0 success; 1 a user error (bad input, unknown session, refused command,
 * an unreadable state folder); 2 a command-line usage error; 3 `replay` found
 * a divergence; 4 the log is corrupt; 5 busy: another process held the
 * writer lock past the wait (retry); 70 an internal error.
 */
export const EXIT = {
  ok: 0,
  userError: 1,
  usage: 2,
  divergence: 3,
  corruptLog: 4,
  busy: 5,
  internal: 70,
} as const;

/** The exit code for an error a command threw, from the error's type alone (never from its message). */
export function exitCodeFor(error: unknown): number {
  if (!isMoaiError(error)) return EXIT.internal;
  if (isCliUsageError(error)) return EXIT.usage;
  if (isCorruptLogError(error)) return EXIT.corruptLog;
  if (isLogLockedError(error)) return EXIT.busy;
  return EXIT.userError;
}

/** True when `error` is a {@link CliUsageError}. */
export const isCliUsageError = (error: unknown): error is CliUsageError => error instanceof CliUsageError;
