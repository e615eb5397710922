import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built `moai-session` binary (npm test builds it first). */
export const BINARY = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

/** What a run of the binary printed and returned. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What {@link runBinary} gives the process besides its arguments. */
export interface RunBinaryOptions {
  /** Written to its standard input, which is then closed (closed at once when absent). */
  stdin?: string;
  /** Its environment; this process's when absent. */
  env?: NodeJS.ProcessEnv;
  /** Options for node before the script, e.g. `--import` of a module that injects a fault. */
  nodeOptions?: readonly string[];
}

/** Run the built binary as a user would: a real process in `cwd`. */
export function runBinary(args: readonly string[], cwd: string, options: RunBinaryOptions = {}): Promise<RunResult> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`npm run build\` (npm test does) first.`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeOptions ?? []), BINARY, ...args], {
      cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
