import { runCli } from '../../src/cli/program.js';
import type { RunResult } from './runBinary.js';

/** What {@link runInProcess} gives the command line besides its arguments. */
export interface RunInProcessOptions {
  /** All of standard input, for `-` file arguments (empty when absent, as runBinary's closed stdin). */
  stdin?: string;
  /** The environment the command sees; a copy of this process's when absent, as a spawned child inherits it. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Run the `moai-session` command line in this process, as `runBinary` runs the
 * built binary: the same arguments, folder and standard input, the same
 * `{ code, stdout, stderr }` back, without starting a process.
 */
export async function runInProcess(args: readonly string[], cwd: string, options: RunInProcessOptions = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    cwd,
    env: { ...(options.env ?? process.env) },
    readStdin: () => Promise.resolve(options.stdin ?? ''),
  });
  return { code, stdout, stderr };
}
