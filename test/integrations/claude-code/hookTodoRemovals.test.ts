import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runInProcess } from '../../cli/runInProcess.js';
import { fire, readSession, tempProject } from './hookHelpers.js';

const SID = '15151515-2222-3333-4444-555555555555';
const todoWrite = (todos: unknown[], toolUseId: string) => ({
  hook_event_name: 'PostToolUse',
  session_id: SID,
  cwd: '/tmp',
  tool_name: 'TodoWrite',
  tool_input: { todos },
  tool_use_id: toolUseId,
});

describe('hook: TodoWrite items dropped from the next list (review R36)', () => {
  const projects: Array<() => void> = [];
  afterEach(() => projects.splice(0).forEach((remove) => remove()));

  it('deletes the open items the new list lacks, with the tool call; a completed one stays', async () => {
    const project = tempProject();
    projects.push(project.remove);
    await fire(project.dir, todoWrite([
      { content: 'Plan A', status: 'in_progress', activeForm: 'Planning A' },
      { content: 'Do B', status: 'pending', activeForm: 'Doing B' },
      { content: 'Done C', status: 'completed', activeForm: 'Doing C' },
    ], 'w1'));
    await fire(project.dir, todoWrite([{ content: 'New plan X', status: 'in_progress', activeForm: 'X' }], 'w2'));
    const context = await fire(project.dir, { hook_event_name: 'SessionStart', session_id: SID, cwd: '/tmp', source: 'compact' });
    const { events, view } = await readSession(project.dir, SID);
    const titles = [...view!.tasks.byId.values()].map((task) => `${task.title}:${task.state}`).sort();
    expect(titles).toEqual(['Done C:completed', 'New plan X:in_progress']);
    const deleted = events.filter((event) => event.type === 'TaskDeleted');
    expect(deleted.map((event) => [event.data.state, event.data.toolUseId])).toEqual([['in_progress', 'w2'], ['pending', 'w2']]);
    expect(context.stdout).toContain('New plan X');
    expect(context.stdout).not.toContain('Plan A');
    expect(context.stdout).not.toContain('Do B');
    // The same list again records nothing more.
    await fire(project.dir, todoWrite([{ content: 'New plan X', status: 'in_progress', activeForm: 'X' }], 'w3'));
    expect((await readSession(project.dir, SID)).events.filter((event) => event.type === 'TaskDeleted')).toHaveLength(2);
  });
});

describe('hook: an empty TodoWrite list (review R36)', () => {
  it('deletes every open item', async () => {
    const project = tempProject();
    try {
      await fire(project.dir, todoWrite([{ content: 'Plan A', status: 'in_progress', activeForm: 'A' }, { content: 'Done C', status: 'completed', activeForm: 'C' }], 'e1'));
      await fire(project.dir, todoWrite([], 'e2'));
      const { events, view } = await readSession(project.dir, SID);
      expect([...view!.tasks.byId.values()].map((task) => `${task.title}:${task.state}`)).toEqual(['Done C:completed']);
      expect(events.filter((event) => event.type === 'TaskDeleted').map((event) => event.data.toolUseId)).toEqual(['e2']);
    } finally {
      project.remove();
    }
  });
});

describe('import: TodoWrite items dropped from the next list (review R36)', () => {
  it('deletes them as the hook does', async () => {
    const project = tempProject('moai-import-todo-');
    try {
      const sessionId = 'cccccccc-1111-4222-8333-eeeeeeeeeeee';
      const envelope = (extra: Record<string, unknown>) => JSON.stringify({ sessionId, timestamp: '2026-03-01T10:00:00.000Z', ...extra });
      const todoUse = (uuid: string, id: string, toolUseId: string, todos: unknown[]) =>
        envelope({ type: 'assistant', uuid, message: { id, model: 'claude-sonnet-4-5', usage: { input_tokens: 1, output_tokens: 1 }, content: [{ type: 'tool_use', id: toolUseId, name: 'TodoWrite', input: { todos } }] } });
      const lines = [
        envelope({ type: 'user', uuid: 'u1', parentUuid: null, message: { role: 'user', content: 'hi' } }),
        todoUse('a1', 'm1', 't1', [{ content: 'Plan A', status: 'in_progress' }, { content: 'Do B', status: 'pending' }]),
        todoUse('a2', 'm2', 't2', [{ content: 'New plan X', status: 'in_progress' }]),
      ];
      const file = join(project.root, `${sessionId}.jsonl`);
      writeFileSync(file, lines.join('\n') + '\n');
      const past = new Date(Date.now() - 3_600_000);
      utimesSync(file, past, past);
      const result = await runInProcess(['--dir', project.dir, 'import', 'claude-code', file], project.root, {});
      expect(result.code).toBe(0);
      const { events, view } = await readSession(project.dir, sessionId);
      expect([...view!.tasks.byId.values()].map((task) => `${task.title}:${task.state}`)).toEqual(['New plan X:in_progress']);
      expect(events.filter((event) => event.type === 'TaskDeleted').map((event) => [event.data.state, event.data.toolUseId])).toEqual([['in_progress', 't2'], ['pending', 't2']]);
    } finally {
      project.remove();
    }
  });
});
