import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildHandoffPackage,
  createEngine,
  createMemoryEventStore,
  DEFAULT_CONFIG,
  unpackText,
  type Engine,
  type EventStore,
  type SessionHandle,
} from '../../src/index.js';
import { writeMemoryFiles } from '../../src/memory/index.js';
import { sequentialIds, steppingClock, tempDir } from '../helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task();
});

const CONFIG = { ...DEFAULT_CONFIG, session: { ...DEFAULT_CONFIG.session, auto_checkpoint: false } };

async function engineOn(store: EventStore, dir?: string): Promise<Engine> {
  const engine = await createEngine({ store, config: CONFIG, clock: steppingClock(), ids: sequentialIds(), ...(dir === undefined ? {} : { dir }) });
  cleanup.push(() => engine.close());
  return engine;
}

async function session(): Promise<{ engine: Engine; store: EventStore; session: SessionHandle }> {
  const store = createMemoryEventStore();
  const engine = await engineOn(store);
  return { engine, store, session: await engine.startSession({ sessionId: 's1', agent: 'planner', model: 'claude-sonnet-4-5' }) };
}

const described = (s: SessionHandle) => s.contextItems().map((item) => [item.tier, item.tag ?? item.itemId, item.text ?? item.value]);

async function eventTypes(store: EventStore): Promise<string[]> {
  const types: string[] = [];
  for await (const event of store.readStream('session-s1')) types.push(event.type);
  return types;
}

describe('context items as facts of the log', () => {
  it('records, updates and drops items, each an event, listed most important first', async () => {
    const { store, session: s } = await session();
    const temp = await s.recordContext({ tier: 'temporary', text: 'ls -la output', tokens: 1200 });
    await s.recordContext({ tier: 'supporting', kind: 'note', tag: 'docs', text: 'See docs/format.md' });
    const pytest = await s.recordContext({ tier: 'critical', kind: 'constraint', tag: 'pytest', text: 'Tests use pytest' });
    expect(pytest).toMatchObject({ tier: 'critical', kind: 'constraint', tag: 'pytest', text: 'Tests use pytest', tokens: undefined, source: undefined });
    expect(temp.tokens).toBe(1200);
    expect(described(s)).toEqual([
      ['critical', 'pytest', 'Tests use pytest'],
      ['supporting', 'docs', 'See docs/format.md'],
      ['temporary', temp.itemId, 'ls -la output'],
    ]);

    // The same tag again is the same item, updated; the same content again records nothing.
    await s.recordContext({ tier: 'critical', kind: 'constraint', tag: 'pytest', text: 'Tests use pytest, coverage 85%' });
    const version = s.state.version;
    await s.recordContext({ tier: 'critical', kind: 'constraint', tag: 'pytest', text: 'Tests use pytest, coverage 85%' });
    expect(s.state.version).toBe(version);
    await s.updateContext('docs', { tier: 'critical', value: { file: 'docs/format.md' } });
    await s.dropContext(temp.itemId, 'not needed');
    // docs, now critical, was recorded before pytest: it comes first among the critical items.
    expect(described(s)).toEqual([
      ['critical', 'docs', { file: 'docs/format.md' }],
      ['critical', 'pytest', 'Tests use pytest, coverage 85%'],
    ]);
    expect((await eventTypes(store)).slice(1)).toEqual([
      'ContextItemRecorded',
      'ContextItemRecorded',
      'ContextItemRecorded',
      'ContextItemUpdated',
      'ContextItemUpdated',
      'ContextItemDropped',
    ]);
    await expect(s.dropContext('nothing')).rejects.toThrow(/no context item with the id or tag "nothing"; its items are docs, pytest/);
    await expect(s.recordContext({ tier: 'urgent' as 'critical', text: 'x' })).rejects.toThrow(/tier is one of critical, supporting, temporary/);
    await expect(s.recordContext({ tier: 'critical', text: '  ' })).rejects.toThrow(/a text that is not blank/);
  });

  it('travels in time like everything else: the items at an earlier version', async () => {
    const { engine, session: s } = await session();
    await s.recordContext({ tier: 'critical', tag: 'lang', text: 'ko' });
    const before = s.state.version;
    await s.updateContext('lang', { text: 'en' });
    await s.dropContext('lang');
    const at = (version: number) => engine.sessionState('s1', { atVersion: version });
    expect([...(await at(before)).context.items.values()].map((item) => item.text)).toEqual(['ko']);
    expect([...(await at(before + 1)).context.items.values()].map((item) => item.text)).toEqual(['en']);
    expect((await at(before + 2)).context.items.size).toBe(0);
  });

  it('a compaction keeps critical and supporting items, drops temporary ones (recorded), and its summary becomes a supporting item', async () => {
    const { store, session: s } = await session();
    await s.recordUsage({ input_tokens: 150_000, output_tokens: 10 });
    await s.recordContext({ tier: 'critical', kind: 'objective', tag: 'goal', text: 'Ship the store' });
    await s.recordContext({ tier: 'supporting', tag: 'ref', text: 'RFC 42' });
    await s.recordContext({ tier: 'temporary', tag: 'raw', text: 'tool output' });
    await s.recordContext({ tier: 'temporary', tag: 'keep-me', text: 'needed next' });
    await s.compact('manual', { tokensAfter: 40_000, summary: 'Store designed; tests next.', keepTemporary: ['keep-me'] });
    expect(described(s)).toEqual([
      ['critical', 'goal', 'Ship the store'],
      ['supporting', 'ref', 'RFC 42'],
      ['supporting', 'compaction-summary', 'Store designed; tests next.'],
      ['temporary', 'keep-me', 'needed next'],
    ]);
    const events = [];
    for await (const event of store.readStream('session-s1')) events.push(event);
    const dropped = events.filter((event) => event.type === 'ContextItemDropped');
    expect(dropped.map((event) => event.data)).toEqual([{ itemId: expect.any(String), reason: 'compaction (manual)' }]);
    // A second compaction updates the one summary item.
    await s.recordUsage({ input_tokens: 120_000, output_tokens: 10 });
    await s.compact('manual', { tokensAfter: 30_000, summary: 'Tests written.' });
    expect(described(s).filter(([tier]) => tier !== 'critical')).toEqual([
      ['supporting', 'ref', 'RFC 42'],
      ['supporting', 'compaction-summary', 'Tests written.'],
    ]);
  });

  it("a handoff carries critical items as critical_context and constraints, and the receiver does not get the sender's temporary ones", async () => {
    const { session: s } = await session();
    await s.recordContext({ tier: 'critical', kind: 'constraint', tag: 'pytest', text: 'Tests use pytest' });
    await s.recordContext({ tier: 'critical', kind: 'preference', tag: 'user_language', text: 'ko' });
    await s.recordContext({ tier: 'temporary', tag: 'scratch', text: 'scratch notes' });
    const pkg = await s.requestHandoff({ toAgent: 'builder', summary: 'Plan done.' });
    expect(pkg.task_context.constraints).toEqual(['Tests use pytest']);
    expect(pkg.session_context.user_language).toBe('ko');
    expect(pkg.context_snapshot.critical_context).toBe('[critical constraint] pytest: Tests use pytest\n[critical preference] user_language: ko');
    await s.acceptHandoff(pkg.handoff_id, 'builder');
    expect(described(s)).toEqual([
      ['critical', 'pytest', 'Tests use pytest'],
      ['critical', 'user_language', 'ko'],
    ]);
    expect(s.state.context.lastHandoff).toMatchObject({ handoffId: pkg.handoff_id, fromAgent: 'planner', toAgent: 'builder', summary: 'Plan done.', status: 'accepted' });
  });

  it('survives a restart: a new engine on the log resumes with the same items, and a fork keeps its parent’s', async () => {
    const dir = await tempDir('moai-context-');
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const store = createMemoryEventStore();
    const first = await engineOn(store, dir);
    const s = await first.startSession({ sessionId: 's1', agent: 'planner', model: 'claude-sonnet-4-5' });
    await s.recordContext({ tier: 'critical', tag: 'goal', text: 'Ship it' });
    await s.checkpoint('before restart');
    await s.recordContext({ tier: 'supporting', tag: 'after', text: 'after the checkpoint' });
    await first.close();
    const second = await engineOn(store, dir);
    const resumed = await second.resumeSession('s1');
    expect(described(resumed)).toEqual([
      ['critical', 'goal', 'Ship it'],
      ['supporting', 'after', 'after the checkpoint'],
    ]);
    const fork = await second.forkSession('s1', { sessionId: 'f1' });
    expect(described(fork)).toEqual(described(resumed));
  });
});

describe('the formats that come from the context items', () => {
  it("a checkpoint's context_snapshot holds the critical and supporting items as text, compressed when long", async () => {
    const { session: s } = await session();
    await s.recordContext({ tier: 'critical', kind: 'constraint', tag: 'pytest', text: 'Tests use pytest' });
    await s.recordContext({ tier: 'supporting', tag: 'ref', text: 'RFC 42' });
    await s.recordContext({ tier: 'temporary', tag: 'raw', text: 'tool output' });
    const small = await s.checkpoint('manual');
    expect(small).toMatchObject({
      checkpoint_id: small.checkpointId,
      session_id: 's1',
      timestamp: small.createdAt,
      phase: null,
      token_usage: { used: 0, available: 200_000 },
      recovery_tokens_reserved: 55_000,
      context_snapshot: '[critical constraint] pytest: Tests use pytest\n[supporting] ref: RFC 42',
    });
    const long = 'x'.repeat(9000);
    await s.recordContext({ tier: 'supporting', tag: 'long', text: long });
    const big = await s.checkpoint('manual');
    expect(big.context_snapshot).toMatchObject({ encoding: 'gzip+base64', chars: 46 + 1 + 24 + 1 + 19 + 9000 });
    expect(unpackText(big.context_snapshot, 'it')).toBe(`[critical constraint] pytest: Tests use pytest\n[supporting] ref: RFC 42\n[supporting] long: ${long}`);
  });

  it('context-cache.json holds the critical context, as text when short and compressed only when large', async () => {
    const dir = await tempDir('moai-cache-');
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const { engine, session: s } = await session();
    await s.recordContext({ tier: 'critical', kind: 'objective', tag: 'goal', text: 'Ship the store', tokens: 5 });
    await s.recordContext({ tier: 'supporting', tag: 'ref', text: 'RFC 42' });
    await writeMemoryFiles(dir, await engine.replay());
    const read = async () => JSON.parse(await readFile(join(dir, 'sessions', 'context-cache.json'), 'utf8')).sessions.s1;
    expect(await read()).toMatchObject({
      critical_context: '[critical objective] goal: Ship the store',
      critical_items: [{ id: expect.any(String), tag: 'goal', kind: 'objective', tokens: 5 }],
    });
    await s.recordContext({ tier: 'critical', tag: 'big', text: 'y'.repeat(10_000) });
    await writeMemoryFiles(dir, await engine.replay());
    const entry = await read();
    expect(entry.critical_context).toMatchObject({ encoding: 'gzip+base64', chars: 41 + 1 + 16 + 10_000 });
    expect(unpackText(entry.critical_context, 'it')).toBe(`[critical objective] goal: Ship the store\n[critical] big: ${'y'.repeat(10_000)}`);
  });

  it('a handoff package built from a view states its critical context', async () => {
    const { session: s } = await session();
    await s.recordContext({ tier: 'critical', kind: 'objective', tag: 'spec_id', text: 'SPEC-001' });
    await s.recordContext({ tier: 'critical', kind: 'objective', tag: 'next_step', text: 'write_tests' });
    const pkg = buildHandoffPackage(s.state, {
      handoffId: 'h1',
      fromAgent: 'planner',
      toAgent: 'builder',
      createdAt: '2026-01-01T00:00:00Z',
      summary: '',
      contextWindow: 200_000,
      checkpointId: null,
    });
    expect(pkg.task_context).toMatchObject({ spec_id: 'SPEC-001', next_step: 'write_tests' });
  });
});
