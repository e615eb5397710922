import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import type { RunResult } from './runBinary.js';
import { runInProcess } from './runInProcess.js';

interface ViewJson {
  version: number;
  session: { status: string; agent: string; parent?: { sessionId: string; version: number } };
  tasks: { byId: Record<string, { state: string; phase?: string; assignee?: string }> };
  tokens: { contextTokens: number; spend: { totalTokens: number } };
  checkpoints: { all: { checkpointId: string; reason: string }[] };
}

const stateOf = async (sessionId: string, cwd: string): Promise<ViewJson> => {
  const result = await runInProcess(['state', sessionId, '--json'], cwd);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ViewJson;
};

/** A user error: exit 1, nothing on stdout, one line on stderr. */
const expectUserError = (result: RunResult, message: string | RegExp): void => {
  expect(result.stdout).toBe('');
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  if (typeof message === 'string') expect(result.stderr).toContain(message);
  else expect(result.stderr).toMatch(message);
  expect(result.code).toBe(1);
};

describe('moai-session start, task, usage, checkpoint, fork, resume and end', () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await tempDir('moai-cli-session-');
  });

  it('starts a session and adds and moves its tasks', async () => {
    const started = await runInProcess(['start', '--agent', 'planner', '--model', 'claude-sonnet-4-5', '--session', 's', '--title', 'Ship it'], cwd);
    expect(started).toMatchObject({ code: 0, stderr: '' });
    expect(started.stdout).toBe('Started session s (agent planner, model claude-sonnet-4-5, "Ship it").\n');

    const added = await runInProcess(['task', 'add', 's', 'spec', '--title', 'Write the spec', '--phase', 'spec', '--assignee', 'planner'], cwd);
    expect(added.stdout).toBe('Added task spec to session s: Write the spec [spec] for planner (pending).\n');
    const moved = await runInProcess(['task', 'send', 's', 'spec', 'start', '--reason', 'go'], cwd);
    expect(moved).toMatchObject({ code: 0, stdout: 'Task spec of session s: pending -START-> in_progress (go).\n' });

    const view = await stateOf('s', cwd);
    expect(view.tasks.byId.spec).toMatchObject({ state: 'in_progress', phase: 'spec', assignee: 'planner' });
  });

  it('records usage; past the warning threshold the task goes to token_warning and a checkpoint is taken', async () => {
    const result = await runInProcess(['usage', 's', '--input', '1000', '--output', '200', '--cache-read', '150000'], cwd);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain(
      'Recorded usage in session s (in 1,000, out 200, cache write 0, cache read 150,000): context 151,000 of 200,000 tokens (75.5%, level warning).',
    );
    expect(result.stdout).toContain('Appended 5 events:');
    expect(result.stdout).toMatch(/s v5\s+BudgetThresholdCrossed\s+monitor at 75\.5%/);
    expect(result.stdout).toMatch(/s v6\s+BudgetThresholdCrossed\s+warning at 75\.5%/);
    expect(result.stdout).toMatch(/s v7\s+CheckpointCreated\s+cp-\S+ \(budget-warning\)/);
    expect(result.stdout).toMatch(/s v8\s+TaskTransitioned\s+spec TOKEN_WARNING: in_progress -> token_warning/);

    // A sidechain call, as the API's usage object: it spends without filling the context.
    const sidechain = await runInProcess(
      ['usage', 's', '--sidechain', '--json', '--usage-json', '{"input_tokens": 500, "output_tokens": 50, "cache_read_input_tokens": null}'],
      cwd,
    );
    expect(sidechain.code).toBe(0);
    expect(JSON.parse(sidechain.stdout)).toMatchObject({ sessionId: 's', version: 9, contextTokens: 151_000, level: 'warning' });
    const view = await stateOf('s', cwd);
    expect(view.tokens.contextTokens).toBe(151_000);
    expect(view.tokens.spend.totalTokens).toBe(151_200 + 550);
  });

  it('shows the token budget: the level against the thresholds, the allocation and the reserve eaten into', async () => {
    const text = await runInProcess(['debug', '--show-token-budget', 's'], cwd);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('context    151,000 of 200,000 tokens (75.5% of the window)');
    expect(text.stdout).toContain('level      warning (monitor 60%, warning 75%, emergency 85%)');
    expect(text.stdout).toContain('next       emergency at 170,000 tokens, 19,000 from here');
    expect(text.stdout).toMatch(/conversation\s+40%\s+80,000/);
    expect(text.stdout).toMatch(/reserve\s+27\.5%\s+55,000/);
    expect(text.stdout).toContain('reserve in use            yes, 6,000 tokens');
    expect(text.stdout).toContain('eats 6,000 of the 55,000-token reserve');
    const json = JSON.parse((await runInProcess(['debug', '--show-token-budget', 's', '--json'], cwd)).stdout) as {
      level: string;
      percent: number;
      allocation: { reserveEatenTokens: number; warnings: string[] };
    };
    expect(json).toMatchObject({ level: 'warning', percent: 75.5, allocation: { reserveEatenTokens: 6000 } });
    expect(json.allocation.warnings).toHaveLength(1);
  });

  it('takes a checkpoint on request, with its document on disk', async () => {
    const result = await runInProcess(['checkpoint', 's', '--reason', 'before lunch', '--json'], cwd);
    expect(result.code).toBe(0);
    const checkpoint = JSON.parse(result.stdout) as { checkpointId: string; version: number; file: string; checksum: string };
    expect(checkpoint.version).toBe(9);
    const document = JSON.parse(await readFile(checkpoint.file, 'utf8')) as { checksum: string; reason: string; version: number };
    expect(document).toMatchObject({ checksum: checkpoint.checksum, reason: 'before lunch', version: 9 });
    const listed = await runInProcess(['debug', '--list-checkpoints', 's'], cwd);
    expect(listed.stdout).toMatch(new RegExp(`${checkpoint.checkpointId}\\s+v9\\s+\\S+\\s+before lunch\\s+ok`));
    expect(listed.stdout).toMatch(/cp-\S+\s+v6\s+\S+\s+budget-warning\s+ok/);
  });

  it('forks at an earlier version; the fork does not see what the parent did after it', async () => {
    const result = await runInProcess(['fork', 's', '--at', '3', '--session', 'alt', '--agent', 'explorer'], cwd);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('Forked session s at version 3 into alt (agent explorer, model claude-sonnet-4-5, 1 tasks).\n');
    const fork = await stateOf('alt', cwd);
    expect(fork.session.parent).toEqual({ sessionId: 's', version: 3 });
    expect(fork.tasks.byId.spec!.state).toBe('in_progress');
    expect(fork.tokens.contextTokens).toBe(0);
    const sessions = await runInProcess(['debug', '--show-session-state'], cwd);
    expect(sessions.stdout).toMatch(/^s\s+active\s+planner\s+claude-sonnet-4-5\s+v10\s+1 of 1\s+151,000 \(75\.5%\)\s*$/m);
    expect(sessions.stdout).toMatch(/^alt\s+active\s+explorer\s+claude-sonnet-4-5\s+v1\s+1 of 1\s+0 \(0\.0%\)\s+s v3$/m);
  });

  it('resumes a session and prints its state', async () => {
    const result = await runInProcess(['resume', 's', '--agent', 'builder', '--reason', 'next day'], cwd);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('Resumed session s as builder at version 11.');
    expect(result.stdout).toContain('agent     builder (agents: planner, builder)');
    expect(result.stdout).toMatch(/spec\s+token_warning/);
  });

  it('ends a session after a checkpoint, and refuses work in it afterwards', async () => {
    const result = await runInProcess(['end', 's', '--reason', 'shipped'], cwd);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Ended session s at version 13 \(shipped\), after checkpoint cp-\S+\.\n/);
    expect(result.stdout).toMatch(/s v12\s+CheckpointCreated\s+cp-\S+ \(session-end\)/);
    expectUserError(await runInProcess(['task', 'add', 's', 'more', '--title', 'More'], cwd), 'Session s has ended; fork it or start a new session');
    expect((await stateOf('s', cwd)).session.status).toBe('ended');
  });

  it('leaves the memory files in sync with the log after every write command', async () => {
    const check = await runInProcess(['debug', '--check-memory-sync'], cwd);
    expect(check).toMatchObject({ code: 0, stderr: '' });
    const state = JSON.parse(await readFile(join(cwd, '.moai', 'sessions', 'session-state.json'), 'utf8')) as {
      sessions: Record<string, unknown>;
    };
    expect(Object.keys(state.sessions)).toEqual(['alt']); // s has ended
    expect(await readFile(join(cwd, '.moai', 'sessions', 'token-usage.log'), 'utf8')).toMatch(/ s claude-sonnet-4-5 side in=500 /);
  });
});

describe('the configured context windows', () => {
  it('are the ones state, resume and debug show, as usage uses them', async () => {
    const cwd = await tempDir('moai-cli-windows-');
    expect((await runInProcess(['init'], cwd)).code).toBe(0);
    const configFile = join(cwd, '.moai', 'config', 'config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8'));
    config.models.context_windows = { 'my-model': 128_000 };
    await writeFile(configFile, JSON.stringify(config, null, 2));
    expect((await runInProcess(['start', '--session', 'w', '--agent', 'a', '--model', 'my-model'], cwd)).code).toBe(0);
    expect((await runInProcess(['usage', 'w', '--input', '100000', '--output', '1'], cwd)).code).toBe(0);
    const shown = 'context in use  100,000 of 128,000 (78.1% of my-model\'s window)';
    expect((await runInProcess(['state', 'w'], cwd)).stdout).toContain(shown);
    expect((await runInProcess(['debug', '--show-session-state', 'w'], cwd)).stdout).toContain(shown);
    expect((await runInProcess(['resume', 'w'], cwd)).stdout).toContain(shown);
  });
});

describe('bad input to the write commands', () => {
  let cwd: string;
  let eventCount: () => Promise<number>;
  beforeAll(async () => {
    cwd = await tempDir('moai-cli-bad-');
    expect((await runInProcess(['start', '--agent', 'a', '--model', 'claude-haiku-4-5', '--session', 'h'], cwd)).code).toBe(0);
    expect((await runInProcess(['task', 'add', 'h', 't', '--title', 'T'], cwd)).code).toBe(0);
    eventCount = async () => (await runInProcess(['events'], cwd)).stdout.trimEnd().split('\n').length;
  });

  it('names an unknown session and the known ones, for every command that takes one', async () => {
    const commands = [
      ['task', 'add', 'nope', 't', '--title', 'T'],
      ['task', 'send', 'nope', 't', 'START'],
      ['usage', 'nope', '--input', '1', '--output', '1'],
      ['checkpoint', 'nope'],
      ['fork', 'nope'],
      ['resume', 'nope'],
      ['end', 'nope'],
      ['recover', 'nope'],
      ['handoff', 'create', 'nope', '--to', 'b', '--summary', 'S'],
      ['handoff', 'accept', 'nope', 'h1', '--agent', 'b'],
      ['handoff', 'reject', 'nope', 'h1', '--reason', 'no'],
    ];
    const unknown = 'moai-session: No session "nope" in the log. Known sessions: h.';
    // One writer at a time: the write commands run one after another; readers need no lock.
    for (const args of commands) expectUserError(await runInProcess(args, cwd), unknown);
    const readers = await Promise.all(
      ['--show-session-state', '--show-token-budget', '--list-checkpoints', '--show-token-usage-log'].map((view) =>
        runInProcess(['debug', view, 'nope'], cwd),
      ),
    );
    for (const result of readers) expectUserError(result, unknown);
    expect(await eventCount()).toBe(2);
  });

  it('exits 2 for a missing required option or argument', async () => {
    const results = await Promise.all(
      [
        ['start', '--agent', 'a'],
        ['task', 'add', 'h', 't2'],
        ['task', 'send', 'h'],
        ['usage', 'h', '--output', '5'],
        ['handoff', 'create', 'h', '--to', 'b'],
        ['handoff', 'accept', 'h', 'h1'],
        ['recover', 'h', '--strategy', 'guess'],
      ].map((args) => runInProcess(args, cwd)),
    );
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    expect(results[0]!.stderr).toContain("required option '--model <model>' not specified");
    expect(results[1]!.stderr).toContain("required option '--title <title>' not specified");
    expect(results[2]!.stderr).toContain("missing required argument 'event'");
    expect(results[3]!.stderr).toContain('moai-session: usage needs --input');
    expect(results[6]!.stderr).toContain('Allowed choices are progressive_summarization, checkpoint_only, full_replay');
    expect(await eventCount()).toBe(2);
  });

  it('refuses negative or non-numeric token counts naming the option, and stores nothing', async () => {
    expectUserError(
      await runInProcess(['usage', 'h', '--input', '-5', '--output', '1'], cwd),
      'moai-session: --input takes a number of tokens, a whole number 0 or more, not "-5".',
    );
    expectUserError(
      await runInProcess(['usage', 'h', '--input', '5', '--output', '1', '--cache-read', '1.5'], cwd),
      'moai-session: --cache-read takes a number of tokens, a whole number 0 or more, not "1.5".',
    );
    expectUserError(
      await runInProcess(['usage', 'h', '--usage-json', '{"input_tokens": 5, "output_tokens": -1}'], cwd),
      'output_tokens is -1, but it must be a whole number of tokens, 0 or more',
    );
    expectUserError(await runInProcess(['usage', 'h', '--usage-json', '{input'], cwd), 'moai-session: --usage-json is not valid JSON');
    expect(await eventCount()).toBe(2);
  });

  it("refuses an illegal task event with the machine's reasons, and an event the machine does not have", async () => {
    expectUserError(
      await runInProcess(['task', 'send', 'h', 't', 'COMPLETE'], cwd),
      'moai-session: Task t in session h is pending and does not accept COMPLETE; in pending it accepts START.\n',
    );
    expectUserError(
      await runInProcess(['task', 'send', 'h', 't', 'JUMP'], cwd),
      'moai-session: "JUMP" is not a task lifecycle event; the events are START, BLOCK, UNBLOCK, TOKEN_WARNING, BUDGET_OK, SWITCH_CONTEXT, SWITCH_DONE, COMPLETE, FAIL, RECOVER, RESUME.',
    );
    expectUserError(await runInProcess(['task', 'send', 'h', 'ghost', 'START'], cwd), 'Session h has no task "ghost"; its tasks are t.');
    expectUserError(await runInProcess(['start', '--agent', 'a', '--model', 'm', '--session', 'h'], cwd), 'Session h already exists');
    expect(await eventCount()).toBe(2);
  });

  it('exits 1 naming the key when the config has a typo, for write and read commands alike', async () => {
    const typo = await tempDir('moai-cli-typo-');
    await mkdir(join(typo, '.moai', 'config'), { recursive: true });
    await writeFile(join(typo, '.moai', 'config', 'config.json'), '{ "session": { "auto_checkpont": false } }\n');
    for (const args of [['start', '--agent', 'a', '--model', 'm'], ['config', 'show'], ['debug', '--show-session-state']]) {
      expectUserError(
        await runInProcess(args, typo),
        /^moai-session: Invalid configuration in .*config\.json: Unknown key session\.auto_checkpont\. Did you mean auto_checkpoint\?/,
      );
    }
    expect(existsSync(join(typo, '.moai', 'events'))).toBe(false);
  });

  it('refuses to create a state folder for a command that needs an existing session', async () => {
    const empty = await tempDir('moai-cli-empty-');
    expectUserError(await runInProcess(['task', 'add', 's', 't', '--title', 'T'], empty), `No moai-session state folder at ${join(empty, '.moai')}`);
    expect(existsSync(join(empty, '.moai'))).toBe(false);
  });
});
