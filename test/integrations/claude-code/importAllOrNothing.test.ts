// `import claude-code` appends all it means or nothing: a new session's start
// goes in the same append as what its transcript adds, so an import that fails
// (here: a disk that is full, a real tmpfs of 120 KiB) leaves no session
// started without its calls (review finding R28).

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../../cli/runInProcess.js';
import { TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';

const MANUAL_COMPACT = join(TRANSCRIPT_FIXTURES, 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');

const root = mkdtempSync(join(tmpdir(), 'moai-import-full-'));
const disk = join(root, 'disk');
mkdirSync(disk);
let mounted = false;
let reason = '';
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=120k', 'tmpfs', disk], { stdio: 'pipe' });
  mounted = true;
} catch (error) {
  reason = (error as Error).message.split('\n')[0]!;
}
afterAll(() => {
  if (mounted) execFileSync('umount', [disk]);
  rmSync(root, { recursive: true, force: true });
});
if (!mounted) console.log(`importAllOrNothing: skipped, cannot mount a small tmpfs (needs root): ${reason}`);

describe.skipIf(!mounted)('import claude-code onto a full disk', () => {
  it('fails with ENOSPC and leaves no session behind: no SessionStarted without its calls', async () => {
    const file = join(root, 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
    copyFileSync(MANUAL_COMPACT, file);
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(file, past, past);
    const dir = join(disk, '.moai');
    const result = await runInProcess(['--dir', dir, 'import', 'claude-code', file], root);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/ENOSPC/);
    const events = await runInProcess(['--dir', dir, 'events'], root);
    expect(events.stdout).not.toContain('SessionStarted');
    const sessions = await runInProcess(['--dir', dir, 'sessions'], root);
    expect(sessions.stdout).not.toContain('ae4a77f8-aedd-4bc1-888f-c94edc91af04');
  });
});
