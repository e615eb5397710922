// moai-session statusline on the payload Claude Code gives a status line command.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';
import { runStatusLine } from '../../../src/integrations/claude-code/statusLine.js';
import { base, fire, tempProject } from './hookHelpers.js';
import { plainSummary } from './transcriptPlainReader.js';
import { runInProcess } from '../../cli/runInProcess.js';

const TOOL_HEAVY = join(TRANSCRIPT_FIXTURES, 'spotter-tool-heavy', 'tool_heavy.jsonl');

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

/** A status line payload as Claude Code sends it (fields as its docs list them). */
const statusPayload = (sessionId: string, root: string) => ({
  hook_event_name: 'Status',
  session_id: sessionId,
  transcript_path: join(root, 't.jsonl'),
  cwd: join(root, 'src'),
  model: { id: 'claude-opus-4-6', display_name: 'Opus' },
  workspace: { current_dir: join(root, 'src'), project_dir: root },
  version: '2.1.39',
  output_style: { name: 'default' },
  cost: { total_cost_usd: 0.01, total_duration_ms: 45000 },
});

describe('moai-session statusline', () => {
  it('prints the context against the window with the level, the open tasks and the cost, on one line', async () => {
    const made = tempProject();
    cleanups.push(made.remove);
    const transcript = join(made.root, 't.jsonl');
    copyFileSync(TOOL_HEAVY, transcript);
    await fire(made.dir, { ...base('s1', transcript, 'Stop') });
    await fire(made.dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskCreate', tool_use_id: 'c1', tool_input: { subject: 'A' }, tool_response: { task: { id: '1', subject: 'A' } } });
    await fire(made.dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskUpdate', tool_use_id: 'u1', tool_input: { taskId: '1', status: 'in_progress' }, tool_response: { taskId: '1' } });
    await fire(made.dir, { ...base('s1', transcript, 'PostToolUse'), tool_name: 'TaskCreate', tool_use_id: 'c2', tool_input: { subject: 'B' }, tool_response: { task: { id: '2', subject: 'B' } } });
    const plain = plainSummary(TOOL_HEAVY);
    // The session is on the transcript's model (Opus 4.6, a 1M window here): the figures worked out by hand from the plain reader.
    const context = plain.finalContextTokens;
    const line = await runStatusLine(JSON.stringify(statusPayload('s1', made.root)), { cwd: '/', env: {} });
    expect(line).toMatch(new RegExp(`^moai ctx ${(context / 1000).toFixed(1).replace('.', '\\.')}k/1\\.0M ${Math.round((context / 1_000_000) * 100)}% ok · 2 open tasks \\(1 in progress\\) · \\$\\d+\\.\\d\\d$`));
    expect(line).not.toContain('\n');
  });

  it('says so when the session or the state folder is not there, and exits 0', async () => {
    const made = tempProject();
    cleanups.push(made.remove);
    expect(await runStatusLine(JSON.stringify(statusPayload('nope', made.root)), { cwd: '/', env: {} })).toBe('moai: no state folder');
    await fire(made.dir, { ...base('other', '/none.jsonl', 'Stop') });
    expect(await runStatusLine(JSON.stringify(statusPayload('nope', made.root)), { cwd: '/', env: {} })).toBe('moai: session not recorded yet');
    expect(await runStatusLine('not json', { cwd: '/', env: {} })).toBe('moai: no session');
    const result = await runInProcess(['statusline'], made.root, { stdin: JSON.stringify(statusPayload('other', made.root)) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^moai ctx 0 · 0 open tasks · \$0\.00\n$/);
  });
});
