import { spawn } from 'node:child_process';
import { checkId } from '../../validation/ids.js';
import { EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { parsePositiveInteger } from '../parse.js';
import { openLogForReading, sessionToRead } from '../stateFolder.js';
import { InvalidArgumentError } from '../../errors.js';
import { pageSettings } from './viz.js';

/** Options of `moai-session inspect`. */
export interface InspectCommandOptions extends GlobalOptions {
  /** The session as typed, or undefined for the current session. */
  sessionId: string | undefined;
  /** The port, as typed; any free one when absent. */
  port?: string;
  /** The address to listen on; 127.0.0.1 when absent. */
  host?: string;
  /** Open the page in the desktop's browser. */
  open?: boolean;
  /** The most steps a page holds before it aggregates, as typed. */
  maxSteps?: string;
  /** Called once the server listens (tests): its URL. */
  onListening?: (url: string) => void;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Open `url` with the desktop's opener; a failure is a warning, the server goes on. */
function openInBrowser(url: string, io: CliIo): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { detached: true, stdio: 'ignore' });
    child.on('error', (error) => io.stderr(`moai-session: warning: could not open a browser (${command}: ${error.message}); open ${url} yourself.\n`));
    child.unref();
  } catch (error) {
    io.stderr(`moai-session: warning: could not open a browser (${(error as Error).message}); open ${url} yourself.\n`);
  }
}

/**
 * `moai-session inspect [sessionId]`: serve the session's page on the loopback
 * address and follow the log live, until interrupted (Ctrl-C). The log is
 * opened read-only: the inspector never writes.
 */
export async function inspectCommand(options: InspectCommandOptions, io: CliIo): Promise<number> {
  if (options.sessionId !== undefined) checkId('session', options.sessionId);
  const port = options.port === undefined || options.port === '0' ? 0 : parsePositiveInteger('--port', options.port)!;
  if (port > 65_535) throw new InvalidArgumentError(`--port ${port} is not a port (1 to 65535, or 0 for any free one).`);
  const maxSteps = parsePositiveInteger('--max-steps', options.maxSteps);
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) {
    io.stderr(
      `moai-session: warning: listening on ${host}, not only the loopback address: anyone who can reach this machine on that address can read the session's log through the page.\n`,
    );
  }
  const store = await openLogForReading(options, io);
  try {
    const sessionId = await sessionToRead(store, options, io, options.sessionId);
    const { startInspectServer } = await import('../../viz/inspectServer.js');
    let server;
    try {
      server = await startInspectServer({ store, settings: await pageSettings(options, io), sessionId, host, port, ...(maxSteps === undefined ? {} : { maxSteps }) });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new InvalidArgumentError(`Port ${port} on ${host} is in use: pick another with --port, or --port 0 for any free one.`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new InvalidArgumentError(`Cannot listen on ${host}: it is not an address of this machine.`);
      throw error;
    }
    io.stdout(`Inspecting session ${sessionId} at ${server.url} (following the log; Ctrl-C to stop)\n`);
    options.onListening?.(server.url);
    if (options.open === true) openInBrowser(server.url, io);
    await new Promise<void>((resolve) => {
      if (io.signal === undefined || io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
