/** Where a CLI command reads and writes: the real process, or a test's buffers. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Reads all of standard input (for `-` file arguments); the process's stdin when absent. */
  readStdin?: () => Promise<string>;
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
});

/** All of the process's standard input, as UTF-8 text. */
export async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
