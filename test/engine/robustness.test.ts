import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  createMemoryEventStore,
  isInvalidEventError,
  newEvent,
  type Engine,
  type EngineWarning,
} from '../../src/index.js';
import { parseStoredEvent, validateNewEvents } from '../../src/events/validate.js';
import { configWith, engineFactory, streamOf } from '../engineHelpers.js';
import { sequentialIds, tempDir } from '../helpers.js';

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});
const engineWith = engineFactory();




describe('what the review found', () => {
  it('admits at most max_parallel_sessions even when starts race', async () => {
    const engine = await engineWith({ config: configWith({ max_parallel_sessions: 3 }) });
    const results = await Promise.allSettled(
      ['a', 'b', 'c', 'd', 'e'].map((id) => engine.startSession({ sessionId: id, agent: 'x', model: 'claude-sonnet-4-5' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(await engine.activeSessionIds()).toHaveLength(3);
  });

  it('keeps a recorded command recorded when its policy fails, and asks for the compaction again later', async () => {
    let attempts = 0;
    const engine = await engineWith({
      summariser: async ({ contextTokens }) => {
        attempts++;
        if (attempts === 1) throw new Error('the summariser is down');
        return { tokensAfter: Math.round(contextTokens / 2) };
      },
    });
    const warnings: EngineWarning[] = [];
    engine.warnings$.subscribe((w) => warnings.push(w));
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await expect(session.recordUsage({ input_tokens: 180_000, output_tokens: 1 })).resolves.toBeUndefined();
    expect(warnings.find((w) => w.code === 'POLICY_FAILED')?.message).toContain('the summariser is down');
    expect(session.state.tokens).toMatchObject({ calls: 1, compactionPending: true });
    await session.recordUsage({ input_tokens: 176_000, output_tokens: 1 });
    expect(attempts).toBe(2);
    expect(session.state.tokens).toMatchObject({ calls: 2, compactionPending: false, contextTokens: 88_000 });
  });

  it('gives a fork checkpoints of its own: retention never archives its parent’s newest', async () => {
    const dir = await tempDir();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const engine = await createEngine({ dir, clock: () => new Date(now), ids: sequentialIds(), config: configWith({ checkpoint_interval_minutes: 100_000 }) });
    engines.push(engine);
    const parent = await engine.startSession({ sessionId: 'p', agent: 'a', model: 'claude-sonnet-4-5' });
    const parentCheckpoint = await parent.checkpoint('parent');
    const fork = await engine.forkSession('p', { sessionId: 'f' });
    expect(fork.state.checkpoints.all.length).toBe(0);
    now += 8 * 86_400_000;
    await fork.checkpoint('fork');
    const result = await engine.applyRetention();
    expect(result.archived).toEqual([]);
    expect(await readdir(join(dir, 'sessions', 'checkpoints', 'p'))).toContain(`${parentCheckpoint.checkpointId}.json`);
  });

  it('finishes a recovery a crash interrupted, under its own id', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    // What a process that crashed right after starting a recovery left in the log.
    await engine.store.append('session-s', [
      newEvent('RecoveryStarted', { recoveryId: 'r1', strategy: 'checkpoint_only' }, { at: new Date().toISOString(), agent: 'a' }, 'crashed-1'),
    ]);
    expect((await session.refresh()).session.status).toBe('recovering');
    const { report, handle } = await engine.recover('s');
    expect(report.recoveryId).toBe('r1');
    expect(handle.state.session.status).toBe('active');
    const types = (await streamOf(engine, 's')).map((e) => e.type);
    expect(types.filter((t) => t === 'RecoveryStarted')).toHaveLength(1);
    expect(types.at(-1)).toBe('RecoveryCompleted');
    await expect(engine.recover('s', { strategy: 'pray' })).rejects.toThrow('Recovery strategy "pray" is not one of');
  });

  it('returns the checkpoint document it saved, even after a conflict moved the session on', async () => {
    const store = createMemoryEventStore();
    const one = await engineWith({ store });
    const two = await engineWith({ store, ids: sequentialIds('two') });
    const a = await one.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    const b = await two.openSession('s');
    await a.addTask({ taskId: 't', title: 'T' });
    const document = await b.checkpoint('after a conflict');
    const [saved] = (await two.checkpoints.list('s')).filter((c) => c.ok);
    expect(saved?.ok && saved.document.checksum).toBe(document.checksum);
    expect(document.version).toBe(2);
    const event = (await streamOf(one, 's')).find((e) => e.type === 'CheckpointCreated');
    expect(event?.data).toMatchObject({ version: 2, checksum: document.checksum });
  });

  it('records nothing for a handoff it refuses', async () => {
    const engine = await engineWith({ config: configWith({ handoff: { min_available_tokens: 30_000, compatible_agents: { a: ['b'] } } }) });
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    const before = await engine.store.headPosition();
    await expect(session.requestHandoff({ toAgent: 'c', summary: 'x' })).rejects.toThrow(/c/);
    expect(await engine.store.headPosition()).toBe(before);
  });

  it('names where an old event failed to upcast', () => {
    const old = {
      position: 1,
      stream: 'session-s',
      version: 1,
      id: 'x',
      type: 'TokenUsageRecorded',
      schemaVersion: 1,
      meta: { at: '2025-01-01T00:00:00Z' },
      data: { model: 'm' },
    };
    let error: unknown;
    try {
      parseStoredEvent(old, 'segment-000001.jsonl:7');
    } catch (e) {
      error = e;
    }
    expect(isInvalidEventError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'Invalid event at segment-000001.jsonl:7: upcasting TokenUsageRecorded from schema version 1 failed: version 1 data needs { model, tokens: { input, output } }.',
    );
  });

  it('spells out the values a field allows when an event gives another', () => {
    const transition = (to: string) => ({
      id: 'x',
      type: 'TaskTransitioned' as const,
      meta: { at: '2026-01-01T00:00:00Z' },
      data: { taskId: 't', event: 'BLOCK' as const, from: 'in_progress' as const, to },
    });
    expect(() => validateNewEvents('session-a', [transition('nowhere') as never])).toThrow(
      'Invalid event at session-a (event 1 of the append): TaskTransitioned: data.to is "nowhere", but it must be one of "pending", "in_progress", ' +
        '"blocked", "token_warning", "context_switch", "completed", "failed", "recovered".',
    );
    const { to: _, ...withoutTo } = transition('blocked').data;
    expect(() => validateNewEvents('session-a', [{ ...transition('blocked'), data: withoutTo } as never])).toThrow(
      'TaskTransitioned: data.to is missing; it must be one of "pending", "in_progress", "blocked", "token_warning", "context_switch", "completed", "failed", "recovered".',
    );
  });
});
