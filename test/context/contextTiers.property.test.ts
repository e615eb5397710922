import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMPACTION_SUMMARY_TAG,
  contextItemsInOrder,
  createEngine,
  createMemoryEventStore,
  DEFAULT_CONFIG,
  type ContextTier,
  type Engine,
  type EventStore,
  type SessionHandle,
} from '../../src/index.js';

/*
 * The tiers' promise, for any sequence of what happens to a session: critical
 * and supporting items survive every compaction, handoff and restart;
 * temporary ones are dropped by a compaction (unless it keeps them) or a
 * handoff, and survive a restart; a compaction's summary is the one
 * supporting item tagged compaction-summary. The model below says what the
 * items must be; the engine, a restarted engine and a replay of the log must
 * all say the same.
 */

type Operation =
  | { kind: 'record'; tier: ContextTier; tag: string | undefined; text: string }
  | { kind: 'drop'; index: number }
  | { kind: 'compact'; summary: string | undefined; keepFirstTemporary: boolean }
  | { kind: 'handoff' }
  | { kind: 'restart' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('record' as const),
      tier: fc.constantFrom<ContextTier>('critical', 'supporting', 'temporary'),
      tag: fc.option(fc.constantFrom('t0', 't1', 't2', 't3'), { nil: undefined }),
      text: fc.string({ minLength: 1, maxLength: 12 }).filter((text) => text.trim() !== ''),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('drop' as const), index: fc.nat(20) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('compact' as const),
      summary: fc.option(fc.constantFrom('kept the plan', 'kept the tests'), { nil: undefined }),
      keepFirstTemporary: fc.boolean(),
    }),
    weight: 2,
  },
  { arbitrary: fc.constant({ kind: 'handoff' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'restart' as const }), weight: 1 },
);

interface ModelItem {
  id: string;
  tier: ContextTier;
  tag: string | undefined;
  text: string;
}

const TIER_ORDER: readonly ContextTier[] = ['critical', 'supporting', 'temporary'];
const inOrder = (items: readonly ModelItem[]) =>
  [...items]
    .map((item, index) => ({ item, index }))
    .sort((a, b) => TIER_ORDER.indexOf(a.item.tier) - TIER_ORDER.indexOf(b.item.tier) || a.index - b.index)
    .map(({ item }) => [item.id, item.tier, item.tag, item.text]);

const CONFIG = { ...DEFAULT_CONFIG, session: { ...DEFAULT_CONFIG.session, auto_checkpoint: false } };
const open = (store: EventStore) => createEngine({ store, config: CONFIG });

describe('context items through compactions, handoffs and restarts', () => {
  it('keep what their tiers say, in the engine, after a restart and in a replay of the log', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 14 }), async (operations) => {
        const store = createMemoryEventStore();
        let engine: Engine = await open(store);
        let session: SessionHandle = await engine.startSession({ sessionId: 's1', agent: 'agent-0', model: 'claude-sonnet-4-5' });
        let model: ModelItem[] = [];
        let handoffs = 0;
        try {
          for (const op of operations) {
            if (op.kind === 'record') {
              const item = await session.recordContext({ tier: op.tier, text: op.text, ...(op.tag === undefined ? {} : { tag: op.tag }) });
              const tagged = op.tag === undefined ? undefined : model.find((m) => m.tag === op.tag);
              if (tagged !== undefined) Object.assign(tagged, { tier: op.tier, text: op.text });
              else model.push({ id: item.itemId, tier: op.tier, tag: op.tag, text: op.text });
            } else if (op.kind === 'drop') {
              if (model.length === 0) continue;
              const target = model[op.index % model.length]!;
              await session.dropContext(target.id);
              model = model.filter((m) => m !== target);
            } else if (op.kind === 'compact') {
              const kept = op.keepFirstTemporary ? model.find((m) => m.tier === 'temporary') : undefined;
              await session.compact('property', {
                tokensAfter: 0,
                ...(op.summary === undefined ? {} : { summary: op.summary }),
                ...(kept === undefined ? {} : { keepTemporary: [kept.id] }),
              });
              model = model.filter((m) => m.tier !== 'temporary' || m === kept);
              if (op.summary !== undefined) {
                const summary = model.find((m) => m.tag === COMPACTION_SUMMARY_TAG);
                if (summary !== undefined) Object.assign(summary, { tier: 'supporting', text: op.summary });
                else {
                  const recorded = session.contextItems().find((item) => item.tag === COMPACTION_SUMMARY_TAG)!;
                  model.push({ id: recorded.itemId, tier: 'supporting', tag: COMPACTION_SUMMARY_TAG, text: op.summary });
                }
              }
            } else if (op.kind === 'handoff') {
              const to = `agent-${++handoffs}`;
              const pkg = await session.requestHandoff({ toAgent: to, summary: 'handing on' });
              await session.acceptHandoff(pkg.handoff_id, to);
              model = model.filter((m) => m.tier !== 'temporary');
            } else {
              await engine.close();
              engine = await open(store);
              session = await engine.resumeSession('s1');
            }
            const now = session.contextItems().map((item) => [item.itemId, item.tier, item.tag, item.text]);
            expect(now).toEqual(inOrder(model));
          }
          // The log alone says the same: a fresh engine's view and a replay.
          const fresh = await open(store);
          try {
            const expected = inOrder(model);
            const fromLog = contextItemsInOrder((await fresh.sessionState('s1')).context).map((i) => [i.itemId, i.tier, i.tag, i.text]);
            const replayed = contextItemsInOrder((await fresh.replay()).sessions.get('s1')!.context).map((i) => [i.itemId, i.tier, i.tag, i.text]);
            expect(fromLog).toEqual(expected);
            expect(replayed).toEqual(expected);
          } finally {
            await fresh.close();
          }
        } finally {
          await engine.close();
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
