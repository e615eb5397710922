import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createFileCheckpointStore,
  createMemoryCheckpointStore,
  isCheckpointNotSavedError,
  isCommandRejectedError,
  isInvalidArgumentError,
  type CheckpointStore,
  type EngineWarning,
} from '../../src/index.js';
import { engineFactory, streamOf } from '../engineHelpers.js';
import { sequentialIds, tempDir } from '../helpers.js';

const engineWith = engineFactory();
const MODEL = 'claude-sonnet-4-5'; // a 200,000-token window
const usage = (input: number) => ({ input_tokens: input, output_tokens: 0 });

describe('the engine review of 2026-11-30', () => {
  it('counts a session as ended when only archived checkpoints follow its end', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const engine = await engineWith({ clock: () => new Date(now) });
    for (const id of ['s1', 's2', 's3']) await (await engine.startSession({ sessionId: id, agent: 'a', model: MODEL })).end('done');
    now += 8 * 86_400_000;
    const { archived } = await engine.applyRetention();
    expect(archived.length).toBe(3); // each session's end checkpoint, now past the retention
    expect((await streamOf(engine, 's1')).at(-1)!.type).toBe('CheckpointArchived');
    expect(await engine.activeSessionIds()).toEqual([]);
    await expect(engine.startSession({ sessionId: 'new', agent: 'a', model: MODEL })).resolves.toBeDefined();
  });

  it('stops asking for a compaction once the context is back under the emergency level', async () => {
    const engine = await engineWith();
    const warnings: EngineWarning[] = [];
    engine.warnings$.subscribe((w) => warnings.push(w));
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: MODEL });
    await session.recordUsage(usage(185_000)); // emergency, and no summariser
    expect(session.state.tokens.compactionPending).toBe(true);
    await session.recordUsage(usage(20_000)); // the agent's own compaction brought it down
    expect(session.state.tokens).toMatchObject({ compactionPending: false, reached: { emergency: false, warning: false } });
    const noSummariser = warnings.filter((w) => w.code === 'NO_SUMMARISER').length;
    await session.recordUsage(usage(21_000));
    expect(warnings.filter((w) => w.code === 'NO_SUMMARISER')).toHaveLength(noSummariser);
  });

  it('puts a task back in token_warning when it starts or returns while the warning is reached', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: MODEL });
    await session.addTask({ taskId: 't', title: 'T' });
    await session.addTask({ taskId: 'u', title: 'U' });
    await session.sendTask('t', 'START');
    await session.recordUsage(usage(160_000)); // 80%: the warning
    expect(session.task('t')!.state).toBe('token_warning');
    await session.switchModel('claude-opus-4-1'); // the same window: still at warning
    expect(session.task('t')!.state).toBe('token_warning');
    await session.sendTask('u', 'START');
    expect(session.task('u')!.state).toBe('token_warning');
    expect((await engine.replay()).ok).toBe(true);
  });

  it('steps tasks out of a model switch as the configured machine says', async () => {
    const taskMachine = setup({}).createMachine({
      id: 'custom',
      initial: 'pending',
      states: {
        pending: { on: { START: 'in_progress' } },
        in_progress: { on: { BLOCK: 'blocked', TOKEN_WARNING: 'token_warning', SWITCH_CONTEXT: 'context_switch', COMPLETE: 'completed', FAIL: 'failed' } },
        blocked: { on: { UNBLOCK: 'in_progress', FAIL: 'failed' } },
        token_warning: { on: { BUDGET_OK: 'in_progress', SWITCH_CONTEXT: 'context_switch', COMPLETE: 'completed', FAIL: 'failed' } },
        context_switch: { on: { SWITCH_DONE: 'blocked', FAIL: 'failed' } }, // a switch needs a review before work goes on
        completed: { type: 'final' },
        failed: { on: { RECOVER: 'recovered' } },
        recovered: { on: { RESUME: 'in_progress', FAIL: 'failed' } },
      },
    });
    const engine = await engineWith({ taskMachine });
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: MODEL });
    await session.addTask({ taskId: 't', title: 'T' });
    await session.sendTask('t', 'START');
    await session.switchModel('claude-opus-4-1');
    expect(session.task('t')!.state).toBe('blocked');
    const report = await engine.replay();
    expect(report.divergences).toEqual([]);
  });

  it('refuses a second handoff before recording anything, and lets no other agent resume the session meanwhile', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: MODEL });
    await session.requestHandoff({ toAgent: 'b', summary: 'over to b', handoffId: 'h1' });
    const version = session.state.version;
    const refused = await session.requestHandoff({ toAgent: 'c', summary: 'over to c', handoffId: 'h2' }).catch((e: unknown) => e);
    expect(isCommandRejectedError(refused)).toBe(true);
    expect((refused as Error).message).toBe('Session s is handing_off and cannot hand off while handoff h1 waits for b.');
    const takeover = await engine.resumeSession('s', { agent: 'mallory' }).catch((e: unknown) => e);
    expect((takeover as Error).message).toMatch(/^Session s is handing_off: handoff h1 waits for b, so mallory cannot take it over/);
    expect((await streamOf(engine, 's')).length).toBe(version);
    await expect(engine.resumeSession('s')).resolves.toBeDefined(); // its own agent may pick it up again
  });

  it('names the checkpoint whose document could not be saved, and still ends the session', async () => {
    const memory = createMemoryCheckpointStore();
    const checkpoints: CheckpointStore = { ...memory, save: () => Promise.reject(new Error('ENOSPC: no space left on device')) };
    const engine = await engineWith({ checkpoints });
    const warnings: EngineWarning[] = [];
    engine.warnings$.subscribe((w) => warnings.push(w));
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: MODEL });
    const error = await session.checkpoint('by hand').catch((e: unknown) => e);
    expect(isCheckpointNotSavedError(error)).toBe(true);
    expect((error as Error).message).toMatch(/^Checkpoint cp-\S+ of session s is recorded in the log, but its document could not be saved \(ENOSPC/);
    await session.end('done');
    expect(session.state.session.status).toBe('ended');
    expect(warnings.map((w) => w.code)).toContain('CHECKPOINT_NOT_SAVED');
  });

  it('refuses to fork inside the events of one command, naming the versions to fork at', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: MODEL });
    await session.addTask({ taskId: 't', title: 'T' });
    await session.sendTask('t', 'START'); // v3
    await session.switchModel('claude-opus-4-1'); // v4 SWITCH_CONTEXT, v5 ModelSwitched, v6 SWITCH_DONE
    const inside = await engine.forkSession('s', { atVersion: 4, sessionId: 'f' }).catch((e: unknown) => e);
    expect(isInvalidArgumentError(inside)).toBe(true);
    expect((inside as Error).message).toBe('Version 4 of session s is inside the events of one command (versions 4 to 6); fork at 3 or 6.');
    const fork = await engine.forkSession('s', { atVersion: 6, sessionId: 'f' });
    expect(fork.task('t')!.state).toBe('in_progress');
    expect(fork.state.session.model).toBe('claude-opus-4-1');
  });

  it('crosses a threshold on the exact share of the window, as the budget report does', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: MODEL });
    await session.addTask({ taskId: 't', title: 'T' });
    await session.sendTask('t', 'START');
    await session.recordUsage(usage(149_999)); // 74.9995%: under a 75% warning
    expect(session.budget().level).toBe('monitor');
    expect(session.state.tokens.reached.warning).toBe(false);
    expect(session.task('t')!.state).toBe('in_progress');
  });

  it('keeps each session\'s checkpoints in a folder of its own, so ids that repeat across sessions never meet', async () => {
    const dir = await tempDir();
    const checkpoints = createFileCheckpointStore(dir);
    // Two engines with the same deterministic ids on one folder: both name their first checkpoint alike.
    const first = await engineWith({ checkpoints, ids: sequentialIds() });
    const second = await engineWith({ checkpoints, ids: sequentialIds() });
    const a = await first.startSession({ sessionId: 'a', agent: 'x', model: MODEL });
    const b = await second.startSession({ sessionId: 'b', agent: 'x', model: MODEL });
    const kept = await a.checkpoint('a');
    const other = await b.checkpoint('b');
    expect(other.checkpointId).toBe(kept.checkpointId);
    for (const sessionId of ['a', 'b']) {
      const file = JSON.parse(await readFile(join(dir, 'sessions', 'checkpoints', sessionId, `${kept.checkpointId}.json`), 'utf8')) as { sessionId: string };
      expect(file.sessionId).toBe(sessionId);
    }
    // Without its session, the store cannot tell which to archive, and says so; with it, each goes to its own folder.
    await expect(checkpoints.archive(kept.checkpointId)).rejects.toThrow(`Checkpoint ${kept.checkpointId} is kept for several sessions (a, b)`);
    await checkpoints.archive(kept.checkpointId, 'a');
    await checkpoints.save({ ...kept });
    await checkpoints.archive(kept.checkpointId, 'a');
    expect((await readdir(join(dir, 'sessions', 'archive', 'a'))).sort()).toEqual([`${kept.checkpointId}.2.json`, `${kept.checkpointId}.json`]);
    expect(await readdir(join(dir, 'sessions', 'checkpoints', 'b'))).toEqual([`${kept.checkpointId}.json`]);
  });

  it('reports a checkpoint file it cannot read only for the session whose log records it', async () => {
    const dir = await tempDir();
    const engine = await engineWith({ checkpoints: createFileCheckpointStore(dir) });
    const warnings: EngineWarning[] = [];
    engine.warnings$.subscribe((w) => warnings.push(w));
    const a = await engine.startSession({ sessionId: 'a', agent: 'x', model: MODEL });
    await engine.startSession({ sessionId: 'b', agent: 'x', model: MODEL });
    const { checkpointId } = await a.checkpoint('a');
    await writeFile(join(dir, 'sessions', 'checkpoints', 'a', `${checkpointId}.json`), '{ damaged');
    await engine.openSession('b');
    expect(warnings.filter((w) => w.code === 'CHECKPOINT_SKIPPED')).toEqual([]);
    await engine.openSession('a');
    expect(warnings.filter((w) => w.code === 'CHECKPOINT_SKIPPED').map((w) => w.message)).toEqual([
      expect.stringMatching(new RegExp(`^Skipped checkpoint ${checkpointId}: .* cannot be read`)),
    ]);
  });

  it('refuses a model id that would break a line, and warns of a model whose window it does not know', async () => {
    const engine = await engineWith();
    const warnings: EngineWarning[] = [];
    engine.warnings$.subscribe((w) => warnings.push(w));
    const bad = await engine.startSession({ sessionId: 's', agent: 'a', model: 'claude\nsonnet' }).catch((e: unknown) => e);
    expect(isInvalidArgumentError(bad)).toBe(true);
    expect((bad as Error).message).toBe('A model id is at most 200 characters with no line breaks or control characters; got "claude\\nsonnet".');
    expect(await engine.store.headPosition()).toBe(0);
    await engine.startSession({ sessionId: 'g', agent: 'a', model: 'gpt 4' });
    expect(warnings.map((w) => w.code)).toEqual(['NO_CONTEXT_WINDOW']);
    expect(warnings[0]!.message).toMatch(/^No context window is known for model gpt 4, so no budget threshold fires for session g/);
  });

  it('checks a handoff request against the log as it is now, not as a stale handle last saw it', async () => {
    const engine = await engineWith();
    const sender = await engine.startSession({ sessionId: 's', agent: 'a', model: MODEL });
    await sender.requestHandoff({ toAgent: 'b', summary: 'over to b', handoffId: 'h1' });
    const stale = await engine.openSession('s'); // sees the handoff waiting
    const receiver = await engine.openSession('s');
    await receiver.rejectHandoff('h1', 'busy', 'b');
    const again = await stale.requestHandoff({ toAgent: 'c', summary: 'over to c', handoffId: 'h2' });
    expect(again.handoff_id).toBe('h2');
    expect(stale.state.session.status).toBe('handing_off');
  });

  it('refuses a compaction that would leave more context than it found', async () => {
    const engine = await engineWith();
    const session = await engine.startSession({ sessionId: 's', agent: 'a', model: MODEL });
    await session.recordUsage(usage(1_000));
    const version = session.state.version;
    const refused = await session.compact('by hand', { tokensAfter: 190_000 }).catch((e: unknown) => e);
    expect(isInvalidArgumentError(refused)).toBe(true);
    expect((refused as Error).message).toBe('A compaction leaves less context than it found: session s has 1000 tokens in use, so it cannot be compacted to 190000.');
    expect(session.state.version).toBe(version);
  });

  it('hands off from the agent the log says holds the session, not the one a stale handle remembers', async () => {
    const engine = await engineWith();
    const first = await engine.startSession({ sessionId: 's', agent: 'a', model: MODEL });
    await first.requestHandoff({ toAgent: 'b', summary: 'over to b', handoffId: 'h1' });
    const stale = await engine.openSession('s'); // remembers a holding it
    const receiver = await engine.openSession('s');
    await receiver.acceptHandoff('h1', 'b');
    const refused = await stale.requestHandoff({ toAgent: 'b', summary: 'back to b?', handoffId: 'h2' }).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(/from_agent and to_agent are both "b"/);
  });
});
