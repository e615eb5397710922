// The session commands the hook (and the import, and the SDK adapter) is
// built on, run on an engine as any integration runs them: MoveTask and
// MoveTasks along the machine's legal paths, RecordToolFailure,
// RecordTranscriptRead, AddSessionAlias, and RunBatch's all-or-nothing.
import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryEventStore } from '../../../src/index.js';
import { executeSessionCommand, type SessionHandle } from '../../../src/engine/sessionHandle.js';
import type { SessionCommand } from '../../../src/engine/commands.js';
import { taskPath } from '../../../src/engine/decideIntake.js';
import { transitionTableFor, xstateTransitionTable } from '../../../src/engine/transitionTable.js';
import { sessionMachine } from '../../../machines/session.js';
import { taskLifecycleMachine } from '../../../machines/taskLifecycle.js';
import { isCommandRejectedError, isInvalidArgumentError } from '../../../src/errors.js';

async function session(): Promise<{ handle: SessionHandle; run: (command: SessionCommand) => Promise<string[]>; close: () => Promise<void> }> {
  const engine = await createEngine({ store: createMemoryEventStore() });
  const handle = await engine.startSession({ sessionId: 's', agent: 'claude-code', model: 'claude-sonnet-4-5' });
  const run = async (command: SessionCommand) => (await executeSessionCommand(handle, command)).map((e) => (e.type === 'TaskTransitioned' ? `${e.data.taskId}:${e.data.event}` : e.type));
  return { handle, run, close: () => engine.close() };
}

describe('the task paths', () => {
  const table = transitionTableFor(taskLifecycleMachine);
  it.each([
    ['pending', 'completed', ['START', 'COMPLETE']],
    ['blocked', 'completed', ['UNBLOCK', 'COMPLETE']],
    ['pending', 'failed', ['START', 'FAIL']],
    ['failed', 'in_progress', ['RECOVER', 'RESUME']],
    ['token_warning', 'in_progress', []],
    ['context_switch', 'in_progress', []],
    ['completed', 'completed', []],
  ])('takes a task from %s to %s by %j', (from, to, events) => {
    expect(taskPath(table, from, to)).toEqual(events);
  });

  it('has none back from a final state, nor towards pending', () => {
    expect(taskPath(table, 'completed', 'in_progress')).toBeUndefined();
    expect(taskPath(table, 'in_progress', 'pending')).toBeUndefined();
  });
});

describe("the tables read off the lifecycle machines' configs", () => {
  it.each([
    ['task', taskLifecycleMachine],
    ['session', sessionMachine],
  ] as const)("answer as XState's transition() does for every state and event of the %s machine", (_, machine) => {
    const fast = transitionTableFor(machine);
    const xstate = xstateTransitionTable(machine);
    expect(fast.initial).toBe(xstate.initial);
    for (const state of [...Object.keys(machine.config.states ?? {}), 'no-such-state']) {
      expect(fast.accepted(state), state).toEqual(xstate.accepted(state));
      for (const event of [...machine.events, 'NO_SUCH_EVENT']) expect(fast.next(state, event), `${state} ${event}`).toBe(xstate.next(state, event));
    }
  });
});

describe('MoveTask and MoveTasks', () => {
  it('adds a task it has never seen, then moves it along the legal path, each event with the tool call', async () => {
    const { run, handle, close } = await session();
    expect(await run({ type: 'MoveTask', taskId: 'task-1', to: 'completed', title: 'Ship', toolUseId: 'tu1' })).toEqual(['TaskAdded', 'task-1:START', 'task-1:COMPLETE']);
    expect(handle.state.tasks.byId.get('task-1')).toMatchObject({ state: 'completed', title: 'Ship' });
    expect(handle.state.ingest.recentToolUses).toEqual(['tu1']);
    await close();
  });

  it('moves nothing for a tool call it has recorded, or for a task already there or with no way there', async () => {
    const { run, close } = await session();
    await run({ type: 'MoveTasks', moves: [{ taskId: 'a', to: 'in_progress' }, { taskId: 'b', to: 'completed' }], toolUseId: 'tu1' });
    expect(await run({ type: 'MoveTasks', moves: [{ taskId: 'a', to: 'completed' }], toolUseId: 'tu1' })).toEqual([]);
    expect(await run({ type: 'MoveTasks', moves: [{ taskId: 'a', to: 'in_progress' }, { taskId: 'b', to: 'pending' }], toolUseId: 'tu2' })).toEqual([]);
    await close();
  });

  it('refuses a task id that is not an id, naming it', async () => {
    const { run, close } = await session();
    await expect(run({ type: 'MoveTask', taskId: 'has space', to: 'pending' })).rejects.toSatisfy((error: unknown) => isInvalidArgumentError(error) && /has space/.test((error as Error).message));
    await close();
  });
});

describe('RecordToolFailure', () => {
  it('counts a failure against the working task that moved last, without failing it', async () => {
    const { run, handle, close } = await session();
    await run({ type: 'MoveTasks', moves: [{ taskId: 'a', to: 'in_progress' }, { taskId: 'b', to: 'in_progress' }] });
    expect(await run({ type: 'RecordToolFailure', tool: 'Bash', error: 'Exit code 1', toolUseId: 'f1' })).toEqual(['ToolCallFailed']);
    expect(await run({ type: 'RecordToolFailure', tool: 'Bash', error: 'Exit code 1', toolUseId: 'f1' })).toEqual([]);
    expect(handle.state.ingest.toolFailures.b).toMatchObject({ count: 1, lastTool: 'Bash' });
    expect(handle.state.tasks.byId.get('b')?.state).toBe('in_progress');
    await close();
  });
});

describe('RecordTranscriptRead and AddSessionAlias', () => {
  const read = (offset: number): SessionCommand => ({ type: 'RecordTranscriptRead', file: 'main', path: '/t.jsonl', offset, line: 3, checkpoint: { offset }, open: [], recentKeys: ['k'] });

  it('records a cursor that moved, and nothing for one that did not', async () => {
    const { run, handle, close } = await session();
    expect(await run(read(120))).toEqual(['TranscriptRead']);
    expect(await run(read(120))).toEqual([]);
    expect(handle.state.ingest.transcripts.main?.offset).toBe(120);
    await expect(run(read(-1))).rejects.toSatisfy(isInvalidArgumentError);
    await close();
  });

  it('records an alias once, never the session id itself, and refuses one that is not one line', async () => {
    const { run, handle, close } = await session();
    expect(await run({ type: 'AddSessionAlias', alias: 'claude-123', source: 'claude-code' })).toEqual(['SessionAliasAdded']);
    expect(await run({ type: 'AddSessionAlias', alias: 'claude-123', source: 'claude-code' })).toEqual([]);
    expect(await run({ type: 'AddSessionAlias', alias: 's', source: 'claude-code' })).toEqual([]);
    await expect(run({ type: 'AddSessionAlias', alias: 'two\nlines', source: 'x' })).rejects.toSatisfy(isInvalidArgumentError);
    expect(handle.state.ingest.aliases).toEqual(['claude-123']);
    await close();
  });
});

describe('RunBatch', () => {
  it('appends all of a batch or none of it', async () => {
    const { run, handle, close } = await session();
    const before = handle.state.version;
    await expect(run({ type: 'RunBatch', commands: [{ type: 'MoveTask', taskId: 'a', to: 'pending' }, { type: 'SendTaskEvent', taskId: 'nope', event: 'START' }] })).rejects.toSatisfy(isCommandRejectedError);
    expect(handle.state.version).toBe(before);
    expect(await run({ type: 'RunBatch', skipRefused: true, commands: [{ type: 'MoveTask', taskId: 'a', to: 'pending' }, { type: 'SendTaskEvent', taskId: 'nope', event: 'START' }, { type: 'MoveTask', taskId: 'a', to: 'in_progress' }] })).toEqual(['TaskAdded', 'a:START']);
    await expect(run({ type: 'RunBatch', commands: [{ type: 'StartSession', sessionId: 'x', agent: 'a', model: 'm' }] })).rejects.toSatisfy(isCommandRejectedError);
    await close();
  });
});
