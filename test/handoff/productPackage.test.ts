import { afterEach, describe, expect, it } from 'vitest';
import {
  acceptHandoffPackage,
  buildHandoffPackage,
  contextItemsInOrder,
  createEngine,
  createMemoryEventStore,
  DEFAULT_CONFIG,
  handoffRulesFromConfig,
  HANDOFF_REQUIRED_FIELDS,
  isCommandRejectedError,
  isHandoffValidationError,
  validateHandoffPackage,
  type Engine,
} from '../../src/index.js';
import { rm } from 'node:fs/promises';
import { sequentialIds, steppingClock, tempDir } from '../helpers.js';
import { runInProcess } from '../cli/runInProcess.js';

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

async function freshEngine(): Promise<Engine> {
  const engine = await createEngine({ store: createMemoryEventStore(), clock: steppingClock(), ids: sequentialIds() });
  engines.push(engine);
  return engine;
}

const RULES = handoffRulesFromConfig(DEFAULT_CONFIG);

/**
 * The product document's "Inter-Agent Handoff Package" example, as it stands,
 * with its `"...compressed..."` and `[...]` filled in.
 */
const DOCUMENT_PACKAGE = {
  handoff_id: 'uuid-v4',
  timestamp: '2025-11-12T10:30:00Z',
  from_agent: 'spec-builder',
  to_agent: 'tdd-implementer',
  session_context: {
    session_id: 'sess_uuid',
    model: 'claude-sonnet-4-5-20250929',
    context_position: 42.5,
    available_tokens: 115000,
    user_language: 'ko',
    expertise_level: 'intermediate',
    current_project: 'MoAI-ADK',
  },
  task_context: {
    spec_id: 'SPEC-001',
    current_phase: 'implementation',
    completed_steps: ['spec_complete', 'architecture_defined'],
    next_step: 'write_tests',
    constraints: ['must_use_pytest', 'coverage_85'],
  },
  context_snapshot: {
    critical_context: 'The user works in Korean; the store API is frozen; tests use pytest.',
    session_checkpoints: [{ checkpoint_id: 'ckpt_uuid', timestamp: '2025-11-12T10:25:00Z', phase: 'GREEN' }],
    active_todos: [{ content: 'Write the tests', status: 'pending', activeForm: 'Writing the tests' }],
    token_budget_strategy: 'progressive_summarization',
  },
  recovery_info: {
    last_checkpoint: '2025-11-12T10:25:00Z',
    recovery_tokens_reserved: 55000,
    session_fork_available: true,
  },
};

/**
 * The document's `validate_handoff`, written out from its pseudo-code: the
 * required fields, then `session_context['available_tokens']` (a KeyError in
 * the Python when missing) against the 30,000-token buffer.
 */
function documentValidateHandoff(pkg: Record<string, unknown>): { compress: boolean } {
  for (const field of ['handoff_id', 'from_agent', 'to_agent', 'session_context', 'task_context', 'context_snapshot']) {
    if (!(field in pkg)) throw new Error(`Missing required field: ${field}`);
  }
  const context = pkg['session_context'] as Record<string, unknown>;
  if (!('available_tokens' in context)) throw new Error("KeyError: 'available_tokens'");
  return { compress: (context['available_tokens'] as number) < 30000 };
}

/** Every key path of a JSON value (`session_context.user_language`), arrays' entries left out. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, inner]) => [`${prefix}${key}`, ...keyPaths(inner, `${prefix}${key}.`)]);
}

const copy = (): Record<string, any> => structuredClone(DOCUMENT_PACKAGE);

describe("the product document's handoff package", () => {
  it('is accepted as it stands, and says what accepting it takes from the log', () => {
    const result = validateHandoffPackage(copy(), RULES);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.needsCompaction).toBe(false);
    expect(result.derived).toEqual([
      expect.stringMatching(/^session_context\.session_version is not given/),
      expect.stringMatching(/^recovery_info\.checkpoint_id is not given/),
    ]);
  });

  it('needs exactly the fields validate_handoff names; any other may be left out', () => {
    expect([...HANDOFF_REQUIRED_FIELDS]).toEqual(['handoff_id', 'from_agent', 'to_agent', 'session_context', 'task_context', 'context_snapshot']);
    for (const field of HANDOFF_REQUIRED_FIELDS) {
      const pkg = copy();
      delete pkg[field];
      const result = validateHandoffPackage(pkg, RULES);
      expect(result.problems.map((p) => [p.code, p.path])).toEqual([['MISSING_FIELD', field]]);
    }
    const optional = keyPaths(DOCUMENT_PACKAGE).filter((path) => !(HANDOFF_REQUIRED_FIELDS as readonly string[]).includes(path));
    expect(optional).toHaveLength(21); // timestamp, 7 + 5 + 4 fields of the sections, recovery_info and its 3
    for (const path of optional) {
      const pkg = copy();
      const keys = path.split('.');
      const parent = keys.slice(0, -1).reduce((object, key) => object[key], pkg);
      delete parent[keys.at(-1)!];
      expect(validateHandoffPackage(pkg, RULES).problems, path).toEqual([]);
    }
  });

  it('asks for a compaction below the 30,000 free tokens validate_handoff keeps, as the document does', () => {
    const pkg = copy();
    pkg['session_context'].available_tokens = 20_000;
    const result = validateHandoffPackage(pkg, RULES);
    expect(documentValidateHandoff(pkg)).toEqual({ compress: true });
    expect(result.needsCompaction).toBe(true);
    expect(result.problems.map((p) => [p.code, p.path])).toEqual([['NOT_ENOUGH_TOKENS', 'session_context.available_tokens']]);
    // A compaction to do, not a refusal: validate_handoff goes on and returns True.
    expect(result.acceptable).toBe(true);
    pkg['to_agent'] = pkg['from_agent'];
    expect(validateHandoffPackage(pkg, RULES).acceptable).toBe(false);
  });

  it('still names a wrong value in a field the document has', () => {
    const pkg = copy();
    pkg['session_context'].context_position = 142.5;
    pkg['recovery_info'].session_fork_available = 'yes';
    const result = validateHandoffPackage(pkg, RULES);
    expect(result.problems.map((p) => p.path)).toEqual(['session_context.context_position', 'recovery_info.session_fork_available']);
    expect(result.problems[0]!.message).toBe('session_context.context_position is 142.5, but it must be a number from 0 to 100.');
  });
});

describe('a package this engine writes', () => {
  async function writtenPackage(): Promise<Record<string, unknown>> {
    const engine = await freshEngine();
    const session = await engine.startSession({ sessionId: 's1', agent: 'spec-builder', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 'spec', title: 'Write the spec', phase: 'design' });
    await session.sendTask('spec', 'START');
    await session.sendTask('spec', 'COMPLETE');
    await session.recordUsage({ input_tokens: 60_000, output_tokens: 1_000, cache_read_input_tokens: 25_000 });
    const handoff = await session.requestHandoff({ toAgent: 'tdd-implementer', summary: 'The spec is done.' });
    return JSON.parse(JSON.stringify(handoff)) as Record<string, unknown>;
  }

  it("passes the document's own validate_handoff: its required fields are there, and enough tokens are free", async () => {
    const pkg = await writtenPackage();
    expect(documentValidateHandoff(pkg)).toEqual({ compress: false });
    // 85,000 of 200,000 in use: 115,000 free, 42.5 % of the window, as in the document's example.
    expect(pkg['session_context']).toMatchObject({ context_position: 42.5, available_tokens: 115_000 });
  });

  it("carries every field of the document's package under the document's names", async () => {
    const pkg = await writtenPackage();
    const written = new Set(keyPaths(pkg));
    expect(keyPaths(DOCUMENT_PACKAGE).filter((path) => !written.has(path))).toEqual([]);
    expect(validateHandoffPackage(pkg, RULES)).toEqual({ ok: true, problems: [], needsCompaction: false, acceptable: true, derived: [] });
  });
});

describe('accepting a package from an agent that never saw this engine', () => {
  it('starts the session it names, hands it to to_agent, and records what it carried as context items', async () => {
    const engine = await freshEngine();
    const accepted = await acceptHandoffPackage(engine, copy());
    expect(accepted).toMatchObject({ handoffId: 'uuid-v4', started: true, needsCompaction: false });
    const view = accepted.session.state;
    expect(view.session).toMatchObject({ sessionId: 'sess_uuid', agent: 'tdd-implementer', model: 'claude-sonnet-4-5-20250929', status: 'active' });

    const items = contextItemsInOrder(view.context).map((item) => [item.tier, item.kind, item.tag, item.text ?? item.value]);
    expect(items).toEqual([
      ['critical', 'preference', 'user_language', 'ko'],
      ['critical', 'preference', 'expertise_level', 'intermediate'],
      ['critical', 'objective', 'current_project', 'MoAI-ADK'],
      ['critical', 'objective', 'spec_id', 'SPEC-001'],
      ['critical', 'objective', 'next_step', 'write_tests'],
      ['critical', 'constraint', 'must_use_pytest', 'must_use_pytest'],
      ['critical', 'constraint', 'coverage_85', 'coverage_85'],
      ['critical', 'note', 'handoff_critical_context', 'The user works in Korean; the store API is frozen; tests use pytest.'],
      ['supporting', 'note', 'current_phase', 'implementation'],
      ['supporting', 'note', 'completed_steps', ['spec_complete', 'architecture_defined']],
      ['supporting', 'note', 'active_todos', [{ content: 'Write the tests', status: 'pending', activeForm: 'Writing the tests' }]],
      ['supporting', 'note', 'session_checkpoints', [{ checkpoint_id: 'ckpt_uuid', timestamp: '2025-11-12T10:25:00Z', phase: 'GREEN' }]],
      ['supporting', 'note', 'token_budget_strategy', 'progressive_summarization'],
    ]);
    expect(accepted.carriedTags).toEqual(items.map((item) => item[2]));

    // The log keeps the whole package with the request, and the acceptance.
    const events = [];
    for await (const event of engine.store.readStream('session-sess_uuid')) events.push(event);
    expect(events.map((event) => event.type).slice(0, 3)).toEqual(['SessionStarted', 'HandoffRequested', 'HandoffAccepted']);
    expect(events[1]!.data).toMatchObject({ handoffId: 'uuid-v4', fromAgent: 'spec-builder', toAgent: 'tdd-implementer', package: DOCUMENT_PACKAGE });
    // The start, the handoff and the 13 carried items are one append (one correlation id, every event the receiver's doing).
    const append = events.slice(0, 3 + items.length);
    expect(new Set(append.map((event) => event.meta.correlationId)).size).toBe(1);
    expect(append[0]!.meta.correlationId).toEqual(expect.any(String));
    expect(append.map((event) => event.meta.agent)).toEqual(append.map(() => 'tdd-implementer'));
    expect(events[3 + items.length]!.meta.correlationId).not.toBe(append[0]!.meta.correlationId);
    // Then a checkpoint, as every handoff takes one, holding what was carried.
    expect(events.at(-1)).toMatchObject({ type: 'CheckpointCreated', data: { reason: 'handoff:uuid-v4' } });
  });

  it('hands on what it carried: the next package the engine writes says the same', async () => {
    const engine = await freshEngine();
    const { session } = await acceptHandoffPackage(engine, copy());
    const next = buildHandoffPackage(session.state, {
      handoffId: 'h-2',
      fromAgent: 'tdd-implementer',
      toAgent: 'reviewer',
      createdAt: '2025-11-12T11:00:00Z',
      summary: 'Tests written.',
      contextWindow: 200_000,
    });
    expect(next.session_context).toMatchObject({ user_language: 'ko', expertise_level: 'intermediate', current_project: 'MoAI-ADK' });
    expect(next.task_context).toMatchObject({
      spec_id: 'SPEC-001',
      current_phase: 'implementation',
      completed_steps: ['spec_complete', 'architecture_defined'],
      next_step: 'write_tests',
      constraints: ['must_use_pytest', 'coverage_85'],
    });
  });

  it('goes into a session the log has, and refuses a package with problems, appending nothing', async () => {
    const engine = await freshEngine();
    const existing = await engine.startSession({ sessionId: 'sess_uuid', agent: 'spec-builder', model: 'claude-sonnet-4-5' });
    const before = existing.state.version;
    const bad = copy();
    delete bad['to_agent'];
    bad['task_context'].constraints = [''];
    const error = await acceptHandoffPackage(engine, bad).catch((e: unknown) => e);
    expect(isHandoffValidationError(error)).toBe(true);
    expect((error as Error).message).toMatch(/to_agent is missing.*task_context\.constraints\[0\]/);
    expect((await existing.refresh()).version).toBe(before);

    const accepted = await acceptHandoffPackage(engine, copy());
    expect(accepted.started).toBe(false);
    expect(accepted.session.state.session.agent).toBe('tdd-implementer');
    // The session keeps its own model: the package's is the sender's view of it.
    expect(accepted.session.state.session.model).toBe('claude-sonnet-4-5');
  });

  it("refuses a package for a session the log has when from_agent does not work it, appending nothing", async () => {
    const engine = await freshEngine();
    const existing = await engine.startSession({ sessionId: 'sess_uuid', agent: 'implementer', model: 'claude-sonnet-4-5' });
    const before = existing.state.version;
    const error = await acceptHandoffPackage(engine, copy()).catch((e: unknown) => e);
    expect(isCommandRejectedError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'Handoff uuid-v4 is from spec-builder, but session sess_uuid is worked by implementer: only the agent that works a session ' +
        'can hand it off (name another session, or have implementer make the package).',
    );
    const after = await existing.refresh();
    expect(after.version).toBe(before);
    expect(after.session.agent).toBe('implementer');
    expect(contextItemsInOrder(after.context)).toEqual([]);
    // From the agent that works it, the same package goes in.
    const fromHolder = { ...copy(), from_agent: 'implementer' };
    expect((await acceptHandoffPackage(engine, fromHolder)).session.state.session.agent).toBe('tdd-implementer');
  });

  it('refuses a package for a session that waits for another handoff, and still lets that one be accepted', async () => {
    const engine = await freshEngine();
    const existing = await engine.startSession({ sessionId: 'sess_uuid', agent: 'spec-builder', model: 'claude-sonnet-4-5' });
    await existing.requestHandoff({ handoffId: 'h-review', toAgent: 'reviewer', summary: 'Review the spec.' });
    const before = (await existing.refresh()).version;
    await expect(acceptHandoffPackage(engine, copy())).rejects.toThrow(
      'Session sess_uuid is being handed off by spec-builder to reviewer (handoff h-review): handoff uuid-v4 cannot take it over ' +
        'until reviewer accepts that one or it is rejected.',
    );
    expect((await existing.refresh()).version).toBe(before);
    await existing.acceptHandoff('h-review', 'reviewer');
    expect((await existing.refresh()).session.agent).toBe('reviewer');
  });

  it('starts no session when what goes in with the start is refused: the start and its commands are one append', async () => {
    const engine = await freshEngine();
    const refused = engine.startSession({
      sessionId: 'sess_uuid',
      agent: 'spec-builder',
      model: 'claude-sonnet-4-5',
      commands: [
        { type: 'AddTask', taskId: 't1', title: 'One' },
        { type: 'SendTaskEvent', taskId: 'missing', event: 'START' },
      ],
    });
    await expect(refused).rejects.toThrow(/missing/);
    expect(await engine.listSessions()).toEqual([]);
    expect(await engine.store.streamVersion('session-sess_uuid')).toBe(0);
    // A start inside the batch is refused too: only the first command may start the session.
    await expect(
      engine.startSession({
        sessionId: 'sess_uuid',
        agent: 'spec-builder',
        model: 'claude-sonnet-4-5',
        commands: [{ type: 'StartSession', sessionId: 'other', agent: 'a', model: 'claude-sonnet-4-5' }],
      }),
    ).rejects.toThrow('A batch cannot hold a StartSession');
    expect(await engine.listSessions()).toEqual([]);
  });

  it('refuses a package whose compressed critical_context cannot be read, before starting any session', async () => {
    const engine = await freshEngine();
    const damaged = copy();
    damaged['context_snapshot'].critical_context = { encoding: 'gzip+base64', chars: 10, data: 'bm90IGd6aXA=' };
    await expect(acceptHandoffPackage(engine, damaged)).rejects.toThrow(/context_snapshot\.critical_context cannot be uncompressed/);
    expect(await engine.listSessions()).toEqual([]);
  });

  it('says what is missing that the log cannot give: no session named, or no model for a new one', async () => {
    const engine = await freshEngine();
    const anonymous = copy();
    delete anonymous['session_context'].session_id;
    await expect(acceptHandoffPackage(engine, anonymous)).rejects.toThrow(/names no session \(session_context\.session_id\)/);
    const modelless = copy();
    delete modelless['session_context'].model;
    await expect(acceptHandoffPackage(engine, modelless)).rejects.toThrow(/names no model \(session_context\.model\)/);
    const accepted = await acceptHandoffPackage(engine, modelless, { model: 'claude-haiku-4-5' });
    expect(accepted.session.state.session.model).toBe('claude-haiku-4-5');
    expect(accepted.derived).toContainEqual(expect.stringMatching(/^session_context\.model is not given/));
  });
});

describe('moai-session handoff validate and accept --package', () => {
  it('refuses, exit 1 and nothing appended, a package whose sender does not work the session the log has', async () => {
    const cwd = await tempDir('moai-handoff-');
    try {
      const started = await runInProcess(['start', '--session', 'sess_uuid', '--agent', 'implementer', '--model', 'claude-sonnet-4-5'], cwd);
      expect(started.code).toBe(0);
      const log = (await runInProcess(['events'], cwd)).stdout;
      const intruder = { ...copy(), from_agent: 'nobody-here', to_agent: 'intruder' };
      const refused = await runInProcess(['handoff', 'accept', '--package', '-'], cwd, { stdin: JSON.stringify(intruder) });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain('Handoff uuid-v4 is from nobody-here, but session sess_uuid is worked by implementer');
      expect((await runInProcess(['events'], cwd)).stdout).toBe(log);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("validates the document's package, accepts it from standard input, and refuses one with problems (exit 1, nothing appended)", async () => {
    const cwd = await tempDir('moai-handoff-');
    try {
      const text = JSON.stringify(DOCUMENT_PACKAGE);
      const validated = await runInProcess(['handoff', 'validate', '-'], cwd, { stdin: text });
      expect(validated).toMatchObject({ code: 0, stderr: '' });
      expect(validated.stdout).toContain('Handoff uuid-v4 (stdin) is valid.');
      expect(validated.stdout).toContain('note: recovery_info.checkpoint_id is not given');

      const bad = copy();
      bad['session_context'].available_tokens = 'lots';
      const refused = await runInProcess(['handoff', 'accept', '--package', '-'], cwd, { stdin: JSON.stringify(bad) });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('session_context.available_tokens is "lots"');
      expect((await runInProcess(['events'], cwd)).stdout).toBe('');

      const accepted = await runInProcess(['handoff', 'accept', '--package', '-'], cwd, { stdin: text });
      expect(accepted).toMatchObject({ code: 0, stderr: '' });
      expect(accepted.stdout).toContain('tdd-implementer accepted handoff uuid-v4 (stdin) and now works session sess_uuid, started for it');
      expect(accepted.stdout).toContain('Recorded what it carried as context items: user_language, expertise_level, current_project, spec_id, next_step, must_use_pytest, coverage_85,');
      // The same handoff twice is refused: it was accepted once.
      const again = await runInProcess(['handoff', 'accept', '--package', '-'], cwd, { stdin: text });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('already has a handoff uuid-v4');
      expect((await runInProcess(['handoff', 'accept', 'sess_uuid'], cwd)).code).toBe(2);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('gives one verdict in validate and accept for a package with little free context: valid, with the note to compact', async () => {
    const cwd = await tempDir('moai-handoff-low-');
    try {
      const low = copy();
      low['session_context'].available_tokens = 1_000;
      const text = JSON.stringify(low);
      const note = 'The package says too little context is free: compact the session soon (`moai-session compact`).';
      const validated = await runInProcess(['handoff', 'validate', '-'], cwd, { stdin: text });
      expect(validated).toMatchObject({ code: 0, stderr: '' });
      expect(validated.stdout).toContain('Handoff uuid-v4 (stdin) is valid.');
      expect(validated.stdout).toContain(note);
      const json = await runInProcess(['handoff', 'validate', '-', '--json'], cwd, { stdin: text });
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ acceptable: true, needsCompaction: true });
      const accepted = await runInProcess(['handoff', 'accept', '--package', '-'], cwd, { stdin: text });
      expect(accepted).toMatchObject({ code: 0, stderr: '' });
      expect(accepted.stdout).toContain(note);
      // A package with another problem as well is still refused by both.
      const both = { ...low, to_agent: low['from_agent'] };
      const refused = await runInProcess(['handoff', 'validate', '-'], cwd, { stdin: JSON.stringify(both) });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('is not valid (2 problems: session_context.available_tokens, to_agent)');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
