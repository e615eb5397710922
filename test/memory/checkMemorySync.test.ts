import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCheckpointDocument, type CheckpointDocument } from '../../src/checkpoints/checkpointDocument.js';
import { newEvent, type Engine } from '../../src/index.js';
import { checkMemorySync, writeMemoryFiles } from '../../src/memory/index.js';
import { memoryEngine, runCleanup, smallLog } from './fixture.js';

afterEach(runCleanup);

async function syncMemoryFiles(engine: Engine, dir: string): Promise<void> {
  await writeMemoryFiles(dir, await engine.replay());
}

async function editJson(file: string, edit: (value: any) => void): Promise<void> {
  const value = JSON.parse(await readFile(file, 'utf8'));
  edit(value);
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * A checkpoint of `demo` as it is now: its document written where the
 * checkpoint feature writes it (`sessions/checkpoints/demo/<id>.json`; with
 * `flat`, where it wrote it before the folder per session), and its
 * `CheckpointCreated` appended to the log.
 */
async function takeCheckpoint(engine: Engine, dir: string, checkpointId: string, layout: 'session' | 'flat' = 'session'): Promise<CheckpointDocument> {
  const view = await engine.sessionState('demo');
  const document = buildCheckpointDocument(checkpointId, 'manual', '2026-01-01T00:10:00.000Z', view);
  const folder = layout === 'session' ? join(dir, 'sessions', 'checkpoints', 'demo') : join(dir, 'sessions', 'checkpoints');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, `${checkpointId}.json`), `${JSON.stringify(document, null, 2)}\n`);
  await engine.store.append(
    'session-demo',
    [
      newEvent(
        'CheckpointCreated',
        { checkpointId, reason: 'manual', position: view.position, version: view.version, checksum: document.checksum },
        { at: '2026-01-01T00:10:00.000Z', agent: 'planner' },
        `evt-${checkpointId}`,
      ),
    ],
    { expectedVersion: view.version },
  );
  return document;
}

describe('checkMemorySync', () => {
  it('finds the files in sync right after they are written', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    await syncMemoryFiles(engine, dir);
    expect(await checkMemorySync(engine, dir)).toEqual({ inSync: true, differences: [] });
  });

  it('reports a hand-edited field with its file, JSON path, expected and found values', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    await syncMemoryFiles(engine, dir);
    await editJson(join(dir, 'sessions/session-state.json'), (doc) => {
      doc.sessions.demo.tokens.contextTokens = 70_000;
    });
    const report = await checkMemorySync(engine, dir);
    expect(report.inSync).toBe(false);
    expect(report.differences).toEqual([
      {
        file: 'sessions/session-state.json',
        field: 'sessions.demo.tokens.contextTokens',
        expected: 22_100,
        found: 70_000,
        message: 'sessions/session-state.json: sessions.demo.tokens.contextTokens: expected 22100, found 70000',
      },
    ]);
  });

  it('reports a session the file has and the log does not, and one the file lost', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    await syncMemoryFiles(engine, dir);
    await editJson(join(dir, 'sessions/context-cache.json'), (doc) => {
      doc.sessions.ghost = doc.sessions.demo;
      delete doc.sessions.demo;
    });
    const { differences } = await checkMemorySync(engine, dir);
    expect(differences.map((d) => [d.file, d.field])).toEqual([
      ['sessions/context-cache.json', 'sessions.demo'],
      ['sessions/context-cache.json', 'sessions.ghost'],
    ]);
    expect(differences[0]!.message).toMatch(/missing: the log has session demo/);
    expect(differences[1]!.message).toMatch(/the file has session ghost, which the log does not have/);
  });

  it('reports a deleted file', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    await syncMemoryFiles(engine, dir);
    await rm(join(dir, 'sessions/context-cache.json'));
    const { differences } = await checkMemorySync(engine, dir);
    expect(differences).toEqual([
      {
        file: 'sessions/context-cache.json',
        message: 'sessions/context-cache.json: missing; the log gives it (rewrite it with a memory sync)',
      },
    ]);
  });

  it('reports stale files: every field and line the newer events change', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    const { demo } = await smallLog(fixture);
    await syncMemoryFiles(engine, dir);
    await demo.recordUsage({ input_tokens: 2000, output_tokens: 50, cache_read_input_tokens: 71_200 }); // :14
    const { differences } = await checkMemorySync(engine, dir);
    const fields = differences.filter((d) => d.file === 'sessions/session-state.json').map((d) => d.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'sessions.demo.version',
        'sessions.demo.position',
        'sessions.demo.updatedAt',
        'sessions.demo.tokens.contextTokens',
        'sessions.demo.tokens.percent',
        'sessions.demo.tokens.spend.totalTokens',
      ]),
    );
    expect(differences).toContainEqual({
      file: 'sessions/session-state.json',
      field: 'sessions.demo.tokens.contextTokens',
      expected: 73_200,
      found: 22_100,
      message: 'sessions/session-state.json: sessions.demo.tokens.contextTokens: expected 73200, found 22100',
    });
    expect(differences).toContainEqual(
      expect.objectContaining({ file: 'sessions/context-cache.json', field: 'sessions.demo.budget.contextTokens' }),
    );
    // The log file lacks exactly its last line.
    const log = differences.filter((d) => d.file === 'sessions/token-usage.log');
    expect(log).toEqual([
      {
        file: 'sessions/token-usage.log',
        line: 4,
        expected:
          '2026-01-01T00:00:14.000Z demo claude-sonnet-4-5 main in=2000 out=50 cache_write=0 cache_read=71200 context=73200',
        message: expect.stringMatching(/^sessions\/token-usage\.log:4: missing line at the end, expected /),
      },
    ]);
    const tasks = differences.filter((d) => d.file === 'sessions/active-tasks.md');
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ line: 5 });
    expect(tasks[0]!.expected).toContain('context 73,200 tokens (36.6% of 200,000)');
  });

  it('reports a hand-edited line of a text file with its number', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    await syncMemoryFiles(engine, dir);
    const file = join(dir, 'sessions/active-tasks.md');
    await writeFile(file, (await readFile(file, 'utf8')).replace('| spec | blocked |', '| spec | completed |'));
    const { differences } = await checkMemorySync(engine, dir);
    expect(differences).toEqual([
      {
        file: 'sessions/active-tasks.md',
        line: 9,
        expected: '| spec | blocked | Write the spec | design | waiting for the API key |',
        found: '| spec | completed | Write the spec | design | waiting for the API key |',
        message: expect.stringMatching(/^sessions\/active-tasks\.md:9: expected /),
      },
    ]);
  });

  it('reports a line taken out of the middle as that one line, not every equal line after it (a true line diff)', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    await syncMemoryFiles(engine, dir);
    const file = join(dir, 'sessions/active-tasks.md');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const gone = lines.splice(8, 1)[0]!; // the spec task's row, line 9
    lines.splice(9, 0, '| stray | pending | Not in the log |  |  |');
    await writeFile(file, lines.join('\n'));
    const { differences } = await checkMemorySync(engine, dir);
    expect(differences).toEqual([
      { file: 'sessions/active-tasks.md', line: 9, expected: gone, message: `sessions/active-tasks.md:9: missing line before line 9, expected ${JSON.stringify(gone)}` },
      {
        file: 'sessions/active-tasks.md',
        line: 10,
        found: '| stray | pending | Not in the log |  |  |',
        message: 'sessions/active-tasks.md:10: line not expected, found "| stray | pending | Not in the log |  |  |"',
      },
    ]);
  });

  it('reports a corrupt JSON file with the parse error instead of failing, and still checks the rest', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    const { demo } = await smallLog(fixture);
    await syncMemoryFiles(engine, dir);
    await writeFile(join(dir, 'sessions/session-state.json'), '{ "sessions": { "demo": ');
    await demo.sendTask('build', 'START');
    const { inSync, differences } = await checkMemorySync(engine, dir);
    expect(inSync).toBe(false);
    expect(differences[0]).toEqual({
      file: 'sessions/session-state.json',
      message: expect.stringMatching(/^sessions\/session-state\.json: not valid JSON: /),
    });
    expect(differences).toContainEqual(
      expect.objectContaining({ file: 'sessions/context-cache.json', field: 'sessions.demo.openTasks[1].state', expected: 'in_progress', found: 'pending' }),
    );
  });

  it('reports JSON that holds the right data but not in the written form', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    await smallLog(fixture);
    await syncMemoryFiles(engine, dir);
    const file = join(dir, 'sessions/session-state.json');
    await writeFile(file, JSON.stringify(JSON.parse(await readFile(file, 'utf8'))));
    const { differences } = await checkMemorySync(engine, dir);
    expect(differences).toEqual([
      { file: 'sessions/session-state.json', message: expect.stringMatching(/data matches the log but the text is not as written/) },
    ]);
  });

  describe('checkpoints', () => {
    it("verifies the engine's own checkpoints, a fork's included, and finds them in sync", async () => {
      const fixture = await memoryEngine({ autoCheckpoint: true });
      const { engine, dir, clock } = fixture;
      const { demo } = await smallLog(fixture); // old's end takes a checkpoint
      const manual = await demo.checkpoint('before the fork');
      clock.tick();
      const fork = await engine.forkSession('demo', { sessionId: 'fork1' });
      clock.tick();
      const forkCheckpoint = await fork.checkpoint('fork started');
      await syncMemoryFiles(engine, dir);
      // old's session-end checkpoint, demo's and the fork's, written by the engine, each in its session's folder.
      expect((await readdir(join(dir, 'sessions/checkpoints'))).sort()).toEqual(['demo', 'fork1', 'old']);
      expect(await readdir(join(dir, 'sessions/checkpoints/fork1'))).toEqual([`${forkCheckpoint.checkpointId}.json`]);
      expect(await checkMemorySync(engine, dir)).toEqual({ inSync: true, differences: [] });

      const state = JSON.parse(await readFile(join(dir, 'sessions/session-state.json'), 'utf8'));
      expect(state.sessions.demo.latestCheckpointId).toBe(manual.checkpointId);
      expect(state.sessions.fork1.latestCheckpointId).toBe(forkCheckpoint.checkpointId);

      // The fork's checkpoint holds the fork's state, checked against the fork's log.
      await editJson(join(dir, `sessions/checkpoints/fork1/${forkCheckpoint.checkpointId}.json`), (doc) => {
        doc.state.tasks.byId.spec.state = 'completed';
      });
      const { differences } = await checkMemorySync(engine, dir);
      expect(differences.map((d) => d.field)).toEqual(['state', 'state.tasks.byId.spec.state']);

      // The product's fields say what the log recorded too.
      await editJson(join(dir, `sessions/checkpoints/demo/${manual.checkpointId}.json`), (doc) => {
        doc.timestamp = '2020-01-01T00:00:00.000Z';
      });
      const again = await checkMemorySync(engine, dir);
      expect(again.differences).toContainEqual(
        expect.objectContaining({ file: `sessions/checkpoints/demo/${manual.checkpointId}.json`, field: 'timestamp', expected: manual.createdAt }),
      );
    });

    it('accepts a checkpoint file that matches the log, in the layout before the folder per session too', async () => {
      const fixture = await memoryEngine();
      const { engine, dir } = fixture;
      await smallLog(fixture);
      await takeCheckpoint(engine, dir, 'cp-1', 'flat');
      await writeMemoryFiles(dir, await engine.replay());
      expect(await checkMemorySync(engine, dir)).toEqual({ inSync: true, differences: [] });
      const state = JSON.parse(await readFile(join(dir, 'sessions/session-state.json'), 'utf8'));
      expect(state.sessions.demo.latestCheckpointId).toBe('cp-1');
    });

    it('reports a checkpoint whose state was edited, with the field that changed', async () => {
      const fixture = await memoryEngine();
      const { engine, dir } = fixture;
      await smallLog(fixture);
      const document = await takeCheckpoint(engine, dir, 'cp-1');
      await writeMemoryFiles(dir, await engine.replay());
      await editJson(join(dir, 'sessions/checkpoints/demo/cp-1.json'), (doc) => {
        doc.state.tokens.contextTokens = 1;
      });
      const { differences } = await checkMemorySync(engine, dir);
      expect(differences.map((d) => [d.file, d.field])).toEqual([
        ['sessions/checkpoints/demo/cp-1.json', 'state'],
        ['sessions/checkpoints/demo/cp-1.json', 'state.tokens.contextTokens'],
      ]);
      expect(differences[0]!.message).toMatch(/does not match the document's checksum .*: edited or damaged/);
      expect(differences[0]!.expected).toBe(document.checksum);
      expect(differences[1]).toMatchObject({ expected: 22_100, found: 1 });
    });

    it('reports a checkpoint whose state and checksum were both rewritten: the log recorded another checksum', async () => {
      const fixture = await memoryEngine();
      const { engine, dir } = fixture;
      await smallLog(fixture);
      const original = await takeCheckpoint(engine, dir, 'cp-1');
      await writeMemoryFiles(dir, await engine.replay());
      const view = await engine.sessionState('demo', { atVersion: 2 });
      const forged = buildCheckpointDocument('cp-1', 'manual', original.createdAt, view);
      await writeFile(
        join(dir, 'sessions/checkpoints/demo/cp-1.json'),
        JSON.stringify({ ...forged, version: original.version, position: original.position }),
      );
      const { differences } = await checkMemorySync(engine, dir);
      expect(differences[0]).toMatchObject({
        file: 'sessions/checkpoints/demo/cp-1.json',
        field: 'checksum',
        expected: original.checksum,
        found: forged.checksum,
      });
      expect(differences.map((d) => d.field)).toEqual(expect.arrayContaining(['state.version', 'state.tasks.order[1]']));
    });

    it('reports a missing checkpoint file, a corrupt one and a stray one', async () => {
      const fixture = await memoryEngine();
      const { engine, dir } = fixture;
      await smallLog(fixture);
      await takeCheckpoint(engine, dir, 'cp-1');
      await takeCheckpoint(engine, dir, 'cp-2');
      await writeMemoryFiles(dir, await engine.replay());
      await rm(join(dir, 'sessions/checkpoints/demo/cp-1.json'));
      await writeFile(join(dir, 'sessions/checkpoints/demo/cp-2.json'), '{"state":');
      await writeFile(join(dir, 'sessions/checkpoints/cp-stray.json'), '{}');
      await writeFile(join(dir, 'sessions/checkpoints/demo/cp-lost.json'), '{}');
      await writeFile(join(dir, 'sessions/checkpoints/demo/.cp-3.json.tmp'), 'half a write');
      await writeFile(join(dir, 'sessions/checkpoints/.cp-4.json.tmp'), 'half a write');
      const { differences } = await checkMemorySync(engine, dir);
      expect(differences).toEqual([
        { file: 'sessions/checkpoints/demo/cp-1.json', message: expect.stringMatching(/: missing;/) },
        { file: 'sessions/checkpoints/demo/cp-2.json', message: expect.stringMatching(/: not valid JSON: /) },
        {
          file: 'sessions/checkpoints/cp-stray.json',
          message: 'sessions/checkpoints/cp-stray.json: no checkpoint cp-stray is recorded in the log; the file is stray',
        },
        {
          file: 'sessions/checkpoints/demo/cp-lost.json',
          message: 'sessions/checkpoints/demo/cp-lost.json: no checkpoint cp-lost is recorded in the log for session demo; the file is stray',
        },
      ]);
    });
  });
});
