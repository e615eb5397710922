import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { openFileEventStore, type StoredEvent } from '../../src/index.js';
import { openPostgresEventStore } from '../../src/postgres.js';
import { importerOf } from '../../src/store/postgres/bulkImport.js';
import { dropTestSchemas, freshSchema, HAVE_POSTGRES, urlWithSchema } from './pgTestServer.js';

async function cli(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env: { ...process.env, MOAI_STORE_URL: '' } });
  return { code, stdout, stderr };
}

/** Every event of a file log, as the lines on disk say (parsed independently of the store). */
async function fileLogLines(dir: string): Promise<Record<string, unknown>[]> {
  const events = join(dir, 'events');
  const lines: Record<string, unknown>[] = [];
  for (const name of (await readdir(events)).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const line of (await readFile(join(events, name), 'utf8')).split('\n')) {
      if (line.trim() === '') continue;
      // A line is a checksum of 8 hex digits, a space (or + when the append goes on), and the event's JSON.
      const parsed = JSON.parse(/^[0-9a-f]{8}[ +](.*)$/.exec(line)![1]!) as Record<string, unknown>;
      lines.push(parsed);
    }
  }
  return lines;
}

const digest = (events: readonly StoredEvent[]): string =>
  createHash('sha256')
    .update(events.map((e) => JSON.stringify([e.position, e.stream, e.version, e.id, e.type, e.schemaVersion, e.meta, e.data])).join('\n'))
    .digest('hex');

async function readAll(store: { readAll(): AsyncIterable<StoredEvent> }): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of store.readAll()) events.push(event);
  return events;
}

describe.skipIf(!HAVE_POSTGRES)('moai-session copy between a state folder and PostgreSQL', () => {
  afterAll(dropTestSchemas);

  it('copies a state folder to PostgreSQL and back, keeping positions, versions, ids, metadata and checkpoints', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'moai-copy-'));
    // A real log: the demo's two agents, with checkpoints and a handoff.
    expect((await cli(cwd, 'demo')).code).toBe(0);
    const original = await openFileEventStore({ dir: join(cwd, '.moai', 'events'), readOnly: true });
    const events = await readAll(original);
    await original.close();
    expect(events.length).toBeGreaterThan(20);
    const lines = await fileLogLines(join(cwd, '.moai'));
    expect(lines.length).toBe(events.length);

    const url = urlWithSchema(freshSchema('copy'));
    const there = await cli(cwd, 'copy', '--from', '.moai', '--to', url);
    expect(there.stderr).toBe('');
    expect(there.code).toBe(0);
    expect(there.stdout).toMatch(new RegExp(`^Copied ${events.length} events of \\d+ streams? and \\d+ checkpoint documents? from `));
    expect(there.stdout).toContain(`Verified: both hold ${events.length} events, checksum sha256:`);

    const store = await openPostgresEventStore({ url });
    const copied = await readAll(store);
    expect(digest(copied)).toBe(digest(events));
    const { rows } = await store.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${store.schema}".checkpoints`);
    const checkpointFiles = (await readdir(join(cwd, '.moai', 'sessions', 'checkpoints'), { recursive: true })).filter((n) => String(n).endsWith('.json'));
    expect(Number(rows[0]!.n)).toBe(checkpointFiles.length);
    await store.close();

    const back = await mkdtemp(join(tmpdir(), 'moai-copy-back-'));
    const returned = await cli(back, 'copy', '--from', url, '--to', '.moai', '--json');
    expect(returned.code).toBe(0);
    const result = JSON.parse(returned.stdout) as { events: number; checksum: string; checkpoints: number };
    expect(result.events).toBe(events.length);
    expect(result.checkpoints).toBe(checkpointFiles.length);
    // The lines written back are the lines of the original log, field for field.
    const backLines = await fileLogLines(join(back, '.moai'));
    expect(backLines.map(({ position, stream, version, id, type, meta, data }) => ({ position, stream, version, id, type, meta, data }))).toEqual(
      lines.map(({ position, stream, version, id, type, meta, data }) => ({ position, stream, version, id, type, meta, data })),
    );
    // And the copy back works as a state folder: replay agrees.
    const replay = await cli(back, 'replay');
    expect(replay.code).toBe(0);
  }, 60_000);

  it('resumes an interrupted copy and refuses a target that is not a start of the source', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'moai-copy-resume-'));
    const source = await openFileEventStore({ dir: join(cwd, '.moai', 'events') });
    const { sampleEvent } = await import('../../src/testing/index.js');
    for (let i = 0; i < 30; i++) await source.append(`session-s${i % 3}`, [sampleEvent(), sampleEvent()]);
    const events = await readAll(source);
    await source.close();
    const url = urlWithSchema(freshSchema('resume'));
    // An interrupted copy: the target holds the first 20 events.
    const partial = await openPostgresEventStore({ url });
    for (const event of events.slice(0, 20)) {
      await partial.append(event.stream, [{ id: event.id, type: event.type, data: event.data, meta: event.meta } as never], { expectedVersion: event.version - 1 });
    }
    await partial.close();
    const resumed = await cli(cwd, 'copy', '--from', '.moai', '--to', url, '--json');
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ alreadyThere: 20, appended: 40, events: 60, streams: 3 });
    const target = await openPostgresEventStore({ url });
    expect(digest(await readAll(target))).toBe(digest(events));
    await target.close();

    const other = urlWithSchema(freshSchema('other'));
    const foreign = await openPostgresEventStore({ url: other });
    await foreign.append('session-zz', [sampleEvent()]);
    await foreign.close();
    const refused = await cli(cwd, 'copy', '--from', '.moai', '--to', other);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('The target holds 1 events that are not the source');
    expect((await cli(cwd, 'copy', '--from', '.moai', '--to', './.moai')).code).toBe(2);
    // The database's bulk import takes only events that continue its log exactly.
    const strict = await openPostgresEventStore({ url: urlWithSchema(freshSchema('strict')) });
    const importer = importerOf(strict)!;
    await expect(importer(events.slice(1, 3))).rejects.toThrow(/do not continue the log: position 2 \(expected 1\)/);
    const skipping = [events[0]!, { ...events[1]!, position: 2, version: events[1]!.stream === events[0]!.stream ? 3 : 2 }];
    await expect(importer(skipping)).rejects.toThrow(/do not continue the log: session-s\d version \d \(the stream is at \d\)/);
    await importer(events.slice(0, 2));
    expect(await strict.headPosition()).toBe(2);
    await strict.close();
    expect((await cli(cwd, 'copy', '--from', 'mysql://x/y', '--to', url)).stderr).toContain('give a state folder (.moai) or a postgres:// URL');
  }, 60_000);
});
