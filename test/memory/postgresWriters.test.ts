import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { dropTestSchemas, freshSchema, HAVE_POSTGRES, urlWithSchema } from '../postgres/pgTestServer.js';

const run = promisify(execFile);
const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

// R10: with the log in PostgreSQL no writer lock serialises CLI commands on one state folder; each rebuilds the memory files.
describe.skipIf(!HAVE_POSTGRES)('CLI write commands racing on one state folder, the log in PostgreSQL', () => {
  afterAll(dropTestSchemas);

  it('all finish without a memory-file warning, and leave the files in sync with the log', async () => {
    const env = { ...process.env, MOAI_STORE_URL: urlWithSchema(freshSchema('mem')) };
    const cwd = await mkdtemp(join(tmpdir(), 'moai-pg-mem-'));
    try {
      const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
        let stdout = '';
        let stderr = '';
        const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env });
        return { code, stdout, stderr };
      };
      expect((await cli('start', '--session', 's1', '--agent', 'a', '--model', 'claude-sonnet-4-5')).code).toBe(0);
      const racing = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((i) =>
          run(process.execPath, ['--import', import.meta.resolve('tsx'), main, 'usage', 's1', '--input', String(i * 1000), '--output', '10'], { cwd, env }),
        ),
      );
      for (const { stderr } of racing) expect(stderr).toBe('');
      const sync = await cli('debug', '--check-memory-sync');
      expect(sync).toMatchObject({ code: 0, stderr: '' });
      const state = JSON.parse(await readFile(join(cwd, '.moai', 'sessions', 'session-state.json'), 'utf8')) as { log_position: number };
      expect(state.log_position).toBe(7); // the start and six usage records
      // No temporary file or lock is left behind (the lock's folder stays, empty).
      expect((await readdir(join(cwd, '.moai', 'sessions'))).filter((name) => name.startsWith('.'))).toEqual(['.memory-files.lock']);
      expect(await readdir(join(cwd, '.moai', 'sessions', '.memory-files.lock'))).toEqual([]);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});
