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
