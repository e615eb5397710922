// `import claude-code` of a transcript still being written (changed in the
// last minute, as a fresh `cp` is): a reply known complete (a later turn end,
// or its stop reason set) is recorded at once; only a genuinely open reply is
// held, and the figures say so (review finding R15).

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../../cli/runInProcess.js';
import { TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';

const MANUAL_COMPACT = join(TRANSCRIPT_FIXTURES, 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'moai-import-live-'));
  tempDirs.push(dir);
  return dir;
};

async function importJson(cwd: string, file: string): Promise<{ apiCalls: number; pendingCalls: number; tokens: { output: number; cacheRead: number }; finalContextTokens: number }> {
  const result = await runInProcess(['--json', 'import', 'claude-code', file], cwd);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as never;
}

describe('import claude-code of a file changed in the last minute', () => {
  it('a fresh copy of spotter-manual-compact gives all 217 calls: its last reply is followed by turn_duration and stop_hook_summary lines', async () => {
    const file = join(tempDir(), 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
    copyFileSync(MANUAL_COMPACT, file); // mtime now: "still being written"
    const result = await importJson(tempDir(), file);
    // Independent count (dedupe by message.id+requestId, fullest line): 217 calls, output 49,467, cache read 16,553,628, final context 102,168.
    expect(result.apiCalls).toBe(217);
    expect(result.tokens.output).toBe(49467);
    expect(result.tokens.cacheRead).toBe(16553628);
    expect(result.finalContextTokens).toBe(102168);
    expect(result.pendingCalls).toBe(0);
  });

  it('a fresh file ending in an open reply holds it and says so, in --json and in the text; a stop reason completes it', async () => {
    const lines = readFileSync(MANUAL_COMPACT, 'utf8').split('\n');
    // Line 2380 is the last reply's only line (msg_012Vtrh1…, stop_reason null); the file cut just after it.
    expect(lines[2379]).toContain('"type":"assistant"');
    const open = join(tempDir(), 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
    writeFileSync(open, `${lines.slice(0, 2380).join('\n')}\n`);
    const json = await importJson(tempDir(), open);
    expect(json.apiCalls).toBe(216);
    expect(json.pendingCalls).toBe(1);
    const text = await runInProcess(['import', 'claude-code', open], tempDir());
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('216 API calls');
    expect(text.stdout).toContain(`Not final: 1 reply still open in ${open}`);

    // The same last line with its stop reason set is the reply's last: recorded at once.
    const record = JSON.parse(lines[2379]!) as { message: { stop_reason: string | null } };
    record.message.stop_reason = 'end_turn';
    const stopped = join(tempDir(), 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
    writeFileSync(stopped, `${[...lines.slice(0, 2379), JSON.stringify(record)].join('\n')}\n`);
    const done = await importJson(tempDir(), stopped);
    expect(done.apiCalls).toBe(217);
    expect(done.pendingCalls).toBe(0);
  });
});
