import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildSessionContext,
  createEngine,
  createMemoryEventStore,
  DEFAULT_CONFIG,
  formatSessionContext,
  sessionContextText,
  type Engine,
  type SessionHandle,
} from '../../src/index.js';
import { runInProcess } from '../cli/runInProcess.js';
import { sequentialIds, steppingClock, tempDir } from '../helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task();
});

/**
 * A session as an agent leaves it before a restart: an objective, a
 * constraint, the user's language, a supporting reference and a temporary
 * note; a task done, one failed and recovered, one pending; 50,000 tokens in
 * use; a checkpoint; a handoff from planner to builder, accepted.
 */
async function workedSession(): Promise<{ engine: Engine; session: SessionHandle }> {
  const config = { ...DEFAULT_CONFIG, session: { ...DEFAULT_CONFIG.session, auto_checkpoint: false } };
  const engine = await createEngine({ store: createMemoryEventStore(), config, clock: steppingClock(), ids: sequentialIds() });
  cleanup.push(() => engine.close());
  const session = await engine.startSession({ sessionId: 's1', agent: 'planner', model: 'claude-sonnet-4-5', title: 'Key-value store' });
  await session.recordContext({ tier: 'critical', kind: 'objective', tag: 'goal', text: 'Ship a durable key-value store' });
  await session.recordContext({ tier: 'critical', kind: 'constraint', tag: 'pytest', text: 'Tests use pytest' });
  await session.recordContext({ tier: 'critical', kind: 'preference', tag: 'user_language', text: 'ko' });
  await session.recordContext({ tier: 'supporting', kind: 'note', tag: 'rfc', text: 'RFC 42 describes the format' });
  await session.recordContext({ tier: 'temporary', tag: 'scratch', text: 'ls output' });
  await session.addTask({ taskId: 'spec', title: 'Write the spec' });
  await session.addTask({ taskId: 'tests', title: 'Write the tests', phase: 'build' });
  await session.addTask({ taskId: 'docs', title: 'Write the docs' });
  await session.sendTask('spec', 'START');
  await session.sendTask('spec', 'COMPLETE');
  await session.sendTask('tests', 'START');
  await session.sendTask('tests', { type: 'FAIL', reason: 'fsync missing' });
  await session.sendTask('tests', { type: 'RECOVER', reason: 'added fsync' });
  await session.recordUsage({ input_tokens: 50_000, output_tokens: 100 });
  await session.checkpoint('before the handoff');
  const pkg = await session.requestHandoff({ toAgent: 'builder', summary: 'Spec done; tests recovered.' });
  await session.acceptHandoff(pkg.handoff_id, 'builder');
  return { engine, session };
}

describe('the re-injectable context of a session', () => {
  it('holds objectives, constraints, open tasks, budget, last checkpoint, last handoff and critical items, and no temporary ones', async () => {
    const { session } = await workedSession();
    const context = buildSessionContext(session.state);
    expect(context).toMatchObject({
      sessionId: 's1',
      title: 'Key-value store',
      status: 'active',
      agent: 'builder',
      objectives: [{ tag: 'goal', text: 'Ship a durable key-value store' }],
      constraints: [{ tag: 'pytest', text: 'Tests use pytest' }],
      openTasks: [
        { id: 'tests', state: 'recovered', phase: 'build', lastReason: 'added fsync', failureReason: 'fsync missing' },
        { id: 'docs', state: 'pending', lastReason: null, failureReason: null },
      ],
      // 50,000 of 200,000: 25.0 %, below the 60 % monitor level.
      budget: { contextTokens: 50_000, contextWindow: 200_000, percent: 25, level: 'ok' },
      lastHandoff: { fromAgent: 'planner', toAgent: 'builder', summary: 'Spec done; tests recovered.', status: 'accepted' },
      critical: [{ tag: 'user_language', text: 'ko' }],
      supporting: [{ tag: 'rfc', text: 'RFC 42 describes the format' }],
    });
    // The handoff's own checkpoint is the newest.
    expect(context.lastCheckpoint?.reason).toMatch(/^handoff:/);
    const text = sessionContextText(session.state);
    expect(text).not.toContain('ls output');
    const order = ['Session s1: Key-value store', 'Objectives:', 'Constraints:', 'Open tasks:', 'Budget:', 'Last checkpoint:', 'Last handoff:', 'Critical context:', 'Supporting context:'];
    const at = order.map((heading) => text.indexOf(heading));
    expect(at.every((index) => index >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(text).toContain('- tests [recovered] Write the tests (phase build): failed: fsync missing; then added fsync\n');
    expect(text).toContain('- 50,000 of 200,000 tokens in use (25.0%, ok); 150,000 free\n');
    expect(text).toContain(': planner -> builder (accepted, ');
    expect(text).toContain('Spec done; tests recovered.');
  });

  it('stays within its bound, leaving out the least important lines first and saying how many', async () => {
    const { session } = await workedSession();
    const full = sessionContextText(session.state);
    expect(full.length).toBeGreaterThan(500);
    for (const maxChars of [200, 300, 500, full.length - 1]) {
      const text = sessionContextText(session.state, { maxChars });
      expect(text.length).toBeLessThanOrEqual(maxChars);
      // What is kept is the full text's start (a last line may be cut, ending in ...).
      const kept = text.slice(0, text.lastIndexOf('\n['));
      const whole = kept.endsWith('...') ? kept.slice(0, kept.lastIndexOf('\n')) : kept;
      expect(full.startsWith(whole)).toBe(true);
      if (whole !== kept) expect(full).toContain(kept.slice(whole.length, -3));
      expect(text).toMatch(/\[\d+ more lines? left out to stay within [\d,]+ characters\]\n$/);
    }
    // What is kept is the start: the session, then the objectives.
    expect(sessionContextText(session.state, { maxChars: 300 })).toMatch(/^Session s1: Key-value store .*\n\nObjectives:\n- goal: Ship a durable key-value store\n/);
    expect(sessionContextText(session.state, { maxChars: full.length })).toBe(full);
    expect(() => formatSessionContext(buildSessionContext(session.state), { maxChars: 199 })).toThrow(/at least 200/);
  });

  it('cuts a single line longer than the bound rather than give nothing', async () => {
    const { session } = await workedSession();
    await session.recordContext({ tier: 'critical', kind: 'objective', tag: 'goal', text: 'g'.repeat(5000) });
    const text = sessionContextText(session.state, { maxChars: 1000 });
    expect(text.length).toBeLessThanOrEqual(1000);
    expect(text).toMatch(/\n- goal: g{100,}\.\.\.\n\[\d+ more lines left out/);
  });
});

describe('moai-session context', () => {
  it('adds, lists, drops and shows the context of the current session', async () => {
    const cwd = await tempDir('moai-context-cli-');
    cleanup.push(() => rm(cwd, { recursive: true, force: true }));
    expect((await runInProcess(['start', '--session', 's1', '--agent', 'planner', '--model', 'claude-sonnet-4-5'], cwd)).code).toBe(0);
    const added = await runInProcess(['context', 'add', 'Tests use pytest', '--tier', 'critical', '--kind', 'constraint', '--tag', 'pytest', '--tokens', '5'], cwd);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toMatch(/^Recorded the critical constraint item ctx-\S+ \(pytest\) in session s1 at version 2\./);
    await runInProcess(['context', 'add', 'raw output', '--tier', 'temporary', '--tag', 'raw'], cwd);
    await runInProcess(['context', 'add', '{"lang":"ko"}', '--tier', 'supporting', '--tag', 'prefs', '--json-value'], cwd);
    const again = await runInProcess(['context', 'add', 'Tests use pytest and hypothesis', '--tier', 'critical', '--tag', 'pytest'], cwd);
    expect(again.stdout).toMatch(/^Updated the critical constraint item ctx-\S+ \(pytest\) in session s1 at version 5\./);

    const list = await runInProcess(['context', 'list'], cwd);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^Context of session s1 at version 5: 3 items\n/);
    const rows = list.stdout.split('\n').slice(2, 5);
    // New content without a size: the old size (5 tokens) no longer holds, and is left blank.
    expect(rows[0]).toMatch(/^ctx-\S+\s+critical\s+constraint\s+pytest\s+Tests use pytest and hypothesis$/);
    expect(rows[1]).toMatch(/^ctx-\S+\s+supporting\s+prefs\s+\{"lang":"ko"\}$/);
    expect(rows[2]).toMatch(/^ctx-\S+\s+temporary\s+raw\s+raw output$/);
    const json = JSON.parse((await runInProcess(['context', 'list', '--json', '--tier', 'supporting'], cwd)).stdout);
    expect(json.items).toEqual([expect.objectContaining({ tag: 'prefs', value: { lang: 'ko' }, tier: 'supporting', source: 'cli' })]);
    const earlier = await runInProcess(['context', 'list', '--at', '2', '--json'], cwd);
    expect(JSON.parse(earlier.stdout).items.map((item: { text: string }) => item.text)).toEqual(['Tests use pytest']);

    expect((await runInProcess(['context', 'drop', 'raw'], cwd)).stdout).toMatch(/^Dropped context item ctx-\S+ \(raw\) of session s1 at version 6\./);
    const missing = await runInProcess(['context', 'drop', 'raw'], cwd);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('has no context item with the id or tag "raw"; its items are pytest, prefs.');
    const bad = await runInProcess(['context', 'add', 'x', '--tier', 'urgent'], cwd);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--tier is one of critical, supporting, temporary; got "urgent".');

    const shown = await runInProcess(['context', 'show'], cwd);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toBe(
      [
        'Session s1 (active, agent planner, model claude-sonnet-4-5, version 6)',
        '',
        'Constraints:',
        '- pytest: Tests use pytest and hypothesis',
        '',
        'Open tasks:',
        '- none',
        '',
        'Budget:',
        '- 0 of 200,000 tokens in use (0.0%, ok); 200,000 free',
        '',
        'Supporting context:',
        '- prefs: {"lang":"ko"}',
        '',
      ].join('\n'),
    );
    const asJson = JSON.parse((await runInProcess(['context', 'show', '--format', 'json', '--max-chars', '200'], cwd)).stdout);
    expect(asJson).toMatchObject({ sessionId: 's1', constraints: [{ tag: 'pytest' }] });
    expect(asJson.text.length).toBeLessThanOrEqual(200);
    expect((await runInProcess(['context', 'show', '--max-chars', '10'], cwd)).stderr).toContain('--max-chars is a whole number of at least 200');
  });
});
