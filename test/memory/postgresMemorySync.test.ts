import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { dropTestSchemas, freshSchema, HAVE_POSTGRES, TEST_POSTGRES_URL, urlWithSchema } from '../postgres/pgTestServer.js';

// R31: with the log in PostgreSQL the checkpoint documents are in its checkpoints table, not under sessions/checkpoints/.
describe.skipIf(!HAVE_POSTGRES)('debug --check-memory-sync with the log in PostgreSQL', () => {
  afterAll(dropTestSchemas);

  it("checks the checkpoint documents in the database: in sync after checkpoints, and a document edited or gone there is named", async () => {
    const schema = freshSchema('sync');
    const env = { ...process.env, MOAI_STORE_URL: urlWithSchema(schema) };
    const cwd = await mkdtemp(join(tmpdir(), 'moai-pg-sync-'));
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    try {
      const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
        let stdout = '';
        let stderr = '';
        const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env });
        return { code, stdout, stderr };
      };
      expect((await cli('start', '--session', 's1', '--agent', 'a', '--model', 'claude-sonnet-4-5')).code).toBe(0);
      expect((await cli('task', 'add', 's1', 'build', '--title', 'Build it')).code).toBe(0);
      expect((await cli('checkpoint', 's1', '--reason', 'first')).code).toBe(0);
      expect((await cli('usage', 's1', '--input', '5000', '--output', '100')).code).toBe(0);
      expect((await cli('checkpoint', 's1', '--reason', 'second')).code).toBe(0);
      const rows = (await client.query<{ checkpoint_id: string }>(`SELECT checkpoint_id FROM "${schema}".checkpoints ORDER BY saved_at`)).rows;
      expect(rows).toHaveLength(2);

      const sync = await cli('debug', '--check-memory-sync');
      expect(sync).toMatchObject({ code: 0, stderr: '' });
      expect(sync.stdout).toContain('match the log');

      // The first document's state edited in the table: named by where it is, field by field.
      const [first, second] = rows.map((row) => row.checkpoint_id);
      await client.query(
        `UPDATE "${schema}".checkpoints SET document = jsonb_set(document::jsonb, '{state,tokens,contextTokens}', '999')::text WHERE checkpoint_id = $1`,
        [first],
      );
      await client.query(`DELETE FROM "${schema}".checkpoints WHERE checkpoint_id = $1`, [second]);
      const drifted = await cli('debug', '--check-memory-sync', '--json');
      expect(drifted.code).toBe(1);
      const report = JSON.parse(drifted.stdout) as { inSync: boolean; differences: Array<{ file: string; field?: string; message: string }> };
      const table = `PostgreSQL table ${schema}.checkpoints`;
      expect(report.differences.map((d) => [d.file, d.field])).toEqual([
        [`${table} (s1, ${first})`, 'state'], // its checksum no longer matches
        [`${table} (s1, ${first})`, 'state.tokens.contextTokens'],
        [`${table} (s1, ${second})`, undefined],
      ]);
      expect(report.differences[2]!.message).toMatch(/missing; the log records the checkpoint, but the checkpoint store has no document of it/);
    } finally {
      await client.end();
      await rm(cwd, { recursive: true, force: true });
    }
  }, 60_000);
});
