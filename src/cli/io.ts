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

/** The real process's IO. */
export const processIo = (): CliIo => ({
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
  readStdin: readProcessStdin,
  signal: interrupted(),
});

/** A signal aborted by the first SIGINT or SIGTERM (a second one ends the process as usual). */
function interrupted(): AbortSignal {
  const controller = new AbortController();
  for (const name of ['SIGINT', 'SIGTERM'] as const) process.once(name, () => controller.abort());
  return controller.signal;
}

/** All of the process's standard input, as UTF-8 text. */
export async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
