import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { createEngine, isCommandRejectedError, parseConfig, type StoredEvent } from '../../src/index.js';
import { openPostgresEventStore } from '../../src/postgres.js';
import { dropTestSchemas, freshSchema, HAVE_POSTGRES, urlWithSchema } from './pgTestServer.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// The TypeScript loader by its own path: a child's working folder has no node_modules.
const TSX = import.meta.resolve('tsx');

/** The CLI in its own process (another machine, as far as the log can tell). */
function cliProcess(args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function cli(args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env: { ...process.env, ...env } });
  return { code, stdout, stderr };
}

describe.skipIf(!HAVE_POSTGRES)('exactly once across machines on one PostgreSQL log', () => {
  afterAll(dropTestSchemas);

  it('lets exactly one of 6 processes racing to accept a handoff take the session', async () => {
    const env = { MOAI_STORE_URL: urlWithSchema(freshSchema('handoff')) };
    const cwd = await mkdtemp(join(tmpdir(), 'moai-pg-handoff-'));
    expect((await cli(['start', '--agent', 'planner', '--model', 'claude-sonnet-4-5', '--session', 's1'], cwd, env)).code).toBe(0);
    const created = await cli(['handoff', 'create', 's1', '--to', 'reviewer', '--summary', 'half done', '--handoff-id', 'h1'], cwd, env);
    expect(created.stderr).toBe('');
    // Each process has its own state folder: only the database is shared, as between machines.
    const racers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const own = await mkdtemp(join(tmpdir(), 'moai-pg-racer-'));
        await mkdir(join(own, '.moai', 'sessions'), { recursive: true }); // its memory files will go there
        return cliProcess(['handoff', 'accept', 's1', 'h1', '--agent', 'reviewer'], own, env);
      }),
    );
    const winners = racers.filter((r) => r.code === 0);
    if (winners.length !== 1) console.error(racers.map((r) => r.stderr).join('\n'));
    expect(winners).toHaveLength(1);
    expect(winners[0]!.stdout).toContain('reviewer accepted handoff h1');
    for (const loser of racers.filter((r) => r.code !== 0)) {
      expect(loser.code).toBe(1);
      expect(loser.stderr).toMatch(/Handoff h1 of session s1 was already accepted by reviewer; it can be accepted only once/);
    }
    const store = await openPostgresEventStore({ url: env.MOAI_STORE_URL });
    const accepted: StoredEvent[] = [];
    for await (const event of store.readStream('session-s1')) if (event.type === 'HandoffAccepted') accepted.push(event);
    expect(accepted).toHaveLength(1);
    await store.close();
  }, 60_000);

  it('enforces max_parallel_sessions across 4 engines on one database', async () => {
    const schema = freshSchema('parallel');
    const config = parseConfig({ session: { max_parallel_sessions: 3 } }, 'test');
    const engines = await Promise.all(
      Array.from({ length: 4 }, async () =>
        createEngine({ store: await openPostgresEventStore({ url: urlWithSchema(schema), maxConnections: 3 }), config }),
      ),
    );
    // Every engine tries to start two sessions at once: 8 attempts for 3 places.
    const attempts = await Promise.allSettled(
      engines.flatMap((engine, e) => [0, 1].map((n) => engine.startSession({ sessionId: `e${e}-${n}`, agent: 'planner', model: 'claude-sonnet-4-5' }))),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(3);
    const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(refused).toHaveLength(5);
    for (const r of refused) {
      expect(isCommandRejectedError(r.reason)).toBe(true);
      expect(String(r.reason)).toMatch(/3 sessions are active .* the most session.max_parallel_sessions allows \(3\)/);
    }
    const store = await openPostgresEventStore({ url: urlWithSchema(schema) });
    expect((await store.listStreams()).filter((s) => s.stream.startsWith('session-'))).toHaveLength(3);
    await store.close();
    await Promise.all(engines.map((engine) => engine.close()));
  });
});
