import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileEventStore, type NewEvent } from '../src/index.js';

/**
 * Write a realistic log of `total` events: many sessions, each with tasks that
 * go through legal lifecycles and a steady stream of token usage. Written
 * through the file store itself (durability none, large batches).
 */
export async function writeReplayLog(total: number, sessions = 200): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'moai-replay-')), 'events');
  const store = await openFileEventStore({ dir, durability: 'none' });
  const perSession = Math.floor(total / sessions);
  let n = 0;
  const at = () => new Date(1_767_225_600_000 + n * 10).toISOString();
  const event = (type: string, data: unknown, agent: string): NewEvent =>
    ({ id: `e${++n}`, type, data, meta: { at: at(), agent } }) as NewEvent;

  const pending: Promise<unknown>[] = [];
  for (let s = 0; s < sessions; s++) {
    const events: NewEvent[] = [event('SessionStarted', { sessionId: `s${s}`, agent: 'planner', model: 'claude-sonnet-4-5' }, 'planner')];
    let context = 20_000;
    for (let t = 0; events.length < perSession; t++) {
      const taskId = `task-${t}`;
      const agent = t % 2 === 0 ? 'implementer' : 'reviewer';
      events.push(event('TaskAdded', { taskId, title: `Task ${t} of session ${s}`, phase: 'build' }, 'planner'));
      events.push(event('TaskTransitioned', { taskId, event: 'START', from: 'pending', to: 'in_progress' }, agent));
      for (let k = 0; k < 4 && events.length < perSession - 2; k++) {
        events.push(
          event(
            'TokenUsageRecorded',
            { model: 'claude-sonnet-4-5', inputTokens: 900, outputTokens: 400, cacheCreationInputTokens: 1200, cacheReadInputTokens: context, main: true },
            agent,
          ),
        );
        context = context > 150_000 ? 20_000 : context + 2_100;
        events.push(event('TaskTransitioned', { taskId, event: 'BLOCK', from: 'in_progress', to: 'blocked', reason: 'waiting for review' }, agent));
        events.push(event('TaskTransitioned', { taskId, event: 'UNBLOCK', from: 'blocked', to: 'in_progress' }, agent));
      }
      events.push(event('TaskTransitioned', { taskId, event: 'COMPLETE', from: 'in_progress', to: 'completed' }, agent));
    }
    for (let i = 0; i < events.length; i += 2_000) pending.push(store.append(`session-s${s}`, events.slice(i, i + 2_000)));
    if (pending.length > 50) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await store.close();
  return dir;
}
