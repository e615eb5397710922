import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  createMemoryEventStore,
  DEFAULT_CONFIG,
  THRESHOLD_LEVELS,
  type BudgetEvent,
  type Engine,
  type EngineWarning,
  type MoaiConfig,
  type StoredEvent,
} from '../../src/index.js';
import { engineFactory } from '../engineHelpers.js';
import { sequentialIds, steppingClock } from '../helpers.js';

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});
const engineWith = engineFactory();

/** 200,000-token window (claude-sonnet-4-5): 1% is 2,000 tokens. */
const usageAt = (percent: number) => ({ input_tokens: percent * 2_000, output_tokens: 10 });


async function eventsOf(engine: Engine): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for await (const event of engine.store.readAll()) all.push(event);
  return all;
}

describe('token budget thresholds', () => {
  it('records each threshold once per upward crossing, with hysteresis, on budget$ and to callbacks', async () => {
    const seen: BudgetEvent[] = [];
    const engine = await engineWith({ onBudgetEvent: (event) => seen.push(event) });
    const fromStream: string[] = [];
    engine.budget$.subscribe((event) => fromStream.push(`${event.type}:${'level' in event.data ? event.data.level : ''}`));
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.recordUsage(usageAt(62)); // monitor
    await session.recordUsage(usageAt(64)); // still above monitor: nothing new
    await session.recordUsage(usageAt(50)); // below monitor: cleared
    await session.recordUsage(usageAt(61)); // monitor again
    const crossings = (await eventsOf(engine)).filter((e) => e.type === 'BudgetThresholdCrossed' || e.type === 'BudgetThresholdCleared');
    expect(crossings.map((e) => `${e.type}:${(e.data as { level: string }).level}`)).toEqual([
      'BudgetThresholdCrossed:monitor',
      'BudgetThresholdCleared:monitor',
      'BudgetThresholdCrossed:monitor',
    ]);
    expect(crossings[0]!.data).toMatchObject({ percent: 62, contextTokens: 124_000, contextWindow: 200_000 });
    expect(fromStream).toEqual(['BudgetThresholdCrossed:monitor', 'BudgetThresholdCleared:monitor', 'BudgetThresholdCrossed:monitor']);
    expect(seen).toHaveLength(3);
  });

  it('fires each level exactly once per upward crossing, whatever the usage sequence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 40 }), async (percents) => {
        const engine = await createEngine({
          store: createMemoryEventStore(),
          clock: steppingClock(),
          ids: sequentialIds(),
          config: { ...DEFAULT_CONFIG, session: { ...DEFAULT_CONFIG.session, auto_checkpoint: false } } as MoaiConfig,
        });
        const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
        for (const percent of percents) await session.recordUsage(usageAt(percent));
        const crossed = (await eventsOf(engine)).filter((e) => e.type === 'BudgetThresholdCrossed');
        const thresholds = { monitor: 60, warning: 75, emergency: 85 };
        for (const level of THRESHOLD_LEVELS) {
          // The reference: count readings at or above the level right after one below it (or the start).
          let expected = 0;
          let below = true;
          for (const percent of percents) {
            if (percent >= thresholds[level] && below) expected++;
            below = percent < thresholds[level];
          }
          expect(crossed.filter((e) => (e.data as { level: string }).level === level)).toHaveLength(expected);
        }
        await engine.close();
      }),
      { numRuns: 80 },
    );
  });

  it('at warning moves in-progress tasks to token_warning and takes a checkpoint; back below, they return', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 'busy', title: 'Busy' });
    await session.addTask({ taskId: 'waiting', title: 'Waiting' });
    await session.sendTask('busy', 'START');
    await session.recordUsage(usageAt(80));
    expect(session.task('busy')!.state).toBe('token_warning');
    expect(session.task('busy')!.lastReason).toBe('context at 80.0% of the window');
    expect(session.task('waiting')!.state).toBe('pending');
    const checkpoints = session.state.checkpoints.all.toArray();
    expect(checkpoints.map((c) => c.reason)).toEqual(['budget-warning']);
    const documents = await engine.checkpoints.list('s');
    expect(documents).toHaveLength(1);
    await session.recordUsage(usageAt(40));
    expect(session.task('busy')!.state).toBe('in_progress');
    expect(session.state.tokens.reached).toEqual({ monitor: false, warning: false, emergency: false });
  });

  it('at emergency asks the summariser to compact and records the tokens before and after', async () => {
    const requests: number[] = [];
    const engine = await engineWith({
      summariser: async ({ contextTokens }) => {
        requests.push(contextTokens);
        return { tokensAfter: Math.round(contextTokens * 0.3), summary: 'kept the plan and the open questions' };
      },
    });
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 't', title: 'T' });
    await session.sendTask('t', 'START');
    await session.recordUsage(usageAt(90));
    expect(requests).toEqual([180_000]);
    const compaction = (await eventsOf(engine)).find((e) => e.type === 'ContextCompacted');
    expect(compaction?.data).toEqual({
      tokensBefore: 180_000,
      tokensAfter: 54_000,
      trigger: 'emergency threshold (context at 90.0% of the window)',
      summary: 'kept the plan and the open questions',
    });
    expect(session.state.tokens.contextTokens).toBe(54_000);
    // The compaction brought usage below every threshold: they are armed again and the task is back at work.
    expect(session.state.tokens.reached).toEqual({ monitor: false, warning: false, emergency: false });
    expect(session.task('t')!.state).toBe('in_progress');
  });

  it('warns, instead of failing, when the emergency threshold is crossed without a summariser', async () => {
    const engine = await engineWith();
    const warnings: EngineWarning[] = [];
    engine.warnings$.subscribe((warning) => warnings.push(warning));
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.recordUsage(usageAt(90));
    expect(warnings.map((w) => w.code)).toContain('NO_SUMMARISER');
    expect(warnings.find((w) => w.code === 'NO_SUMMARISER')!.message).toContain('pass one to createEngine');
  });

  it('switches the model: working tasks pass through context_switch and the window changes', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 't', title: 'T' });
    await session.sendTask('t', 'START');
    await session.recordUsage(usageAt(80)); // warning on a 200k window
    expect(session.task('t')!.state).toBe('token_warning');
    await session.switchModel('claude-sonnet-4-6', 'needs the 1M window');
    const events = await eventsOf(engine);
    const tail = events.slice(events.findIndex((e) => e.type === 'ModelSwitched') - 1);
    expect(tail.map((e) => (e.type === 'TaskTransitioned' ? `${e.data.event}:${e.data.to}` : e.type))).toEqual([
      'SWITCH_CONTEXT:context_switch',
      'ModelSwitched',
      'BudgetThresholdCleared',
      'BudgetThresholdCleared',
      'SWITCH_DONE:in_progress',
    ]);
    expect(session.state.session.model).toBe('claude-sonnet-4-6');
    expect(session.budget()).toMatchObject({ contextWindow: 1_000_000, contextTokens: 160_000, level: 'ok' });
    expect(session.task('t')!.state).toBe('in_progress');
  });

  it('reports the allocation against the reserve, and warns when the reserve is eaten into', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.recordUsage(usageAt(50));
    const calm = session.budget();
    expect(calm).toMatchObject({ contextWindow: 200_000, contextTokens: 100_000, percent: 50, level: 'ok' });
    const shares = calm.allocation!.shares;
    expect([shares.system.tokens, shares.conversation.tokens, shares.reference.tokens, shares.reserve.tokens]).toEqual([
      15_000, 80_000, 50_000, 55_000,
    ]);
    expect(calm.allocation!.warnings).toEqual([]);
    await session.recordUsage(usageAt(80));
    const tight = session.budget();
    expect(tight.level).toBe('warning');
    expect(tight.allocation!.reserveEatenTokens).toBe(15_000);
    expect(tight.allocation!.warnings.join(' ')).toContain('reserve');
  });
});
