import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileEventStore, type NewEvent } from '../../src/index.js';

/**
 * A state folder holding one long session of `total` events, written through
 * the file store: tasks through legal lifecycles, a steady stream of usage with
 * the context growing to the thresholds, crossings, compactions and
 * checkpoints now and then. Returns the folder's working directory (with `.moai`).
 */
export async function writeLongSession(total: number, sessionId = 'long'): Promise<string> {
  const cwd = await mkdtemp(join(tmpdir(), 'moai-long-'));
  await mkdir(join(cwd, '.moai'), { recursive: true });
  const store = await openFileEventStore({ dir: join(cwd, '.moai', 'events'), durability: 'none' });
  let n = 0;
  const at = () => new Date(1_767_225_600_000 + n * 1_000).toISOString();
  const events: NewEvent[] = [];
  const push = (type: string, data: unknown, agent = 'implementer') => {
    n++;
    events.push({ id: `e${n}`, type, data, meta: { at: at(), agent } } as NewEvent);
  };
  push('SessionStarted', { sessionId, agent: 'planner', model: 'claude-sonnet-4-5', title: 'A long session' }, 'planner');
  let context = 20_000;
  const crossed = { monitor: false, warning: false, emergency: false };
  for (let t = 0; events.length < total - 12; t++) {
    const taskId = `task-${t}`;
    push('TaskAdded', { taskId, title: `Task ${t}`, phase: 'build' }, 'planner');
    push('TaskTransitioned', { taskId, event: 'START', from: 'pending', to: 'in_progress' });
    for (let k = 0; k < 3; k++) {
      push('TokenUsageRecorded', { model: 'claude-sonnet-4-5', inputTokens: 900, outputTokens: 400, cacheCreationInputTokens: 1_200, cacheReadInputTokens: context - 2_100, main: true });
      const percent = (context / 200_000) * 100;
      for (const [level, line] of [['monitor', 60], ['warning', 75], ['emergency', 85]] as const) {
        if (!crossed[level] && percent >= line) {
          crossed[level] = true;
          push('BudgetThresholdCrossed', { level, percent, contextTokens: context, contextWindow: 200_000 });
        }
      }
      if (crossed.emergency) {
        push('ContextCompacted', { tokensBefore: context, tokensAfter: 30_000, trigger: 'auto' });
        context = 30_000;
        for (const level of ['emergency', 'warning', 'monitor'] as const) {
          crossed[level] = false;
          push('BudgetThresholdCleared', { level, percent: 15, contextTokens: context, contextWindow: 200_000 });
        }
      } else context += 2_100;
      push('TaskTransitioned', { taskId, event: 'BLOCK', from: 'in_progress', to: 'blocked', reason: 'waiting for review' });
      push('TaskTransitioned', { taskId, event: 'UNBLOCK', from: 'blocked', to: 'in_progress' });
    }
    if (t % 7 === 3) push('TaskTransitioned', { taskId, event: 'FAIL', from: 'in_progress', to: 'failed', reason: 'tests failed' });
    else push('TaskTransitioned', { taskId, event: 'COMPLETE', from: 'in_progress', to: 'completed' });
  }
  while (events.length < total) push('TaskAdded', { taskId: `tail-${events.length}`, title: 'Left for later' }, 'planner');
  for (let i = 0; i < events.length; i += 5_000) await store.append(`session-${sessionId}`, events.slice(i, i + 5_000));
  await store.close();
  return cwd;
}
