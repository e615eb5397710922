import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
    const fixture = await memoryEngine();
    const { engine } = fixture;
    await smallLog(fixture);
    const files = buildMemoryFiles(await engine.replay());
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
    // The one session not ended is the current one.
    expect(state.current_session_id).toBe('demo');
    expect(state.last_sync).toBe('2026-01-01T00:00:13.000Z');
    expect(state.sessions.demo).toEqual({
      // The product document's session metadata, under its names: 22,100 of 200,000 is 11.05%.
      session_id: 'demo',
      created_at: '2026-01-01T00:00:04.000Z',
      context_window: { total: 200_000, used: 22_100, available: 177_900, position_percent: 11.05 },
      persistence: { auto_load_history: true, context_preservation: 'critical_and_supporting', cache_enabled: true },
      forking: { enabled: true, fork_session_id: null, checkpoint_timestamp: null },
      current: true,
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
        { id: 'spec', title: 'Write the spec', state: 'blocked', phase: 'design', lastReason: 'waiting for the API key', failureReason: null },
        { id: 'build', title: 'Build it | twice', state: 'pending', phase: null, lastReason: null, failureReason: null },
      ],
      checkpoint: null,
      budget: { contextTokens: 22_100, contextWindow: 200_000, percent: 11.05 },
      // No context items were recorded.
      critical_context: null,
      critical_items: [],
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
        'Status active, agent planner, model claude-sonnet-4-5, version 10, 2 of 3 tasks open, context 22,100 tokens (11.1% of 200,000).',
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

  it("gives a fork its parent, a null window for a model it does not know, its own usage only, and lists it last", async () => {
    const fixture = await memoryEngine();
    const { engine, clock } = fixture;
    await smallLog(fixture);
    // demo's version 6 is its first usage record (:09): the fork inherits it.
    const fork = await engine.forkSession('demo', { sessionId: 'fork1', atVersion: 6, agent: 'builder', model: 'gpt-4o' }); // :14
    clock.tick();
    await fork.recordUsage({ input_tokens: 40, output_tokens: 4 }); // :15
    const files = buildMemoryFiles(await engine.replay());

    const state = JSON.parse(files.get('sessions/session-state.json')!) as SessionStateDocument;
    expect(Object.keys(state.sessions)).toEqual(['demo', 'fork1']);
    expect(state.sessions.fork1).toMatchObject({
      agent: 'builder',
      model: 'gpt-4o',
      parent: { sessionId: 'demo', version: 6 },
      tokens: { contextTokens: 40, contextWindow: null, percent: null },
    });
    // The parent's record is logged once, under the parent.
    expect(files.get('sessions/token-usage.log')!.split('\n').filter((line) => line !== '')).toEqual([
      '2026-01-01T00:00:02.000Z old claude-haiku-4-5 main in=10 out=5 cache_write=0 cache_read=0 context=10',
      '2026-01-01T00:00:09.000Z demo claude-sonnet-4-5 main in=1200 out=300 cache_write=900 cache_read=20000 context=22100',
      '2026-01-01T00:00:13.000Z demo claude-haiku-4-5 side in=500 out=100 cache_write=0 cache_read=0 context=22100',
      '2026-01-01T00:00:15.000Z fork1 gpt-4o main in=40 out=4 cache_write=0 cache_read=0 context=40',
    ]);
    const tasks = files.get('sessions/active-tasks.md')!;
    const forkSection = tasks.slice(tasks.indexOf('## fork1'));
    expect(tasks.indexOf('## demo: Plan the release')).toBeLessThan(tasks.indexOf('## fork1'));
    expect(forkSection).toContain('Status active, agent builder, model gpt-4o, version 2, 3 of 3 tasks open, context 40 tokens.\n');
    expect(forkSection).toContain('| spec | in_progress | Write the spec | design |  |');
  });

  it('is deterministic: the same log gives the same bytes', async () => {
    const first = await memoryEngine();
    const second = await memoryEngine();
    await smallLog(first);
    await smallLog(second);
    expect(buildMemoryFiles(await first.engine.replay())).toEqual(buildMemoryFiles(await second.engine.replay()));
  });

  it('lists every session not ended in session-state.json and marks the one started, resumed or taken over last as current', async () => {
    const fixture = await memoryEngine();
    const { engine, clock } = fixture;
    const current = async () => {
      const state = JSON.parse(buildMemoryFiles(await engine.replay()).get('sessions/session-state.json')!) as SessionStateDocument;
      return { id: state.current_session_id, sessions: Object.keys(state.sessions), flags: Object.values(state.sessions).map((s) => s.current) };
    };
    clock.tick();
    const a = await engine.startSession({ sessionId: 'a', agent: 'planner', model: 'claude-sonnet-4-5' });
    clock.tick();
    await engine.startSession({ sessionId: 'b', agent: 'builder', model: 'claude-sonnet-4-5' });
    expect(await current()).toEqual({ id: 'b', sessions: ['a', 'b'], flags: [false, true] });
    clock.tick();
    await engine.resumeSession('a');
    expect(await current()).toEqual({ id: 'a', sessions: ['a', 'b'], flags: [true, false] });
    clock.tick();
    await a.end('done');
    expect(await current()).toEqual({ id: 'b', sessions: ['b'], flags: [true] });
  });

  it("keeps a task's own failure reason beside the recovery that followed it, in active-tasks.md and context-cache.json", async () => {
    const fixture = await memoryEngine();
    const { engine } = fixture;
    const s = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await s.addTask({ taskId: 't', title: 'Write the tests' });
    await s.sendTask('t', 'START');
    await s.sendTask('t', { type: 'FAIL', reason: 'fsync missing' });
    await s.sendTask('t', { type: 'RECOVER', reason: 'recovery r-1' });
    const files = buildMemoryFiles(await engine.replay());
    expect(files.get('sessions/active-tasks.md')).toContain('| t | recovered | Write the tests |  | failed: fsync missing; then: recovery r-1 |\n');
    const cache = JSON.parse(files.get('sessions/context-cache.json')!) as ContextCacheDocument;
    expect(cache.sessions.s!.openTasks).toEqual([
      { id: 't', title: 'Write the tests', state: 'recovered', phase: null, lastReason: 'recovery r-1', failureReason: 'fsync missing' },
    ]);
  });

  it('says so when no session is active, and leaves the JSON documents empty', async () => {
    const files = buildMemoryFiles({ sessions: new Map(), tokenHistories: new Map() });
    expect(files.get('sessions/session-state.json')).toBe('{\n  "current_session_id": null,\n  "last_sync": null,\n  "log_position": null,\n  "sessions": {}\n}\n');
    expect(files.get('sessions/context-cache.json')).toBe('{\n  "sessions": {}\n}\n');
    expect(files.get('sessions/token-usage.log')).toBe('');
    expect(files.get('sessions/active-tasks.md')).toBe('# Active tasks\n\n_No active sessions._\n');
  });
});

describe('writeMemoryFiles', () => {
  it('writes the files under <dir>/sessions and skips the ones that did not change', async () => {
    const fixture = await memoryEngine();
    const { engine, dir } = fixture;
    const { demo } = await smallLog(fixture);
    const first = await writeMemoryFiles(dir, await engine.replay());
    expect(first.written).toHaveLength(4);
    expect(first.unchanged).toEqual([]);
    const expected = buildMemoryFiles(await engine.replay());
    for (const [path, content] of expected) expect(await readFile(join(dir, path), 'utf8')).toBe(content);

    // A task event leaves the token-usage log as it was.
    await demo.sendTask('spec', 'UNBLOCK');
    const second = await writeMemoryFiles(dir, await engine.replay());
    expect(second.written).toEqual(['sessions/session-state.json', 'sessions/context-cache.json', 'sessions/active-tasks.md']);
    expect(second.unchanged).toEqual(['sessions/token-usage.log']);
    expect(await readFile(join(dir, 'sessions/active-tasks.md'), 'utf8')).toContain('| spec | in_progress | Write the spec | design | waiting for the API key |');

    const third = await writeMemoryFiles(dir, await engine.replay());
    expect(third.written).toEqual([]);
    expect(third.unchanged).toHaveLength(4);
  });
});
