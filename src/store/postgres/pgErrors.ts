import { StorageError } from '../../errors.js';
import { redactPasswords } from './postgresTarget.js';

// SQLSTATE classes of a lost or refused connection: 08 (connection exception),
// 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now).
const CONNECTION_STATES = /^(08|57P0[123])/;
const CONNECTION_MESSAGES = /Connection terminated|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|the database system is (starting up|shutting down|in recovery)|terminating connection|Client has encountered a connection error|Connection ended|timeout exceeded when trying to connect|not queryable/i;

/** True when `error` says the connection was lost or could not be made: worth trying again once the server is back. */
export function isConnectionError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && CONNECTION_STATES.test(code)) return true;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && CONNECTION_MESSAGES.test(code)) return true;
  return typeof message === 'string' && CONNECTION_MESSAGES.test(message);
}

/** A driver error as a {@link StorageError} saying what was being done, where, with every password hidden. */
export function storageErrorOf(error: unknown, doing: string, where: string, password?: string): StorageError {
  const message = redactPasswords(error instanceof Error ? error.message : String(error), password);
  const code = (error as { code?: unknown } | null)?.code;
  return new StorageError(`PostgreSQL store ${where}: ${doing} failed: ${message}${typeof code === 'string' ? ` (${code})` : ''}`, {
    cause: error,
  });
}

/** Wait `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
