import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { runHook } from '../../../src/integrations/claude-code/runHook.js';
import { base, readSession, tempProject } from './hookHelpers.js';

const SID = 'ae4a77f8-aedd-4bc1-888f-c94edc91af04';
const FIXTURE = `test/fixtures/claude-code/transcripts/spotter-manual-compact/${SID}.jsonl`;
const BOUND = 300_000;

const calls = async (dir: string) => {
  const { events } = await readSession(dir, SID);
  const usage = events.filter((event) => event.type === 'TokenUsageRecorded');
  return { count: usage.length, keys: new Set(usage.map((e) => `${String(e.data.messageId)}/${String(e.data.requestId)}`)).size, output: usage.reduce((n, e) => n + Number(e.data.outputTokens), 0) };
};

describe('hook: one run reads a bounded part of a long transcript (review R27)', () => {
  const projects: Array<() => void> = [];
  afterEach(() => projects.splice(0).forEach((remove) => remove()));

  it('records part of it per run, its own payload at once, and every call exactly once in the end', async () => {
    const whole = tempProject();
    const bounded = tempProject();
    projects.push(whole.remove, bounded.remove);
    const transcript = join(bounded.root, 't.jsonl');
    copyFileSync(FIXTURE, transcript);
    const size = statSync(transcript).size;
    expect(size).toBeGreaterThan(3 * BOUND);
    const stop = JSON.stringify(base(SID, transcript, 'Stop'));
    await runHook(stop, { dir: whole.dir, cwd: tmpdir(), env: {} });
    const expected = await calls(whole.dir);
    expect(expected.count).toBe(217);

    // The first run reads at most BOUND bytes: some calls, not all; a TaskCreate in the same run is recorded with them.
    const create = JSON.stringify({ ...base(SID, transcript, 'PostToolUse'), tool_name: 'TaskCreate', tool_input: { subject: 's' }, tool_response: { task: { id: '1' } }, tool_use_id: 'k9' });
    await runHook(create, { dir: bounded.dir, cwd: tmpdir(), env: {}, maxReadBytes: BOUND });
    const first = await calls(bounded.dir);
    expect(first.count).toBeGreaterThan(0);
    expect(first.count).toBeLessThan(217);
    const { view } = await readSession(bounded.dir, SID);
    expect(view!.tasks.byId.get('task-1')?.state).toBe('pending');
    expect(view!.ingest.transcripts.main!.offset).toBeLessThanOrEqual(BOUND);

    for (let run = 0; run < Math.ceil(size / BOUND) + 1; run++) await runHook(stop, { dir: bounded.dir, cwd: tmpdir(), env: {}, maxReadBytes: BOUND });
    const done = await calls(bounded.dir);
    expect(done.count).toBe(217);
    expect(done.keys).toBe(217);
    expect(done.output).toBe(expected.output);
  });
});
