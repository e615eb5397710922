import { copyFileSync, mkdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { base, fire, readSession, tempProject } from './hookHelpers.js';

const SID = 'ae4a77f8-aedd-4bc1-888f-c94edc91af04';
const FIXTURE = `test/fixtures/claude-code/transcripts/spotter-manual-compact/${SID}.jsonl`;

describe('hook: a transcript rewritten under its cursor (review R30)', () => {
  const projects: Array<() => void> = [];
  afterEach(() => projects.splice(0).forEach((remove) => remove()));

  it('records every call once when the file is cut short, then copied back whole', async () => {
    const project = tempProject();
    projects.push(project.remove);
    mkdirSync(project.root, { recursive: true });
    const transcript = join(project.root, 't.jsonl');
    copyFileSync(FIXTURE, transcript);
    const stop = base(SID, transcript, 'Stop');
    await fire(project.dir, stop);
    truncateSync(transcript, 1_000_000);
    await fire(project.dir, stop);
    copyFileSync(FIXTURE, transcript);
    await fire(project.dir, stop);
    const { events } = await readSession(project.dir, SID);
    const calls = events.filter((event) => event.type === 'TokenUsageRecorded');
    const keys = new Set(calls.map((event) => `${String(event.data.messageId)}/${String(event.data.requestId)}`));
    // 217 calls: the reviewer's count of distinct messageId + requestId in the fixture.
    expect(keys.size).toBe(217);
    expect(calls.length).toBe(217);
  });
});
