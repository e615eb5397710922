import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_DATA_SCHEMAS, HandoffPackageSchema } from '../../src/schemas.js';
import {
  contextWindowFor,
  createEngine,
  createMemoryEventStore,
  DEFAULT_CONFIG,
  parseConfig,
  isInvalidArgumentError,
  isMoaiError,
  newEvent,
  type Engine,
  type SessionHandle,
} from '../../src/index.js';
import {
  assertValidHandoff,
  buildHandoffPackage,
  handoffRulesFromConfig,
  isHandoffValidationError,
  validateHandoffPackage,
  type BuildHandoffPackageInput,
  type HandoffPackage,
  type HandoffRules,
} from '../../src/index.js';
import { sequentialIds, steppingClock } from '../helpers.js';

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

const RULES: HandoffRules = { minAvailableTokens: 30_000, compatibleAgents: {} };
const WINDOW = contextWindowFor('claude-sonnet-4-5'); // 200,000

/** Usage leaving `contextTokens` in the main context. */
const usage = (contextTokens: number) => ({
  input_tokens: contextTokens - 20_000,
  output_tokens: 800,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 20_000,
});

/**
 * A session as a planner leaves it: one task completed, one in progress, one
 * pending, 100,000 tokens in use (50 %, below every budget threshold) and, as
 * its last event, checkpoint `cp-1` of the version before it (whatever
 * checkpoints the engine takes on its own come before it).
 */
async function plannerSession(
  contextTokens = 100_000,
): Promise<{ engine: Engine; session: SessionHandle; checkpointVersion: number }> {
  const engine = await createEngine({ store: createMemoryEventStore(), clock: steppingClock(), ids: sequentialIds() });
  engines.push(engine);
  const session = await engine.startSession({ sessionId: 's1', agent: 'planner', model: 'claude-sonnet-4-5' });
  await session.addTask({ taskId: 'spec', title: 'Write the spec', phase: 'design' });
  await session.addTask({ taskId: 'build', title: 'Build the parser', phase: 'build' });
  await session.addTask({ taskId: 'docs', title: 'Write the docs' });
  await session.sendTask('spec', 'START');
  await session.sendTask('spec', 'COMPLETE');
  await session.sendTask('build', 'START');
  await session.recordUsage(usage(contextTokens));
  const { version: checkpointVersion, position } = await session.refresh();
  await engine.store.append(session.stream, [
    newEvent(
      'CheckpointCreated',
      { checkpointId: 'cp-1', reason: 'handoff', position, version: checkpointVersion, checksum: 'sha256:abc' },
      { at: '2026-01-01T00:59:00.000Z', agent: 'planner' },
      'cp-event-1',
    ),
  ]);
  await session.refresh();
  return { engine, session, checkpointVersion };
}

const input = (overrides: Partial<BuildHandoffPackageInput> = {}): BuildHandoffPackageInput => ({
  handoffId: 'h-1',
  fromAgent: 'planner',
  toAgent: 'builder',
  createdAt: new Date('2026-01-01T01:00:00.000Z'),
  summary: 'The spec is written; the parser is half built.',
  keyDecisions: ['Use TypeBox for the schema'],
  files: ['src/parser.ts'],
  contextWindow: WINDOW,
  ...overrides,
});

/** A package made from a real session, as plain JSON (the form agents exchange). */
async function validPackage(): Promise<Record<string, unknown>> {
  const { session } = await plannerSession();
  return JSON.parse(JSON.stringify(buildHandoffPackage(session.state, input()))) as Record<string, unknown>;
}

const paths = (result: { problems: { path: string }[] }) => result.problems.map((problem) => problem.path);
const codes = (result: { problems: { code: string }[] }) => result.problems.map((problem) => problem.code);

describe('building a handoff package from a session view', () => {
  it('builds a package from a real session view that validates', async () => {
    const { session, checkpointVersion } = await plannerSession();
    const view = session.state;
    const pkg = buildHandoffPackage(view, input());

    const checkpoints = pkg.context_snapshot.session_checkpoints;
    expect(checkpoints.at(-1)).toEqual({ checkpoint_id: 'cp-1', timestamp: '2026-01-01T00:59:00.000Z', version: checkpointVersion, reason: 'handoff' });
    expect(pkg).toEqual({
      handoff_id: 'h-1',
      timestamp: '2026-01-01T01:00:00.000Z',
      from_agent: 'planner',
      to_agent: 'builder',
      created_at: '2026-01-01T01:00:00.000Z',
      session_context: {
        session_id: 's1',
        model: 'claude-sonnet-4-5',
        // 100,000 of 200,000 in use: 50 %, 100,000 free; no language, expertise or project recorded.
        context_position: 50,
        available_tokens: 100_000,
        user_language: null,
        expertise_level: null,
        current_project: null,
        context_window: 200_000,
        tokens_used: 100_000,
        tokens_available: 100_000,
        log_position: view.position,
        session_version: view.version,
      },
      task_context: {
        spec_id: null,
        // The phase of the task in progress; spec is done; docs is the pending task after it; no constraint recorded.
        current_phase: 'build',
        completed_steps: ['spec'],
        next_step: 'docs',
        constraints: [],
        current_task: { id: 'build', title: 'Build the parser', state: 'in_progress', phase: 'build' },
        open_tasks: [
          { id: 'build', title: 'Build the parser', state: 'in_progress', phase: 'build' },
          { id: 'docs', title: 'Write the docs', state: 'pending' },
        ],
        completed_tasks: ['spec'],
      },
      context_snapshot: {
        critical_context: null,
        session_checkpoints: checkpoints,
        active_todos: [
          { id: 'build', content: 'Build the parser', status: 'in_progress' },
          { id: 'docs', content: 'Write the docs', status: 'pending' },
        ],
        token_budget_strategy: 'progressive_summarization',
        summary: 'The spec is written; the parser is half built.',
        key_decisions: ['Use TypeBox for the schema'],
        files: ['src/parser.ts'],
        checkpoint_id: 'cp-1',
      },
      recovery_info: {
        last_checkpoint: '2026-01-01T00:59:00.000Z',
        recovery_tokens_reserved: 55_000,
        session_fork_available: true,
        checkpoint_id: 'cp-1',
        resume_from_version: checkpointVersion,
        instructions: expect.stringContaining(`Restore checkpoint cp-1 (version ${checkpointVersion}) of session s1`) as string,
      },
    });
    expect(view.version).toBe(checkpointVersion + 1);
    expect(checkpointVersion).toBeGreaterThanOrEqual(8);
    expect(view.position).toBeGreaterThan(0);
    expect(pkg.recovery_info.instructions).toContain('continue task build');

    const result = validateHandoffPackage(JSON.parse(JSON.stringify(pkg)), RULES);
    expect(result).toEqual({ ok: true, problems: [], needsCompaction: false, acceptable: true, derived: [] });
    expect(assertValidHandoff(pkg, RULES)).toBe(pkg);
  });

  it('fits the data of a HandoffRequested event', async () => {
    const { session } = await plannerSession();
    const pkg: HandoffPackage = buildHandoffPackage(session.state, input());
    const data: { package: Record<string, unknown> } = { package: pkg };
    expect(data.package['handoff_id']).toBe('h-1');
  });

  it('names the current task given, and refuses one the session does not have', async () => {
    const { session } = await plannerSession();
    expect(buildHandoffPackage(session.state, input({ currentTaskId: 'docs' })).task_context.current_task).toEqual({
      id: 'docs',
      title: 'Write the docs',
      state: 'pending',
    });
    const error = (() => {
      try {
        return buildHandoffPackage(session.state, input({ currentTaskId: 'nope' }));
      } catch (e) {
        return e;
      }
    })();
    expect(isInvalidArgumentError(error)).toBe(true);
    expect((error as Error).message).toContain('Its tasks are: spec, build, docs.');
  });

  it('never reports fewer than 0 tokens available when the context overflows the window', async () => {
    const { session } = await plannerSession();
    const pkg = buildHandoffPackage(session.state, input({ contextWindow: 80_000 }));
    expect(pkg.session_context).toMatchObject({ tokens_used: 100_000, tokens_available: 0 });
  });

  it('names the newest checkpoint that is not archived, or the one given', async () => {
    const { engine, session } = await plannerSession();
    await engine.store.append(session.stream, [
      newEvent('CheckpointArchived', { checkpointId: 'cp-1' }, { at: '2026-01-01T01:00:00.000Z' }, 'archive-1'),
    ]);
    const view = await session.refresh();
    const kept = view.checkpoints.all.toArray().filter((c) => !view.checkpoints.archived.has(c.checkpointId)).at(-1);
    const pkg = buildHandoffPackage(view, input());
    expect(pkg.recovery_info.checkpoint_id).not.toBe('cp-1');
    expect(pkg.recovery_info.checkpoint_id).toBe(kept?.checkpointId ?? null);
    expect(pkg.recovery_info.resume_from_version).toBe(kept?.version ?? view.version);

    const given = buildHandoffPackage(view, input({ checkpointId: 'cp-9' }));
    expect(given.recovery_info).toMatchObject({ checkpoint_id: 'cp-9', resume_from_version: view.version });
    expect(given.context_snapshot.checkpoint_id).toBe('cp-9');
  });

  it('uses the same id pattern for agents as the event schemas', () => {
    const eventAgent = EVENT_DATA_SCHEMAS.HandoffRequested.properties.fromAgent;
    expect(HandoffPackageSchema.properties.from_agent.pattern).toBe(eventAgent.pattern);
    expect(HandoffPackageSchema.properties.to_agent.pattern).toBe(eventAgent.pattern);
    expect(HandoffPackageSchema.properties.to_agent.maxLength).toBe(eventAgent.maxLength);
  });
});

describe('validating a handoff package', () => {
  it('names every one of three missing required fields, not only the first', async () => {
    const pkg = await validPackage();
    delete pkg['from_agent'];
    delete pkg['to_agent'];
    delete pkg['context_snapshot'];

    const result = validateHandoffPackage(pkg, RULES);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { code: 'MISSING_FIELD', path: 'from_agent', message: expect.stringContaining('from_agent is missing') as string },
      { code: 'MISSING_FIELD', path: 'to_agent', message: expect.stringContaining('to_agent is missing') as string },
      {
        code: 'MISSING_FIELD',
        path: 'context_snapshot',
        message: expect.stringContaining('context_snapshot is missing') as string,
      },
    ]);

    let thrown: unknown;
    try {
      assertValidHandoff(pkg, RULES);
    } catch (error) {
      thrown = error;
    }
    expect(isHandoffValidationError(thrown)).toBe(true);
    expect(isMoaiError(thrown)).toBe(true);
    if (!isHandoffValidationError(thrown)) throw new Error('unreachable');
    expect(thrown.code).toBe('HANDOFF_INVALID');
    expect(thrown.handoffId).toBe('h-1');
    expect(thrown.problems.map((problem) => problem.path)).toEqual(['from_agent', 'to_agent', 'context_snapshot']);
    expect(thrown.message).toMatch(/^Handoff h-1 is not valid \(3 problems\): /);
    for (const path of ['from_agent', 'to_agent', 'context_snapshot']) {
      expect(thrown.message).toContain(`${path} is missing`);
    }
  });

  it('names a whole missing section once, not each of its fields', async () => {
    const pkg = await validPackage();
    delete pkg['task_context'];
    const result = validateHandoffPackage(pkg, RULES);
    expect(paths(result)).toEqual(['task_context']);
    expect(result.problems[0]?.message).toContain(
      '{ spec_id?, current_phase?, completed_steps?, next_step?, constraints?, current_task?, open_tasks?, completed_tasks? }',
    );
  });

  it('requests a compaction when fewer tokens are available than the minimum', async () => {
    const { session } = await plannerSession();
    const pkg = buildHandoffPackage(session.state, input({ contextWindow: 115_000 }));
    expect(pkg.session_context.available_tokens).toBe(15_000);
    expect(pkg.session_context.tokens_available).toBe(15_000);

    const result = validateHandoffPackage(pkg, RULES);
    expect(result.ok).toBe(false);
    expect(result.needsCompaction).toBe(true);
    expect(result.problems).toEqual([
      {
        code: 'NOT_ENOUGH_TOKENS',
        path: 'session_context.available_tokens',
        value: 15_000,
        message: expect.stringMatching(/only 15000 tokens .* below the 30000 .*compact the context/) as string,
      },
    ]);
    expect(validateHandoffPackage(pkg, { ...RULES, minAvailableTokens: 15_000 })).toEqual({
      ok: true,
      problems: [],
      needsCompaction: false,
      acceptable: true,
      derived: [],
    });
  });

  it('does not trust an available_tokens larger than the window leaves', async () => {
    const { session } = await plannerSession();
    const pkg = buildHandoffPackage(session.state, input({ contextWindow: 115_000 }));
    const inflated = { ...pkg, session_context: { ...pkg.session_context, available_tokens: 90_000, tokens_available: 90_000 } };
    const result = validateHandoffPackage(inflated, RULES);
    expect(codes(result)).toEqual(['INVALID_FIELD', 'NOT_ENOUGH_TOKENS']);
    expect(result.problems[0]?.message).toContain('leaves at most 15000');
    expect(result.needsCompaction).toBe(true);
  });

  it("refuses the engine's older tokens_available when it says another number than available_tokens", async () => {
    const pkg = await validPackage();
    const sessionContext = pkg['session_context'] as Record<string, unknown>;
    const result = validateHandoffPackage({ ...pkg, session_context: { ...sessionContext, tokens_available: 99_000 } }, RULES);
    expect(result.problems).toEqual([
      expect.objectContaining({ code: 'INVALID_FIELD', path: 'session_context.tokens_available', value: 99_000 }),
    ]);
    expect(result.problems[0]?.message).toContain('session_context.available_tokens is 100000');
    // Either name alone is enough.
    const { available_tokens: _, ...older } = sessionContext;
    expect(validateHandoffPackage({ ...pkg, session_context: older }, RULES).ok).toBe(true);
  });

  it('refuses agents that may not cooperate, and lets an agent that is not in the rule hand to anyone', async () => {
    const pkg = await validPackage();
    const rules: HandoffRules = { ...RULES, compatibleAgents: { planner: ['reviewer', 'tester'], builder: [] } };

    const result = validateHandoffPackage(pkg, rules);
    expect(result.ok).toBe(false);
    expect(result.needsCompaction).toBe(false);
    expect(result.problems).toEqual([
      {
        code: 'INCOMPATIBLE_AGENTS',
        path: 'to_agent',
        value: 'builder',
        message: expect.stringContaining('planner may not hand off to builder') as string,
      },
    ]);
    expect(result.problems[0]?.message).toContain('allows only reviewer, tester');

    expect(validateHandoffPackage(pkg, { ...RULES, compatibleAgents: { planner: ['builder'] } }).ok).toBe(true);
    expect(validateHandoffPackage({ ...pkg, from_agent: 'scout' }, rules).ok).toBe(true);
    expect(codes(validateHandoffPackage({ ...pkg, from_agent: 'builder', to_agent: 'planner' }, rules))).toEqual([
      'INCOMPATIBLE_AGENTS',
    ]);
  });

  it('refuses a handoff from an agent to itself', async () => {
    const pkg = await validPackage();
    const result = validateHandoffPackage({ ...pkg, to_agent: 'planner' }, RULES);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      {
        code: 'SAME_AGENT',
        path: 'to_agent',
        value: 'planner',
        message: expect.stringContaining('both "planner"') as string,
      },
    ]);
  });

  it('refuses a handoff without a checkpoint', async () => {
    const { session } = await plannerSession();
    const pkg = buildHandoffPackage(session.state, input({ checkpointId: null }));
    expect(pkg.recovery_info).toMatchObject({ checkpoint_id: null, resume_from_version: session.state.version });
    expect(pkg.recovery_info.instructions).toContain('No checkpoint was named');
    expect(pkg.context_snapshot.checkpoint_id).toBeNull();

    const result = validateHandoffPackage(pkg, RULES);
    expect(result.ok).toBe(false);
    expect(codes(result)).toEqual(['NO_CHECKPOINT']);
    expect(paths(result)).toEqual(['recovery_info.checkpoint_id']);
  });

  it('refuses a snapshot and recovery info that name different checkpoints', async () => {
    const pkg = buildHandoffPackage((await plannerSession()).session.state, input());
    const result = validateHandoffPackage(
      { ...pkg, context_snapshot: { ...pkg.context_snapshot, checkpoint_id: 'cp-0' } },
      RULES,
    );
    expect(paths(result)).toEqual(['context_snapshot.checkpoint_id']);
  });

  it('names each wrong type with its path and the value found', async () => {
    const pkg = await validPackage();
    const sessionContext = pkg['session_context'] as Record<string, unknown>;
    const taskContext = pkg['task_context'] as { current_task: Record<string, unknown> };
    const wrong = {
      ...pkg,
      from_agent: 42,
      session_context: { ...sessionContext, tokens_used: 'lots' },
      task_context: { ...taskContext, current_task: { ...taskContext.current_task, state: 'done' } },
    };

    const result = validateHandoffPackage(wrong, RULES);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      {
        code: 'INVALID_FIELD',
        path: 'from_agent',
        value: 42,
        message: expect.stringMatching(/^from_agent is 42, but it must be an id/) as string,
      },
      {
        code: 'INVALID_FIELD',
        path: 'session_context.tokens_used',
        value: 'lots',
        message: 'session_context.tokens_used is "lots", but it must be an integer of at least 0.',
      },
      {
        code: 'INVALID_FIELD',
        path: 'task_context.current_task.state',
        value: 'done',
        message: expect.stringMatching(/^task_context\.current_task\.state is "done", but it must be one of "pending", "in_progress"/) as string,
      },
    ]);
  });

  it('names a misspelt key and suggests the right one', async () => {
    const pkg = await validPackage();
    const { to_agent: toAgent, ...rest } = pkg;
    const result = validateHandoffPackage({ ...rest, toAgent }, RULES);
    expect(paths(result)).toEqual(['to_agent', 'toAgent']);
    expect(result.problems[1]).toMatchObject({ code: 'INVALID_FIELD' });
    expect(result.problems[1]?.message).toContain('Did you mean to_agent?');
  });

  it('takes its rules from session.handoff in the config', async () => {
    expect(handoffRulesFromConfig(DEFAULT_CONFIG)).toEqual({ minAvailableTokens: 30_000, compatibleAgents: {} });
    const config = parseConfig(
      { session: { handoff: { min_available_tokens: 120_000, compatible_agents: { planner: ['reviewer'] } } } },
      'config.json',
    );
    const result = validateHandoffPackage(await validPackage(), handoffRulesFromConfig(config));
    expect(codes(result)).toEqual(['NOT_ENOUGH_TOKENS', 'INCOMPATIBLE_AGENTS']);
    expect(result.needsCompaction).toBe(true);
  });

  it('refuses something that is not an object, saying what a package is', () => {
    for (const value of [null, 'a package', [1, 2]]) {
      const result = validateHandoffPackage(value, RULES);
      expect(result.ok).toBe(false);
      expect(result.problems).toHaveLength(1);
      expect(result.problems[0]).toMatchObject({ code: 'INVALID_FIELD', path: '' });
      expect(result.problems[0]?.message).toContain(
        'must be a JSON object with the fields { handoff_id, timestamp?, from_agent, to_agent, session_context, task_context, context_snapshot, recovery_info?, created_at? }',
      );
    }
  });
});
