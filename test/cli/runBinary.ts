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

/** Run the built binary as a user would: a real process in `cwd`. */
export function runBinary(args: readonly string[], cwd: string, stdin?: string): Promise<RunResult> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`npm run build\` (npm test does) first.`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BINARY, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}
