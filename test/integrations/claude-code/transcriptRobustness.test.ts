// What real files from other machines will do: a damaged line in the middle,
// a last line still being written, a file that grows between reads, record
// types and fields never seen before, fields missing.

import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';
import {
  digestTranscriptSync,
  scanTranscript,
  scanTranscriptSync,
  summariseDigests,
  summariseTranscripts,
  type TranscriptCheckpoint,
  type TranscriptRecord,
} from '../../../src/integrations/claude-code/transcript/index.js';

const FIXTURES = TRANSCRIPT_FIXTURES;
const MANUAL_COMPACT = join(FIXTURES, 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
const TOOL_HEAVY = join(FIXTURES, 'spotter-tool-heavy', 'tool_heavy.jsonl');

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const tempFile = (name: string, text: string): string => {
  const dir = mkdtempSync(join(tmpdir(), 'moai-transcript-'));
  tempDirs.push(dir);
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const linesOf = (path: string): string[] => readFileSync(path, 'utf8').split('\n').slice(0, -1);
/** The kinds of the records, session-info left out (it comes first and whenever the session fields change). */
const kinds = (records: TranscriptRecord[]): string[] => records.map((record) => record.kind).filter((kind) => kind !== 'session-info');
/** The checkpoint of a scan's end record. */
function checkpointOf(records: TranscriptRecord[]): TranscriptCheckpoint {
  const end = records.at(-1);
  if (end?.kind !== 'end') throw new Error('the scan did not end with an end record');
  return end.checkpoint;
}
const callsOf = (records: TranscriptRecord[]) => records.filter((record) => record.kind === 'api-call');
const skippedOf = (records: TranscriptRecord[]) => records.filter((record) => record.kind === 'skipped');

/** An assistant line in the 2.1.39 layout. */
function assistantLine(fields: { id?: string; requestId?: string; usage?: Record<string, number> | null; content?: unknown[]; isSidechain?: boolean; uuid?: string }): string {
  const message: Record<string, unknown> = { model: 'claude-opus-4-6' };
  if (fields.id !== undefined) message.id = fields.id;
  Object.assign(message, { type: 'message', role: 'assistant', content: fields.content ?? [{ type: 'text', text: 'ok' }], stop_reason: null });
  if (fields.usage !== null) message.usage = fields.usage ?? { input_tokens: 3, cache_creation_input_tokens: 10, cache_read_input_tokens: 100, output_tokens: 7 };
  const line: Record<string, unknown> = { parentUuid: 'p-1', isSidechain: fields.isSidechain ?? false, userType: 'external', cwd: '/w', sessionId: 's-1', version: '2.1.39', gitBranch: 'main', message };
  if (fields.requestId !== undefined) line.requestId = fields.requestId;
  Object.assign(line, { type: 'assistant', uuid: fields.uuid ?? 'u-1', timestamp: '2026-02-12T14:00:00.000Z' });
  return JSON.stringify(line);
}

/** A user line carrying a tool result, in the 2.1.39 layout. */
function toolResultLine(toolUseId: string, toolUseResult: unknown, text = 'done', isError = false): string {
  return JSON.stringify({
    parentUuid: 'p-2',
    isSidechain: false,
    userType: 'external',
    cwd: '/w',
    sessionId: 's-1',
    version: '2.1.39',
    gitBranch: 'main',
    type: 'user',
    message: { role: 'user', content: [{ tool_use_id: toolUseId, type: 'tool_result', content: text, ...(isError ? { is_error: true } : {}) }] },
    uuid: `r-${toolUseId}`,
    timestamp: '2026-02-12T14:00:01.000Z',
    toolUseResult,
  });
}

describe('a malformed line in the middle', () => {
  it('is reported with its file, line and reason, and the rest of the file is read', async () => {
    const lines = linesOf(TOOL_HEAVY);
    const damaged = [...lines.slice(0, 9), 'this is not JSON', '{"parentUuid":"x","type":"assistant","message":{"model":"m","usage":{', ...lines.slice(9)];
    const file = tempFile('damaged.jsonl', damaged.join('\n') + '\n');
    const skipped = skippedOf([...scanTranscriptSync(file)]);
    expect(skipped.map(({ line, file: where }) => ({ line, file: where }))).toEqual([
      { line: 10, file },
      { line: 11, file },
    ]);
    expect(skipped[0]!.reason).toContain('not a JSON object');
    expect(skipped[1]!.reason).toContain('cut short');

    const summary = await summariseTranscripts([file], { threads: 1 });
    const original = await summariseTranscripts([TOOL_HEAVY], { threads: 1 });
    expect(summary.tokens).toEqual(original.tokens);
    expect(summary.apiCalls).toBe(original.apiCalls);
    expect(summary.skippedLines.map((s) => s.line)).toEqual([10, 11]);
  });

  it('reports an assistant line that is broken inside, and counts nothing from it', () => {
    const good = assistantLine({ id: 'msg_a', requestId: 'req_a' });
    // A record cut short and another written after it, so that the line still ends with "}".
    const glued = assistantLine({ id: 'msg_b', requestId: 'req_b' }).slice(0, 180) + assistantLine({ id: 'msg_c', requestId: 'req_c' });
    const file = tempFile('glued.jsonl', [good, glued, good.replace('msg_a', 'msg_d')].join('\n') + '\n');
    const records = [...scanTranscriptSync(file)];
    expect(callsOf(records).map((call) => call.kind === 'api-call' && call.messageId)).toEqual(['msg_a', 'msg_d']);
    expect(skippedOf(records).map((s) => s.line)).toEqual([2]);
    expect(skippedOf(records)[0]!.reason).toMatch(/^malformed JSON/);
  });
});

describe('a partial last line', () => {
  it('is reported but not taken as read: the next scan reads it once it is complete', () => {
    const lines = linesOf(TOOL_HEAVY);
    const whole = lines.join('\n') + '\n';
    const last = assistantLine({ id: 'msg_tail', requestId: 'req_tail' });
    const file = tempFile('growing.jsonl', whole + last.slice(0, 100));
    const first = [...scanTranscriptSync(file)];
    expect(skippedOf(first)).toEqual([expect.objectContaining({ line: lines.length + 1, reason: expect.stringContaining('partial last line') })]);
    expect(checkpointOf(first).offset).toBe(Buffer.byteLength(whole));
    expect(checkpointOf(first).line).toBe(lines.length);

    appendFileSync(file, last.slice(100) + '\n');
    const next = [...scanTranscriptSync(file, { from: checkpointOf(first) })];
    expect(kinds(next)).toEqual(['api-call', 'end']);
    expect(callsOf(next)[0]).toMatchObject({ kind: 'api-call', line: lines.length + 1, messageId: 'msg_tail', endOffset: readFileSync(file).length });
  });

  it('is read when it is a whole record without its newline, and a newline written after it starts no new line', () => {
    const a = assistantLine({ id: 'msg_1', requestId: 'req_1' });
    const b = assistantLine({ id: 'msg_2', requestId: 'req_2' });
    const file = tempFile('unterminated.jsonl', a);
    const first = [...scanTranscriptSync(file)];
    expect(callsOf(first)).toHaveLength(1);
    appendFileSync(file, `\n${b}\n`);
    const next = [...scanTranscriptSync(file, { from: checkpointOf(first) })];
    expect(callsOf(next)).toEqual([expect.objectContaining({ line: 2, messageId: 'msg_2' })]);
  });
});

describe('resuming from an offset', () => {
  it('reads only what was appended, and the two reads sum up to a reading of the whole file', async () => {
    const lines = linesOf(MANUAL_COMPACT);
    // Cut between a task call and its result, and inside a split reply, to check what a checkpoint carries.
    const cut = 1200;
    const head = lines.slice(0, cut).join('\n') + '\n';
    const file = tempFile('ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl', head);
    const firstDigest = digestTranscriptSync({ path: file, role: 'main' });
    const end = firstDigest.records.at(-1)!;
    if (end.kind !== 'end') throw new Error('no end record');
    expect(end.checkpoint.offset).toBe(Buffer.byteLength(head));

    appendFileSync(file, lines.slice(cut).join('\n') + '\n');
    const secondDigest = digestTranscriptSync({ path: file, role: 'main', from: end.checkpoint });
    const secondEnd = secondDigest.records.at(-1)!;
    expect(secondEnd.kind === 'end' && secondEnd.bytesRead).toBe(readFileSync(file).length - Buffer.byteLength(head));
    expect(secondDigest.records.find((record) => record.kind !== 'end')!.line).toBeGreaterThan(cut);

    const inTwo = summariseDigests([firstDigest, secondDigest]);
    const whole = await summariseTranscripts([MANUAL_COMPACT], { threads: 1 });
    expect({ ...inTwo, files: [], checkpoints: [] }).toEqual({ ...whole, files: [], checkpoints: [], compactions: whole.compactions.map((c) => ({ ...c, file })) });
  });

  it('keeps a task call awaiting its result across the checkpoint', () => {
    const use = assistantLine({ id: 'msg_t', requestId: 'req_t', content: [{ type: 'tool_use', id: 'toolu_task1', name: 'TaskCreate', input: { subject: 'Write the parser' } }] });
    const file = tempFile('task.jsonl', use + '\n');
    const first = [...scanTranscriptSync(file)];
    expect(checkpointOf(first).pending).toEqual([{ id: 'toolu_task1', tool: 'TaskCreate' }]);
    appendFileSync(file, toolResultLine('toolu_task1', { task: { id: '1', subject: 'Write the parser' } }) + '\n');
    const next = [...scanTranscriptSync(file, { from: checkpointOf(first) })];
    expect(next[0]).toMatchObject({ kind: 'task-tool-result', toolUseId: 'toolu_task1', tool: 'TaskCreate', taskId: '1', line: 2 });
  });

  it('counts the lines before a bare byte offset, and reports a start inside a line', () => {
    const lines = linesOf(TOOL_HEAVY);
    const offset = Buffer.byteLength(lines.slice(0, 20).join('\n') + '\n');
    const atLine = [...scanTranscriptSync(TOOL_HEAVY, { fromOffset: offset })];
    const whole = [...scanTranscriptSync(TOOL_HEAVY)];
    expect(callsOf(atLine)).toEqual(callsOf(whole).filter((call) => call.line > 20));
    const inside = [...scanTranscriptSync(TOOL_HEAVY, { fromOffset: offset + 5 })];
    expect(skippedOf(inside)).toEqual([expect.objectContaining({ line: 21, reason: expect.stringContaining('inside this line') })]);
    expect(callsOf(inside)).toEqual(callsOf(whole).filter((call) => call.line > 21));
  });

  it('reads the file again from the start when it is shorter than the checkpoint says (rewritten)', () => {
    const file = tempFile('rewritten.jsonl', assistantLine({ id: 'msg_1', requestId: 'r' }) + '\n');
    const records = [...scanTranscriptSync(file, { from: { offset: 10_000, line: 50, pending: [], session: {}, threads: [], unlinkedPrompts: [] } })];
    expect(kinds(records)).toEqual(['skipped', 'api-call', 'end']);
    expect(records[1]).toMatchObject({ line: 1 });
  });

  it('reads the same with the async scanner as with the sync one', async () => {
    const sync = [...scanTranscriptSync(MANUAL_COMPACT, { chunkSize: 4096 })];
    const async: TranscriptRecord[] = [];
    for await (const record of scanTranscript(MANUAL_COMPACT)) async.push(record);
    expect(async).toEqual(sync);
  });
});

describe('records and fields not known', () => {
  it('takes unknown record types as nothing, and no error', () => {
    const file = tempFile(
      'unknown.jsonl',
      [
        '{"type":"brand-new-record","payload":{"a":[1,2,3]},"sessionId":"s-1"}',
        '{"parentUuid":null,"isSidechain":false,"type":"teleport","uuid":"x","timestamp":"2026-01-01T00:00:00.000Z"}',
        '{"type":"attachment","attachment":{"type":"hook_success"}}',
        '{"no":"type at all"}',
        '{"type":"system","subtype":"api_error","level":"error","timestamp":"2026-01-01T00:00:01.000Z","uuid":"y"}',
        assistantLine({ id: 'msg_1', requestId: 'req_1' }),
      ].join('\n') + '\n',
    );
    expect(kinds([...scanTranscriptSync(file)])).toEqual(['api-call', 'end']);
  });

  it('reads lines with fields missing without failing', async () => {
    const file = tempFile(
      'missing.jsonl',
      [
        // No usage: no API call.
        assistantLine({ id: 'msg_nousage', requestId: 'r1', usage: null }),
        // Counts missing: they are 0.
        assistantLine({ id: 'msg_some', requestId: 'r2', usage: { output_tokens: 5 } }),
        // No message id: counted, never merged with another.
        assistantLine({ requestId: 'r3' }),
        assistantLine({ requestId: 'r3' }),
        // No request id: the message id alone is the key.
        assistantLine({ id: 'msg_noreq' }),
        // A TodoWrite without todos, a compact boundary without metadata, a user line without message.
        assistantLine({ id: 'msg_todo', requestId: 'r4', content: [{ type: 'tool_use', id: 'toolu_todo', name: 'TodoWrite', input: {} }] }),
        '{"parentUuid":null,"isSidechain":false,"type":"system","subtype":"compact_boundary","uuid":"b"}',
        '{"parentUuid":"b","isSidechain":false,"type":"user","uuid":"c"}',
      ].join('\n') + '\n',
    );
    const records = [...scanTranscriptSync(file)];
    expect(callsOf(records).map((call) => call.kind === 'api-call' && [call.messageId, call.usage])).toEqual([
      ['msg_some', { input: 0, output: 5, cacheCreation: 0, cacheRead: 0 }],
      [undefined, { input: 3, output: 7, cacheCreation: 10, cacheRead: 100 }],
      [undefined, { input: 3, output: 7, cacheCreation: 10, cacheRead: 100 }],
      ['msg_noreq', { input: 3, output: 7, cacheCreation: 10, cacheRead: 100 }],
      ['msg_todo', { input: 3, output: 7, cacheCreation: 10, cacheRead: 100 }],
    ]);
    expect(records.find((record) => record.kind === 'todo-write')).toMatchObject({ todos: [] });
    const summary = await summariseTranscripts([file], { threads: 1 });
    expect(summary.apiCalls).toBe(5);
    expect(summary.compactions).toEqual([{ trigger: 'unknown', preTokens: null, at: null, file, line: 7 }]);
    expect(summary.skippedLines).toEqual([]);
  });
});

describe('the task tools', () => {
  it('leave TaskCreate tasks under the id their result names, moved by TaskUpdate (pending straight to completed too)', async () => {
    const file = tempFile(
      'tasks.jsonl',
      [
        assistantLine({ id: 'm1', requestId: 'q1', content: [{ type: 'tool_use', id: 'toolu_c1', name: 'TaskCreate', input: { subject: 'Parse the transcript', description: 'fast', activeForm: 'Parsing' } }] }),
        toolResultLine('toolu_c1', { task: { id: '1', subject: 'Parse the transcript' } }),
        // A result that names its id only in its text.
        assistantLine({ id: 'm2', requestId: 'q2', content: [{ type: 'tool_use', id: 'toolu_c2', name: 'TaskCreate', input: { subject: 'Write the tests' } }] }),
        toolResultLine('toolu_c2', 'Task #2 created successfully: Write the tests', 'Task #2 created successfully: Write the tests'),
        assistantLine({ id: 'm3', requestId: 'q3', content: [{ type: 'tool_use', id: 'toolu_u1', name: 'TaskUpdate', input: { taskId: '1', status: 'completed' } }] }),
        toolResultLine('toolu_u1', { success: true, taskId: '1', updatedFields: ['status'], statusChange: { from: 'pending', to: 'completed' } }, 'Updated task #1 status'),
        // An update of a task no line created (made before the transcript starts), with a numeric id.
        assistantLine({ id: 'm4', requestId: 'q4', content: [{ type: 'tool_use', id: 'toolu_u2', name: 'TaskUpdate', input: { taskId: 7, status: 'in_progress' } }] }),
        toolResultLine('toolu_u2', { success: true, taskId: '7', statusChange: { from: 'pending', to: 'in_progress' } }),
        // A failed update changes nothing.
        assistantLine({ id: 'm5', requestId: 'q5', content: [{ type: 'tool_use', id: 'toolu_u3', name: 'TaskUpdate', input: { taskId: '2', status: 'completed' } }] }),
        toolResultLine('toolu_u3', 'Error: no such task', 'Error: no such task', true),
        // An update whose result is not written yet: taken as made.
        assistantLine({ id: 'm6', requestId: 'q6', content: [{ type: 'tool_use', id: 'toolu_u4', name: 'TaskUpdate', input: { taskId: '2', status: 'in_progress' } }] }),
      ].join('\n') + '\n',
    );
    const records = [...scanTranscriptSync(file)];
    expect(records.filter((record) => record.kind === 'task-tool-result').map((r) => r.kind === 'task-tool-result' && [r.tool, r.taskId, r.statusTo, r.isError])).toEqual([
      ['TaskCreate', '1', undefined, false],
      ['TaskCreate', '2', undefined, false],
      ['TaskUpdate', '1', 'completed', false],
      ['TaskUpdate', '7', 'in_progress', false],
      ['TaskUpdate', undefined, undefined, true],
    ]);
    const summary = await summariseTranscripts([file], { threads: 1 });
    expect(summary.tasks.map(({ id, title, state, source }) => ({ id, title, state, source }))).toEqual([
      { id: '1', title: 'Parse the transcript', state: 'completed', source: 'TaskCreate' },
      { id: '2', title: 'Write the tests', state: 'in_progress', source: 'TaskCreate' },
      { id: '7', title: '', state: 'in_progress', source: 'TaskUpdate' },
    ]);
  });

  it('leave TodoWrite items known by their content, an item dropped from the list keeping its last state', async () => {
    const todo = (content: string, status: string) => ({ content, status, activeForm: `${content}ing` });
    const write = (id: string, todos: unknown[]) => assistantLine({ id: `m-${id}`, requestId: `q-${id}`, content: [{ type: 'tool_use', id, name: 'TodoWrite', input: { todos } }] });
    const file = tempFile(
      'todos.jsonl',
      [
        write('toolu_w1', [todo('Read', 'in_progress'), todo('Write', 'pending')]),
        toolResultLine('toolu_w1', { oldTodos: [], newTodos: [todo('Read', 'in_progress'), todo('Write', 'pending')] }),
        write('toolu_w2', [todo('Write', 'completed'), todo('Ship', 'pending')]),
        toolResultLine('toolu_w2', { oldTodos: [], newTodos: [todo('Write', 'completed'), todo('Ship', 'pending')] }),
      ].join('\n') + '\n',
    );
    const summary = await summariseTranscripts([file], { threads: 1 });
    expect(summary.tasks.map(({ id, state }) => [id, state])).toEqual([
      ['Read', 'in_progress'],
      ['Write', 'completed'],
      ['Ship', 'pending'],
    ]);
  });
});

describe('1.0.x summary lines', () => {
  it('give the session its title when their leaf is a record of the session, not when it is another session\'s', async () => {
    const file = tempFile(
      'titled.jsonl',
      [
        '{"type":"summary","summary":"Leaked from another session","leafUuid":"not-in-this-file"}',
        '{"type":"summary","summary":"Fix the parser","leafUuid":"u-1"}',
        assistantLine({ id: 'msg_1', requestId: 'req_1', uuid: 'u-1' }),
      ].join('\n') + '\n',
    );
    const records = [...scanTranscriptSync(file)];
    expect(records.filter((record) => record.kind === 'summary').map((record) => record.kind === 'summary' && [record.line, record.summary, record.leafUuid])).toEqual([
      [1, 'Leaked from another session', 'not-in-this-file'],
      [2, 'Fix the parser', 'u-1'],
    ]);
    expect(checkpointOf(records) && records.at(-1)).toMatchObject({ summaryLeavesFound: ['u-1'] });
    expect((await summariseTranscripts([file], { threads: 1 })).title).toBe('Fix the parser');
  });
});

describe('the same API call twice', () => {
  it('is counted once, the main chain\'s line kept over a sidechain replay of equal counts', async () => {
    const main = assistantLine({ id: 'msg_same', requestId: 'req_same', uuid: 'main-1' });
    const replay = assistantLine({ id: 'msg_same', requestId: 'req_same', isSidechain: true, uuid: 'side-1' }).replace('"parentUuid":"p-1"', '"parentUuid":null');
    const file = tempFile('btw.jsonl', [replay, main].join('\n') + '\n');
    const summary = await summariseTranscripts([file], { threads: 1 });
    expect(summary.apiCalls).toBe(1);
    expect(summary.finalContextTokens).toBe(113);
    expect(summary.subagents).toEqual([]);
  });
});
