// The hook's mapping table, one test per event and tool: real payloads from
// the fixtures, payloads built from the real transcripts, and payloads that
// lack fields or carry unknown ones. The hook runs in this process here; the
// parallel and spool tests (hookParallel.test.ts) run it as real processes.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HOOK_FIXTURES, TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';
import { HOOK_EVENT_RULES, recordsNothing, ruleOf } from '../../../src/integrations/claude-code/hookMapping.js';
import { readHookLog } from '../../../src/integrations/claude-code/hookLog.js';
import { ADDITIONAL_CONTEXT_MAX } from '../../../src/integrations/claude-code/runHook.js';
import { base, fire, readSession, sessionIds, tempProject } from './hookHelpers.js';
import { plainSummary } from './transcriptPlainReader.js';
import { openStateFolder } from '../../../src/runtime/openStateFolder.js';

const TOOL_HEAVY = join(TRANSCRIPT_FIXTURES, 'spotter-tool-heavy', 'tool_heavy.jsonl');
const MANUAL_COMPACT = join(TRANSCRIPT_FIXTURES, 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
const INLINE_SIDECHAIN = join(TRANSCRIPT_FIXTURES, 'ccviewer-inline-sidechain', '5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl');

/** Every event HOOKS.md lists: its per-event table and the SDK's HOOK_EVENTS (33 names). */
const HOOKS_MD_EVENTS = [
  'SessionStart', 'PreCompact', 'PostCompact', 'Stop', 'SubagentStop', 'SubagentStart', 'UserPromptSubmit', 'PreToolUse',
  'PostToolUse', 'PostToolUseFailure', 'SessionEnd', 'Notification', 'PermissionRequest', 'StopFailure', 'PostToolBatch',
  'UserPromptExpansion', 'PreModelSwitch', 'PostModelSwitch', 'PermissionDenied', 'Setup', 'TeammateIdle', 'TaskCreated',
  'TaskCompleted', 'Elicitation', 'ElicitationResult', 'ConfigChange', 'WorktreeCreate', 'WorktreeRemove', 'InstructionsLoaded',
  'CwdChanged', 'FileChanged', 'DirectoryAdded', 'MessageDisplay',
];

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

/** A project with a copy of a transcript fixture (so the hook reads a file it may also grow). */
function project(transcript?: string): { dir: string; root: string; transcript: string } {
  const made = tempProject();
  cleanups.push(made.remove);
  const copy = join(made.root, 'transcript.jsonl');
  if (transcript !== undefined) copyFileSync(transcript, copy);
  return { dir: made.dir, root: made.root, transcript: copy };
}

const errorsIn = (dir: string) => readHookLog(dir).filter((entry) => entry.level === 'error');
const typesOf = (events: { type: string }[]) => events.map((event) => event.type);

describe('the mapping table', () => {
  it('has a rule for every event HOOKS.md lists', () => {
    expect(HOOKS_MD_EVENTS).toHaveLength(33);
    for (const event of HOOKS_MD_EVENTS) expect(Object.keys(HOOK_EVENT_RULES), event).toContain(event);
  });

  it('is the table docs/claude-code.md shows, row for row', () => {
    const docs = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'claude-code.md'), 'utf8');
    const rows = new Map<string, string>();
    for (const match of docs.matchAll(/^\| `([A-Za-z]+)` \| (.+) \|$/gm)) rows.set(match[1]!, match[2]!);
    for (const [event, rule] of Object.entries(HOOK_EVENT_RULES)) expect(rows.get(event), event).toBe(rule.records);
    expect([...rows.keys()].sort()).toEqual(Object.keys(HOOK_EVENT_RULES).sort());
  });

  it('takes an event it does not know as one to ignore', () => {
    expect(recordsNothing(ruleOf('SomethingNewIn2027'))).toBe(true);
    expect(recordsNothing(ruleOf('PostToolUse'))).toBe(false);
  });
});

describe('the real hook payloads of the fixtures', () => {
  const fixture = (name: string) => JSON.parse(readFileSync(join(HOOK_FIXTURES, name), 'utf8')) as Record<string, unknown>[];

  it('starts a session for each SessionStart and prints its context as Claude Code reads it', async () => {
    const { dir } = project();
    const payloads = fixture('session_start.json');
    for (const payload of payloads) {
      const result = await fire(dir, payload);
      const output = JSON.parse(result.stdout) as { hookSpecificOutput: { hookEventName: string; additionalContext: string } };
      expect(output.hookSpecificOutput.hookEventName).toBe('SessionStart');
      expect(output.hookSpecificOutput.additionalContext).toMatch(new RegExp(`^Session ${payload.session_id as string}[: ]`));
    }
    expect(await sessionIds(dir)).toEqual([...new Set(payloads.map((p) => p.session_id as string))].sort());
    // No model in these 2025 payloads and no transcript on this machine: the session waits for its first call's model.
    expect((await readSession(dir, '6706089d-9d7e-4f48-bd2d-8f2a2546eb78')).view!.session.model).toBe('unknown');
    // Not even a warning: a session with no model yet is expected, not a problem to report.
    expect(readHookLog(dir)).toEqual([]);
  });

  it('records nothing for Notification payloads, and does not even create the state folder', async () => {
    const { dir } = project();
    for (const payload of fixture('notification.json')) expect((await fire(dir, payload)).stdout).toBe('');
    expect(existsSync(join(dir, 'events'))).toBe(false);
  });

  for (const name of ['stop.json', 'subagent_stop.json', 'user_prompt_submit.json', 'pre_compact.json']) {
    it(`takes every payload of ${name} (transcripts absent here) without an error, printing nothing`, async () => {
      const { dir } = project();
      const payloads = fixture(name);
      for (const payload of payloads) expect((await fire(dir, payload)).stdout).toBe('');
      expect(await sessionIds(dir)).toEqual([...new Set(payloads.map((p) => p.session_id as string))].sort());
      expect(errorsIn(dir)).toEqual([]);
      for (const id of await sessionIds(dir)) {
        const { events } = await readSession(dir, id);
        expect(typesOf(events)).toEqual(['SessionStarted']);
      }
    });
  }
});

describe('SessionStart', () => {
  it('starts the session on the payload model and records the transcript calls completed so far', async () => {
    const { dir, transcript } = project(TOOL_HEAVY);
    const result = await fire(dir, { ...base('s1', transcript, 'SessionStart'), source: 'startup', model: 'claude-opus-4-6' });
    const context = JSON.parse(result.stdout).hookSpecificOutput.additionalContext as string;
    expect(context.length).toBeLessThanOrEqual(ADDITIONAL_CONTEXT_MAX);
    const { view, events } = await readSession(dir, 's1');
    expect(view!.session.model).toBe('claude-opus-4-6');
    // Not flushed: the last call may still get lines, so it waits for the next read.
    const expected = plainSummary(TOOL_HEAVY).apiCalls - 1;
    expect(events.filter((e) => e.type === 'TokenUsageRecorded')).toHaveLength(expected);
  });

  it('resumes an existing session once for the same payload fired twice', async () => {
    const { dir, transcript } = project(TOOL_HEAVY);
    await fire(dir, { ...base('s1', transcript, 'SessionStart'), source: 'startup' });
    const resume = { ...base('s1', transcript, 'SessionStart'), source: 'resume' };
    await fire(dir, resume);
    await fire(dir, resume);
    const { events } = await readSession(dir, 's1');
    expect(typesOf(events).filter((t) => t === 'SessionResumed')).toHaveLength(1);
  });

  it('forks the session a forked transcript came from, under the new id', async () => {
    const { dir, transcript } = project(TOOL_HEAVY);
    const parent = plainSummary(TOOL_HEAVY).sessionId;
    await fire(dir, { ...base(parent, transcript, 'Stop') });
    await fire(dir, { ...base('fork-1', transcript, 'SessionStart'), source: 'fork' });
    const { events } = await readSession(dir, 'fork-1');
    expect(events[0]!.type).toBe('SessionForked');
    expect(events[0]!.data).toMatchObject({ parentSessionId: parent });
  });

  it('goes on in a fork of an ended session that Claude Code resumes, known by the Claude Code id', async () => {
    const { dir, transcript } = project(TOOL_HEAVY);
    await fire(dir, { ...base('s1', transcript, 'SessionStart'), source: 'startup' });
    await fire(dir, { ...base('s1', transcript, 'SessionEnd'), reason: 'prompt_input_exit' });
    await fire(dir, { ...base('s1', transcript, 'SessionStart'), source: 'resume' });
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskCreate', tool_use_id: 'tu-1', tool_input: { subject: 'Go on' }, tool_response: { task: { id: '1', subject: 'Go on' } } });
    expect(await sessionIds(dir)).toEqual(['s1', 's1.2']);
    const next = await readSession(dir, 's1.2');
    expect(next.view!.ingest.aliases).toEqual(['s1']);
    expect(next.view!.tasks.byId.get('task-1')?.title).toBe('Go on');
    // The alias index is a cache: without it the continuation is still found by its name.
    rmSync(join(dir, 'cache', 'claude-code'), { recursive: true, force: true });
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskCreate', tool_use_id: 'tu-2', tool_input: { subject: 'Then' }, tool_response: { task: { id: '2', subject: 'Then' } } });
    expect(await sessionIds(dir)).toEqual(['s1', 's1.2']);
    expect((await readSession(dir, 's1.2')).view!.tasks.byId.get('task-2')?.title).toBe('Then');
  });
});

describe('PostToolUse of the task tools', () => {
  const todo = (sessionId: string, transcript: string, id: string, todos: { content: string; status: string }[]) => ({
    ...base(sessionId, transcript, 'PostToolUse'),
    tool_name: 'TodoWrite',
    tool_use_id: id,
    tool_input: { todos: todos.map((t) => ({ ...t, activeForm: t.content })) },
    tool_response: { oldTodos: [], newTodos: todos.map((t) => ({ ...t, activeForm: t.content })) },
  });

  it('TodoWrite: a task that goes from pending to completed takes START then COMPLETE, each with the tool call', async () => {
    const { dir, transcript } = project();
    await fire(dir, todo('s1', transcript, 'tu-a', [{ content: 'Write the spec', status: 'pending' }]));
    await fire(dir, todo('s1', transcript, 'tu-b', [{ content: 'Write the spec', status: 'completed' }]));
    const { events, view } = await readSession(dir, 's1');
    const moves = events.filter((e) => e.type === 'TaskTransitioned').map((e) => [e.data.event, e.data.toolUseId]);
    expect(moves).toEqual([['START', 'tu-b'], ['COMPLETE', 'tu-b']]);
    expect([...view!.tasks.byId.values()].map((t) => [t.title, t.state])).toEqual([['Write the spec', 'completed']]);
  });

  it('TodoWrite: an item without usable content (none, empty, blank) makes no task and is logged as skipped', async () => {
    const { dir, transcript } = project();
    const todos = [{ content: 'A', status: 'in_progress' }, { status: 'weird' }, { content: '', status: 'pending' }, { content: '  ', status: 'pending' }];
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TodoWrite', tool_use_id: 't2', tool_input: { todos } });
    const { view, events } = await readSession(dir, 's1');
    expect([...view!.tasks.byId.values()].map((t) => [t.taskId, t.state])).toEqual([['todo-A', 'in_progress']]);
    expect(events.filter((e) => e.type === 'TaskAdded')).toHaveLength(1);
    const warnings = readHookLog(dir).filter((entry) => entry.level === 'warn').map((entry) => entry.message);
    expect(warnings).toEqual(['TodoWrite: 3 items without usable content skipped (no task made of them)']);
    expect(errorsIn(dir)).toEqual([]);
  });

  it('records nothing twice for the same payload twice', async () => {
    const { dir, transcript } = project();
    const payload = todo('s1', transcript, 'tu-a', [{ content: 'A', status: 'in_progress' }, { content: 'B', status: 'pending' }]);
    await fire(dir, payload);
    const once = (await readSession(dir, 's1')).events.length;
    await fire(dir, payload);
    expect((await readSession(dir, 's1')).events.length).toBe(once);
  });

  it('TaskCreate names the task by the id in its result; TaskUpdate of a task never seen adds it first', async () => {
    const { dir, transcript } = project();
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskCreate', tool_use_id: 'c1', tool_input: { subject: 'Parse', description: 'd', activeForm: 'Parsing' }, tool_response: { task: { id: '3', subject: 'Parse' } } });
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskUpdate', tool_use_id: 'u1', tool_input: { taskId: '3', status: 'completed' }, tool_response: { success: true, taskId: '3', updatedFields: ['status'], statusChange: { from: 'pending', to: 'completed' } } });
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskUpdate', tool_use_id: 'u2', tool_input: { taskId: '79', status: 'in_progress' }, tool_response: { success: true, taskId: '79', statusChange: { from: 'pending', to: 'in_progress' } } });
    const { view, events } = await readSession(dir, 's1');
    expect([...view!.tasks.byId.values()].map((t) => [t.taskId, t.title, t.state])).toEqual([
      ['task-3', 'Parse', 'completed'],
      ['task-79', 'Task 79', 'in_progress'],
    ]);
    expect(events.filter((e) => e.type === 'TaskAdded').map((e) => e.data.toolUseId)).toEqual(['c1', 'u2']);
  });

  it("TaskUpdate 'deleted': the task leaves the session's tasks without failing (no FAIL, no failure checkpoint), and recover does not bring it back", async () => {
    const { dir, transcript } = project();
    const update = (id: string, taskId: string, status: string) => ({ ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskUpdate', tool_use_id: id, tool_input: { taskId, status }, tool_response: { success: true } });
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskCreate', tool_use_id: 'c1', tool_input: { subject: 'Parse' }, tool_response: { task: { id: '3' } } });
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskCreate', tool_use_id: 'c2', tool_input: { subject: 'Keep' }, tool_response: { task: { id: '4' } } });
    await fire(dir, update('u1', '3', 'in_progress'));
    await fire(dir, update('u2', '3', 'deleted'));
    await fire(dir, update('u2', '3', 'deleted')); // the same payload again
    const { events, view } = await readSession(dir, 's1');
    expect(typesOf(events)).toEqual(['SessionStarted', 'TaskAdded', 'TaskAdded', 'TaskTransitioned', 'TaskDeleted']);
    expect(events[4]!.data).toEqual({ taskId: 'task-3', state: 'in_progress', toolUseId: 'u2' });
    expect(events.some((e) => e.type === 'TaskTransitioned' && e.data.event === 'FAIL')).toBe(false);
    expect([...view!.tasks.byId.keys()]).toEqual(['task-4']);
    expect(view!.tasks.order.toArray()).toEqual(['task-4']);
    expect(view!.checkpoints.all.toArray().map((c) => c.reason)).toEqual([]);
    // recover: nothing failed, nothing comes back.
    const folder = await openStateFolder({ dir, mode: 'write' });
    try {
      const { handle, report } = await folder.engine.recover('s1');
      expect(report.recoveredTasks).toEqual([]);
      expect([...handle.state.tasks.byId.keys()]).toEqual(['task-4']);
    } finally {
      await folder.close();
    }
    expect(errorsIn(dir)).toEqual([]);
  });

  it("TaskUpdate 'deleted' of a task never seen creates nothing", async () => {
    const { dir, transcript } = project();
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskUpdate', tool_use_id: 't3', tool_input: { taskId: '99', status: 'deleted' }, tool_response: { success: true } });
    const { events, view } = await readSession(dir, 's1');
    expect(typesOf(events)).toEqual(['SessionStarted']);
    expect(view!.tasks.byId.size).toBe(0);
  });

  it('takes a status it does not know as data: the task is known, not moved, and nothing is logged as an error', async () => {
    const { dir, transcript } = project();
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskUpdate', tool_use_id: 'u1', tool_input: { taskId: 5, status: 'archived' }, tool_response: { success: true } });
    const { view } = await readSession(dir, 's1');
    expect(view!.tasks.byId.get('task-5')?.state).toBe('pending');
    expect(errorsIn(dir)).toEqual([]);
  });

  it('Task: an async launch starts the subagent task, SubagentStop completes it and records its transcript as sidechain usage', async () => {
    const { dir, transcript, root } = project();
    const agentFile = join(root, 'agent-a1.jsonl');
    copyFileSync(TOOL_HEAVY, agentFile);
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'Task', tool_use_id: 'tk1', tool_input: { description: 'Explore the repo', prompt: 'p', subagent_type: 'Explore' }, tool_response: { isAsync: true, status: 'async_launched', agentId: 'a1' } });
    expect((await readSession(dir, 's1')).view!.tasks.byId.get('agent-a1')?.state).toBe('in_progress');
    await fire(dir, { ...base('s1', transcript, 'SubagentStop'), stop_hook_active: false, agent_id: 'a1', agent_type: 'Explore', agent_transcript_path: agentFile });
    const { view, events } = await readSession(dir, 's1');
    expect(view!.tasks.byId.get('agent-a1')).toMatchObject({ state: 'completed', title: 'Explore the repo' });
    const usage = events.filter((e) => e.type === 'TokenUsageRecorded');
    const plain = plainSummary(TOOL_HEAVY);
    expect(usage).toHaveLength(plain.apiCalls);
    expect(usage.every((e) => e.data.main === false && e.data.agentId === 'a1')).toBe(true);
    expect(view!.tokens.contextTokens).toBe(0); // a subagent fills its own context, not the session's
  });

  it("leaves the session's tasks alone for a task tool fired inside a subagent (its list is its own)", async () => {
    const { dir, transcript } = project();
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), agent_id: 'a9', agent_type: 'Explore', tool_name: 'TodoWrite', tool_use_id: 'sub1', tool_input: { todos: [{ content: 'Subagent step', status: 'in_progress', activeForm: 'x' }] } });
    const { view } = await readSession(dir, 's1');
    expect(view!.tasks.byId.size).toBe(0);
  });

  it('ignores other tools beyond reading the transcript, and tool fields of the wrong type', async () => {
    const { dir, transcript } = project();
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'Bash', tool_use_id: 'b1', tool_input: { command: 'ls' }, tool_response: { stdout: '' } });
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TodoWrite', tool_input: 'not an object', tool_response: 5, extra: { new: true } });
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskUpdate', tool_input: {}, tool_response: null });
    const { events } = await readSession(dir, 's1');
    expect(typesOf(events)).toEqual(['SessionStarted']);
    expect(errorsIn(dir)).toEqual([]);
  });
});

describe('the other events', () => {
  it('PostToolUseFailure: a failure against the task in progress, which stays in progress; once for the same payload twice', async () => {
    const { dir, transcript } = project();
    await fire(dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskUpdate', tool_use_id: 'u1', tool_input: { taskId: '1', status: 'in_progress' }, tool_response: { taskId: '1', statusChange: { from: 'pending', to: 'in_progress' } } });
    const failure = { ...base('s1', transcript, 'PostToolUseFailure'), tool_name: 'Bash', tool_use_id: 'f1', tool_input: { command: 'nope' }, error: 'Exit code 127\nnope: not found', is_interrupt: false, timestamp: 'x', raw_input: {} };
    await fire(dir, failure);
    await fire(dir, failure);
    const { view, events } = await readSession(dir, 's1');
    const failed = events.filter((e) => e.type === 'ToolCallFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({ tool: 'Bash', taskId: 'task-1', toolUseId: 'f1', interrupted: false });
    expect(view!.tasks.byId.get('task-1')?.state).toBe('in_progress');
  });

  it('PreCompact then SessionStart compact: one ContextCompacted with the trigger and the tokens before, from the compact_boundary', async () => {
    const { dir, transcript } = project(MANUAL_COMPACT);
    const plain = plainSummary(MANUAL_COMPACT);
    const id = plain.sessionId;
    await fire(dir, { ...base(id, transcript, 'PreCompact'), trigger: 'manual', custom_instructions: '' });
    await fire(dir, { ...base(id, transcript, 'SessionStart'), source: 'compact' });
    await fire(dir, { ...base(id, transcript, 'SessionStart'), source: 'compact' });
    const { events, view } = await readSession(dir, id);
    const compacted = events.filter((e) => e.type === 'ContextCompacted');
    expect(compacted.map((e) => [e.data.trigger, e.data.tokensBefore])).toEqual(plain.compactions.map((c) => [c.trigger, c.preTokens]));
    expect(view!.context.byTag.has('compaction-summary')).toBe(plain.compactSummaries.length > 0);
  });

  it('PostCompact keeps compact_summary as the compaction-summary context item, once', async () => {
    const { dir, transcript } = project();
    const payload = { ...base('s1', transcript, 'PostCompact'), trigger: 'auto', compact_summary: 'We parsed the logs; next: the report.' };
    await fire(dir, payload);
    await fire(dir, payload);
    const { view, events } = await readSession(dir, 's1');
    expect(events.filter((e) => e.type === 'ContextItemRecorded')).toHaveLength(1);
    const itemId = view!.context.byTag.get('compaction-summary')!;
    expect(view!.context.items.get(itemId)?.text).toBe('We parsed the logs; next: the report.');
  });

  it('Stop reads the transcript to its end: every call once, the largest line of a split reply', async () => {
    for (const path of [TOOL_HEAVY, MANUAL_COMPACT, INLINE_SIDECHAIN]) {
      const { dir, transcript } = project(path);
      const plain = plainSummary(path);
      await fire(dir, { ...base(plain.sessionId, transcript, 'Stop'), stop_hook_active: false });
      await fire(dir, { ...base(plain.sessionId, transcript, 'Stop'), stop_hook_active: false });
      const { view, events } = await readSession(dir, plain.sessionId);
      expect(events.filter((e) => e.type === 'TokenUsageRecorded'), path).toHaveLength(plain.apiCalls);
      const spend = view!.tokens.spend;
      expect([spend.inputTokens, spend.outputTokens, spend.cacheCreationInputTokens, spend.cacheReadInputTokens]).toEqual([
        plain.tokens.input,
        plain.tokens.output,
        plain.tokens.cacheCreation,
        plain.tokens.cacheRead,
      ]);
      expect(view!.tokens.contextTokens).toBe(plain.finalContextTokens);
    }
  });

  it('SessionEnd ends the session with its reason; what comes after for it is accepted and records nothing', async () => {
    const { dir, transcript } = project(TOOL_HEAVY);
    await fire(dir, { ...base('s1', transcript, 'SessionEnd'), reason: 'clear' });
    await fire(dir, { ...base('s1', transcript, 'Stop'), stop_hook_active: false });
    const { view, events } = await readSession(dir, 's1');
    expect(view!.session.status).toBe('ended');
    expect(view!.session.endReason).toBe('claude-code: clear');
    expect(typesOf(events).at(-1)).toBe('SessionEnded');
  });

  it('SubagentStart adds and starts the subagent task; TaskCreated and TaskCompleted move team tasks', async () => {
    const { dir, transcript } = project();
    await fire(dir, { ...base('s1', transcript, 'SubagentStart'), agent_id: 'b7', agent_type: 'Plan' });
    await fire(dir, { ...base('s1', transcript, 'TaskCreated'), task_id: '12', task_subject: 'Review', teammate_name: 'x' });
    await fire(dir, { ...base('s1', transcript, 'TaskCompleted'), task_id: '12', task_subject: 'Review' });
    await fire(dir, { ...base('s1', transcript, 'TaskCompleted'), task_id: '12', task_subject: 'Review' });
    const { view, events } = await readSession(dir, 's1');
    expect(view!.tasks.byId.get('agent-b7')).toMatchObject({ state: 'in_progress', title: 'Plan subagent', assignee: 'b7' });
    expect(view!.tasks.byId.get('task-12')?.state).toBe('completed');
    expect(events.filter((e) => e.type === 'TaskTransitioned' && e.data.taskId === 'task-12').map((e) => (e.data as { event: string }).event)).toEqual(['START', 'COMPLETE']);
  });

  it('PostModelSwitch switches the model', async () => {
    const { dir, transcript } = project();
    await fire(dir, { ...base('s1', transcript, 'SessionStart'), source: 'startup', model: 'claude-sonnet-4-5' });
    await fire(dir, { ...base('s1', transcript, 'PostModelSwitch'), from_model: 'claude-sonnet-4-5', to_model: 'claude-opus-4-6', requested: 'opus' });
    expect((await readSession(dir, 's1')).view!.session.model).toBe('claude-opus-4-6');
  });

  it('accepts every ignored event and an unknown one, printing nothing and recording nothing', async () => {
    const { dir, transcript } = project(TOOL_HEAVY);
    await fire(dir, { ...base('s1', transcript, 'SessionStart'), source: 'startup' });
    const before = (await readSession(dir, 's1')).events.length;
    const ignoredEvents = [...Object.keys(HOOK_EVENT_RULES).filter((e) => recordsNothing(ruleOf(e))), 'BrandNewEvent2027', ''];
    expect(ignoredEvents.length).toBeGreaterThan(15);
    for (const event of ignoredEvents) expect((await fire(dir, { ...base('s1', transcript, event), whatever: [1, 2] })).stdout).toBe('');
    expect((await readSession(dir, 's1')).events.length).toBe(before);
    expect(errorsIn(dir)).toEqual([]);
  });
});

describe('payloads that lack fields', () => {
  it('takes every event of the table with nothing but a session id and its name, logging no error', async () => {
    const { dir } = project();
    for (const event of Object.keys(HOOK_EVENT_RULES)) {
      const result = await fire(dir, { session_id: 'bare', hook_event_name: event });
      if (event === 'SessionStart') expect(JSON.parse(result.stdout).hookSpecificOutput.hookEventName).toBe('SessionStart');
      else expect(result.stdout, event).toBe('');
    }
    expect(errorsIn(dir)).toEqual([]);
    const { events, view } = await readSession(dir, 'bare');
    // Started once; nothing the missing fields would have named (no task, agent, model, failure text) was made up, and SessionEnd ended it, after its checkpoint.
    expect(typesOf(events)).toEqual(['SessionStarted', 'ToolCallFailed', 'CheckpointCreated', 'SessionEnded']);
    expect(events[1]!.data).toEqual({ tool: 'unknown', error: 'the tool failed' });
    expect(view!.session.endReason).toBe('claude-code: session ended');
  });
});

describe('what is not a payload', () => {
  it('logs input that is not a JSON object and prints nothing', async () => {
    const { dir } = project();
    for (const text of ['', 'not json', '[1,2]', 'null', '{"session_id": "s1", "hook_event_name": "Stop"']) expect((await fire(dir, text)).stdout).toBe('');
    const errors = errorsIn(dir);
    expect(errors).toHaveLength(5);
    expect(errors[1]!.message).toMatch(/not JSON/);
    expect(errors[2]!.message).toMatch(/not an object \(an array\)/);
  });

  it('logs a payload without a usable session id and records nothing', async () => {
    const { dir } = project();
    await fire(dir, { hook_event_name: 'Stop' });
    await fire(dir, { hook_event_name: 'Stop', session_id: 'has spaces/and slashes' });
    expect(readHookLog(dir).map((entry) => entry.level)).toEqual(['warn', 'warn']);
    expect(readdirSync(join(dir, 'spool', 'claude-code')).filter((n) => n.endsWith('.json'))).toEqual([]);
  });

  it('records what a payload says when its transcript cannot be read (a folder: EISDIR), and logs that as a warning', async () => {
    const { dir, root } = project();
    const folder = join(root, 'not-a-file');
    mkdirSync(folder);
    const started = await fire(dir, { ...base('s1', folder, 'SessionStart'), source: 'startup', model: 'claude-opus-4-6' });
    expect(JSON.parse(started.stdout).hookSpecificOutput.additionalContext).toContain('s1');
    await fire(dir, { ...base('s1', folder, 'PostToolUse'), tool_name: 'TaskCreate', tool_use_id: 'c1', tool_input: { subject: 'Parse' }, tool_response: { task: { id: '3' } } });
    // An unknown id resuming: the transcript would name the session it came from.
    await fire(dir, { ...base('s2', folder, 'SessionStart'), source: 'resume' });
    await fire(dir, { ...base('s1', folder, 'SessionEnd'), reason: 'logout' });
    const { events, view } = await readSession(dir, 's1');
    expect(typesOf(events).filter((t) => t !== 'CheckpointCreated')).toEqual(['SessionStarted', 'TaskAdded', 'SessionEnded']);
    expect(view!.tasks.byId.get('task-3')?.title).toBe('Parse');
    expect(await sessionIds(dir)).toEqual(['s1', 's2']);
    expect(errorsIn(dir)).toEqual([]);
    const warnings = readHookLog(dir).filter((entry) => entry.level === 'warn').map((entry) => entry.message);
    expect(warnings.length).toBeGreaterThanOrEqual(4);
    expect(warnings.every((message) => message.startsWith(`${folder} could not be read (EISDIR`))).toBe(true);
    expect(existsSync(join(dir, 'spool', 'claude-code', 'failed'))).toBe(false);
  });

  it('writes nothing to a transcript it reads', async () => {
    const { dir, transcript } = project(TOOL_HEAVY);
    const before = readFileSync(transcript);
    await fire(dir, { ...base('s1', transcript, 'Stop') });
    expect(readFileSync(transcript).equals(before)).toBe(true);
  });
});
