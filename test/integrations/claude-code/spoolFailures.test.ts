// Which failures keep a spooled payload for a later run and which set it
// aside: the store busy or unavailable (every payload would fail alike) stays,
// in order; a payload the store refuses (it would fail again the same way,
// forever, ahead of all the others) is set aside. Real errors, from a real
// PostgreSQL server and a real file store.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { spoolFailureOf } from '../../../src/integrations/claude-code/runHook.js';
import { storageErrorOf } from '../../../src/store/postgres/pgErrors.js';
import { createEngine } from '../../../src/engine/createEngine.js';
import { HAVE_POSTGRES, TEST_POSTGRES_URL } from '../../postgres/pgTestServer.js';

/** The error a query gets from the test server, as the PostgreSQL store reports it. */
async function queryError(sql: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } catch (error) {
    return storageErrorOf(error, 'an append', 'test');
  } finally {
    await client.end();
  }
  throw new Error(`${sql} did not fail`);
}

describe.skipIf(!HAVE_POSTGRES)('a spooled payload PostgreSQL could not take', () => {
  it('is set aside when the server refuses its data (a NUL in JSON text, a value out of range: SQLSTATE class 22)', async () => {
    const nul = await queryError(`SELECT '"a\\u0000b"'::jsonb ->> 0`);
    expect(String((nul as Error).message)).toMatch(/22P05|unsupported Unicode escape/);
    expect(spoolFailureOf(nul)).toBe('refused');
    expect(spoolFailureOf(await queryError('SELECT 1 / 0'))).toBe('refused');
  });

  it('stays in the spool when the server cannot be reached', async () => {
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 2000 });
    const error = await client.connect().then(
      () => undefined,
      (failure: unknown) => storageErrorOf(failure, 'a connection', 'test'),
    );
    expect(error).toBeDefined();
    expect(spoolFailureOf(error)).toBe('retry');
  });
});

describe('a spooled payload the file store could not take', () => {
  it('stays in the spool when the state folder cannot be opened (the store, not the payload)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'moai-spool-'));
    try {
      writeFileSync(join(root, 'events'), 'a file where the log folder goes');
      const error = await createEngine({ dir: root, memoryFiles: false }).then(
        async (engine) => {
          await engine.close();
          return undefined;
        },
        (failure: unknown) => failure,
      );
      expect(error).toBeDefined();
      expect(spoolFailureOf(error)).toBe('retry');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('is set aside for an error of its own (a bug on its input)', () => {
    expect(spoolFailureOf(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe('refused');
  });
});
