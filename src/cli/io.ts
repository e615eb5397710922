/** Where a CLI command reads and writes: the real process, or a test's buffers. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Reads all of standard input (for `-` file arguments); the process's stdin when absent. */
  readStdin?: () => Promise<string>;
  /** Aborted when the user interrupts (Ctrl-C): a command that follows the log stops then. */
  signal?: AbortSignal;
  /** True when standard output is a terminal: its output may be coloured (see `colourWanted`). */
  stdoutIsTerminal?: boolean;
}

/** The options every command takes. */
export interface GlobalOptions {
  /** The state folder; defaults to `.moai` in `cwd`. */
  dir: string;
  json: boolean;
  debug: boolean;
  /** How long a write waits for another writer's lock, in ms, as typed; the config's `store.lock_wait_ms` when absent. */
  wait?: string;
}

/**
 * The real process's IO. A reader that goes away (`moai-session events |
 * head`) is not an error of ours: once standard output is closed, what is
 * written to it is dropped and `signal` is aborted, so a reading command
 * stops early while a write command still finishes its work and its memory
 * files (its events are in the log either way).
 */
export function processIo(): CliIo {
  const controller = new AbortController();
  let stdoutClosed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutClosed = true;
    controller.abort();
  });
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  // The first SIGINT or SIGTERM asks the command to stop; a second one ends the process as usual.
  for (const name of ['SIGINT', 'SIGTERM'] as const) process.once(name, () => controller.abort());
  return {
    stdout: (text) => {
      if (!stdoutClosed) process.stdout.write(text);
    },
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
    readStdin: readProcessStdin,
    signal: controller.signal,
    stdoutIsTerminal: process.stdout.isTTY === true,
  };
}

/** All of the process's standard input, as UTF-8 text. */
export async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
