import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { runInProcess } from './runInProcess.js';

interface HandoffJson {
  handoff_id: string;
  from_agent: string;
  to_agent: string;
  session_context: { session_id: string; tokens_available: number };
  context_snapshot: { summary: string; key_decisions: string[]; checkpoint_id: string | null };
  recovery_info: { checkpoint_id: string | null };
}

const versionOf = async (sessionId: string, cwd: string): Promise<number> =>
  (JSON.parse((await runInProcess(['state', sessionId, '--json'], cwd)).stdout) as { version: number }).version;

describe('moai-session handoff', () => {
  let cwd: string;
  let handoff: HandoffJson;
  beforeAll(async () => {
    cwd = await tempDir('moai-cli-handoff-');
    expect((await runInProcess(['start', '--agent', 'spec-writer', '--model', 'claude-sonnet-4-5', '--session', 's'], cwd)).code).toBe(0);
    expect((await runInProcess(['task', 'add', 's', 'build', '--title', 'Build it'], cwd)).code).toBe(0);
  });

  it('refuses a handoff that breaks the rules, naming every problem, and appends nothing', async () => {
    const before = await versionOf('s', cwd);
    const result = await runInProcess(['handoff', 'create', 's', '--to', 'spec-writer', '--summary', 'Spec done'], cwd);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'moai-session: The handoff package is not valid (1 problem): (1) from_agent and to_agent are both "spec-writer": ' +
        'an agent cannot hand a session to itself. Name the receiving agent in to_agent. Nothing was handed off.\n',
    );
    expect(await versionOf('s', cwd)).toBe(before);
  });

  it('creates a validated package after a checkpoint, and prints it', async () => {
    const result = await runInProcess(
      ['handoff', 'create', 's', '--to', 'implementer', '--summary', 'Spec done', '--decision', 'JSONL segments', '--decision', 'crc32', '--json'],
      cwd,
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    handoff = JSON.parse(result.stdout) as HandoffJson;
    expect(handoff).toMatchObject({
      from_agent: 'spec-writer',
      to_agent: 'implementer',
      session_context: { session_id: 's', tokens_available: 200_000 },
      context_snapshot: { summary: 'Spec done', key_decisions: ['JSONL segments', 'crc32'] },
    });
    expect(handoff.recovery_info.checkpoint_id).toMatch(/^cp-/);
    const sessions = await runInProcess(['debug', '--show-session-state'], cwd);
    expect(sessions.stdout).toMatch(/^s\s+handing_off \(to implementer\)\s+spec-writer/m);
  });

  it('validates a package file, and lists every problem of a broken one', async () => {
    const file = join(cwd, 'handoff.json');
    await writeFile(file, JSON.stringify(handoff));
    const valid = await runInProcess(['handoff', 'validate', 'handoff.json'], cwd);
    expect(valid).toMatchObject({ code: 0, stdout: `Handoff ${handoff.handoff_id} (handoff.json) is valid.\n`, stderr: '' });

    const { to_agent: _, context_snapshot: __, ...broken } = handoff;
    const invalid = await runInProcess(['handoff', 'validate', '-'], cwd, { stdin: JSON.stringify({ ...broken, from_agent: '' }) });
    expect(invalid.code).toBe(1);
    const problems = invalid.stdout.split('\n').filter((line) => line.startsWith('  - '));
    expect(problems).toHaveLength(3);
    expect(invalid.stdout).toContain('to_agent is missing');
    expect(invalid.stdout).toContain('context_snapshot is missing');
    expect(invalid.stdout).toContain('from_agent is ""');
    expect(invalid.stderr).toBe(
      `moai-session: Handoff ${handoff.handoff_id} (stdin) is not valid (3 problems: to_agent, context_snapshot, from_agent).\n`,
    );
    const json = await runInProcess(['handoff', 'validate', '-', '--json'], cwd, { stdin: 'not json' });
    expect(json.code).toBe(1);
    expect(json.stderr).toMatch(/^moai-session: The handoff package in stdin is not valid JSON/);
  });

  it('is accepted by its receiver exactly once', async () => {
    const wrong = await runInProcess(['handoff', 'accept', 's', handoff.handoff_id, '--agent', 'reviewer'], cwd);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`Handoff ${handoff.handoff_id} is for implementer, not reviewer.`);
    const accepted = await runInProcess(['handoff', 'accept', 's', handoff.handoff_id, '--agent', 'implementer'], cwd);
    expect(accepted).toMatchObject({ code: 0, stderr: '' });
    expect(accepted.stdout).toContain(`implementer accepted handoff ${handoff.handoff_id} and now works session s`);
    const again = await runInProcess(['handoff', 'accept', 's', handoff.handoff_id, '--agent', 'implementer'], cwd);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('was already accepted by implementer; it can be accepted only once.');
  });

  it('records why a handoff was rejected', async () => {
    expect((await runInProcess(['handoff', 'create', 's', '--to', 'reviewer', '--summary', 'Review it', '--handoff-id', 'h2'], cwd)).code).toBe(0);
    const rejected = await runInProcess(['handoff', 'reject', 's', 'h2', '--reason', 'not ready', '--agent', 'reviewer'], cwd);
    expect(rejected).toMatchObject({ code: 0, stderr: '' });
    expect(rejected.stdout).toBe('Handoff h2 of session s rejected by reviewer: not ready. The session stays with implementer.\n');
    const events = await runInProcess(['events', '--session', 's'], cwd);
    expect(events.stdout).toMatch(/HandoffRejected\s+h2: not ready/);
  });
});

describe('moai-session recover', () => {
  it('recovers a session in six recorded steps; a failed task comes out recovered', async () => {
    const cwd = await tempDir('moai-cli-recover-');
    expect((await runInProcess(['start', '--agent', 'a', '--model', 'claude-haiku-4-5', '--session', 'r'], cwd)).code).toBe(0);
    expect((await runInProcess(['task', 'add', 'r', 'done', '--title', 'Done'], cwd)).code).toBe(0);
    expect((await runInProcess(['task', 'send', 'r', 'done', 'START'], cwd)).code).toBe(0);
    expect((await runInProcess(['task', 'send', 'r', 'done', 'COMPLETE'], cwd)).code).toBe(0);
    expect((await runInProcess(['task', 'add', 'r', 'flaky', '--title', 'Flaky'], cwd)).code).toBe(0);
    expect((await runInProcess(['task', 'send', 'r', 'flaky', 'START'], cwd)).code).toBe(0);
    const failed = await runInProcess(['task', 'send', 'r', 'flaky', 'FAIL', '--reason', 'crashed'], cwd);
    expect(failed.stdout).toMatch(/CheckpointCreated\s+cp-\S+ \(task-failed:flaky\)/);

    const result = await runInProcess(['recover', 'r'], cwd);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^Recovered session r \(progressive_summarization\)\.\nRestored checkpoint cp-\S+ at version 7 and replayed 1 events after it\./);
    expect(result.stdout).toContain('Completed: done.');
    expect(result.stdout).toContain('Open: flaky (recovered).');
    expect(result.stdout).toContain('Budget: 200,000 tokens left.');
    for (const step of ['restore', 'validate', 'replay', 'assess', 'plan', 'notify']) expect(result.stdout).toMatch(new RegExp(`^  ${step}\\s+\\S`, 'm'));
    expect(await runInProcess(['task', 'send', 'r', 'flaky', 'RESUME'], cwd)).toMatchObject({ code: 0 });

    const full = await runInProcess(['recover', 'r', '--strategy', 'full_replay', '--json'], cwd);
    expect(full.code).toBe(0);
    expect(JSON.parse(full.stdout)).toMatchObject({ strategy: 'full_replay', checkpointId: null, openTasks: ['flaky'], recoveredTasks: [] });
    expect(await runInProcess(['debug', '--check-memory-sync'], cwd)).toMatchObject({ code: 0 });
  });
});

describe('moai-session compact', () => {
  it('records a compaction the agent did, so a handoff refused for want of context can be made', async () => {
    const cwd = await tempDir('moai-cli-compact-');
    expect((await runInProcess(['start', '--agent', 'a', '--model', 'claude-sonnet-4-5', '--session', 'c'], cwd)).code).toBe(0);
    expect((await runInProcess(['task', 'add', 'c', 'build', '--title', 'Build'], cwd)).code).toBe(0);
    expect((await runInProcess(['task', 'send', 'c', 'build', 'START'], cwd)).code).toBe(0);
    expect((await runInProcess(['usage', 'c', '--input', '190000', '--output', '10'], cwd)).code).toBe(0); // 95%
    const refused = await runInProcess(['handoff', 'create', 'c', '--to', 'b', '--summary', 'over to b'], cwd);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('compact the context (`moai-session compact` records one), then make the package again');

    expect(await runInProcess(['compact', 'c', '--tokens-after', 'lots'], cwd)).toMatchObject({
      code: 1,
      stderr: 'moai-session: --tokens-after takes a number of tokens, a whole number 0 or more, not "lots".\n',
    });
    expect((await runInProcess(['compact', 'c'], cwd)).code).toBe(2); // --tokens-after is required
    const compacted = await runInProcess(['compact', 'c', '--tokens-after', '20000', '--summary', 'the plan and the open questions'], cwd);
    expect(compacted.code).toBe(0);
    expect(compacted.stdout).toMatch(/^Compacted session c: context 190,000 -> 20,000 tokens/);
    const state = JSON.parse((await runInProcess(['state', 'c', '--json'], cwd)).stdout) as {
      tokens: { contextTokens: number; compactionPending: boolean };
      tasks: { byId: Record<string, { state: string }> };
    };
    expect(state.tokens).toMatchObject({ contextTokens: 20_000, compactionPending: false });
    expect(state.tasks.byId.build!.state).toBe('in_progress'); // back from token_warning
    expect((await runInProcess(['handoff', 'create', 'c', '--to', 'b', '--summary', 'over to b'], cwd)).code).toBe(0);
  });
});
