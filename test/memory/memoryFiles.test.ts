import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newEvent } from '../../src/index.js';
import {
  buildMemoryFiles,
  writeMemoryFiles,
  type ContextCacheDocument,
  type SessionStateDocument,
} from '../../src/memory/index.js';
import { memoryEngine, runCleanup, smallLog } from './fixture.js';

afterEach(runCleanup);

describe('buildMemoryFiles', () => {
  it('builds the four memory files of a small log, with the numbers a user would check', async () => {
    const { engine, dir } = await memoryEngine();
    await smallLog(engine);
    const files = buildMemoryFiles((await engine.replay()).sessions);
    expect([...files.keys()]).toEqual([
      'sessions/session-state.json',
      'sessions/context-cache.json',
      'sessions/token-usage.log',
      'sessions/active-tasks.md',
    ]);

    const stateText = files.get('sessions/session-state.json')!;
    expect(stateText.endsWith('}\n')).toBe(true);
    expect(stateText).toContain('\n  "sessions": {\n');
    const state = JSON.parse(stateText) as SessionStateDocument;
    // The ended session is not there.
    expect(Object.keys(state.sessions)).toEqual(['demo']);
    expect(state.sessions.demo).toEqual({
      status: 'active',
      title: 'Plan the release',
      agent: 'planner',
      agents: ['planner'],
      model: 'claude-sonnet-4-5',
      startedAt: '2026-01-01T00:00:04.000Z',
      version: 10,
      position: 13,
      updatedAt: '2026-01-01T00:00:13.000Z',
      tasks: {
        total: 3,
        open: 2,
        pending: 1,
        in_progress: 0,
        blocked: 1,
        token_warning: 0,
        context_switch: 0,
        completed: 1,
        failed: 0,
        recovered: 0,
      },
      tokens: {
        contextTokens: 22_100,
        contextWindow: 200_000,
        percent: 11.05,
        spend: {
          inputTokens: 1_700,
          outputTokens: 400,
          cacheCreationInputTokens: 900,
          cacheReadInputTokens: 20_000,
          totalTokens: 23_000,
        },
      },
      parent: null,
      latestCheckpointId: null,
    });

    const cache = JSON.parse(files.get('sessions/context-cache.json')!) as ContextCacheDocument;
    expect(cache.sessions.demo).toEqual({
      title: 'Plan the release',
      agent: 'planner',
      model: 'claude-sonnet-4-5',
      version: 10,
      openTasks: [
        { id: 'spec', title: 'Write the spec', state: 'blocked', phase: 'design', lastReason: 'waiting for the API key' },
        { id: 'build', title: 'Build it | twice', state: 'pending', phase: null, lastReason: null },
      ],
      checkpoint: null,
      budget: { contextTokens: 22_100, contextWindow: 200_000, percent: 11.05 },
    });

    // Every session's usage, the ended one too, in log order; a side call leaves the context as it was.
    expect(files.get('sessions/token-usage.log')).toBe(
      '2026-01-01T00:00:02.000Z old claude-haiku-4-5 main in=10 out=5 cache_write=0 cache_read=0 context=10\n' +
        '2026-01-01T00:00:09.000Z demo claude-sonnet-4-5 main in=1200 out=300 cache_write=900 cache_read=20000 context=22100\n' +
        '2026-01-01T00:00:13.000Z demo claude-haiku-4-5 side in=500 out=100 cache_write=0 cache_read=0 context=22100\n',
    );

    expect(files.get('sessions/active-tasks.md')).toBe(
      [
        '# Active tasks',
        '',
        '## demo: Plan the release',
        '',
        'Status active, agent planner, model claude-sonnet-4-5, version 10, 2 of 3 tasks open, context 22100 tokens (11.05% of 200000).',
        '',
        '| Id | State | Title | Phase | Last reason |',
        '| --- | --- | --- | --- | --- |',
        '| spec | blocked | Write the spec | design | waiting for the API key |',
        '| build | pending | Build it \\| twice |  |  |',
        '| notes | completed | Release notes |  |  |',
        '',
      ].join('\n'),
    );
  });

  it('gives a fork its parent, a model it does not know a null window, and lists newer sessions last', async () => {
    const { engine, dir } = await memoryEngine();
    await smallLog(engine);
    await engine.store.append('session-fork1', [
      newEvent(
        'SessionForked',
        { sessionId: 'fork1', parentSessionId: 'demo', parentVersion: 6, agent: 'builder', model: 'gpt-4o' },
        { at: '2026-01-01T00:01:00.000Z', agent: 'builder' },
        'fork-evt-1',
      ),
    ]);
    const files = buildMemoryFiles((await engine.replay()).sessions);
    const state = JSON.parse(files.get('sessions/session-state.json')!) as SessionStateDocument;
    expect(Object.keys(state.sessions)).toEqual(['demo', 'fork1']);
    expect(state.sessions.fork1).toMatchObject({
      title: null,
      parent: { sessionId: 'demo', version: 6 },
      tokens: { contextTokens: 0, contextWindow: null, percent: null },
    });
    const tasks = files.get('sessions/active-tasks.md')!;
    expect(tasks.indexOf('## demo: Plan the release')).toBeLessThan(tasks.indexOf('## fork1'));
    expect(tasks).toContain('## fork1\n\nStatus active, agent builder, model gpt-4o, version 1, 0 of 0 tasks open, context 0 tokens.\n\n_No tasks._\n');
  });

  it('is deterministic: the same log gives the same bytes', async () => {
    const { engine: first } = await memoryEngine();
    const { engine: second } = await memoryEngine();
    await smallLog(first);
    await smallLog(second);
    expect(buildMemoryFiles((await first.replay()).sessions)).toEqual(buildMemoryFiles((await second.replay()).sessions));
  });

  it('says so when no session is active, and leaves the JSON documents empty', async () => {
    const files = buildMemoryFiles(new Map());
    expect(files.get('sessions/session-state.json')).toBe('{\n  "sessions": {}\n}\n');
    expect(files.get('sessions/context-cache.json')).toBe('{\n  "sessions": {}\n}\n');
    expect(files.get('sessions/token-usage.log')).toBe('');
    expect(files.get('sessions/active-tasks.md')).toBe('# Active tasks\n\n_No active sessions._\n');
  });
});

describe('writeMemoryFiles', () => {
  it('writes the files under <dir>/sessions and skips the ones that did not change', async () => {
    const { engine, dir } = await memoryEngine();
    const { demo } = await smallLog(engine);
    const first = await writeMemoryFiles(dir, (await engine.replay()).sessions);
    expect(first.written).toHaveLength(4);
    expect(first.unchanged).toEqual([]);
    const expected = buildMemoryFiles((await engine.replay()).sessions);
    for (const [path, content] of expected) expect(await readFile(join(dir, path), 'utf8')).toBe(content);

    // A task event leaves the token-usage log as it was.
    await demo.sendTask('spec', 'UNBLOCK');
    const second = await writeMemoryFiles(dir, (await engine.replay()).sessions);
    expect(second.written).toEqual(['sessions/session-state.json', 'sessions/context-cache.json', 'sessions/active-tasks.md']);
    expect(second.unchanged).toEqual(['sessions/token-usage.log']);
    expect(await readFile(join(dir, 'sessions/active-tasks.md'), 'utf8')).toContain('| spec | in_progress | Write the spec | design | waiting for the API key |');

    const third = await writeMemoryFiles(dir, (await engine.replay()).sessions);
    expect(third.written).toEqual([]);
    expect(third.unchanged).toHaveLength(4);
  });
});
