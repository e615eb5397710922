// A compaction whose size after nobody reported (review finding R26): the
// spotter boundary has only compactMetadata.preTokens (line 1481), so the
// ContextCompacted event has no tokensAfter (not a made-up 0), no threshold
// is cleared on it, and the next call's usage sets the context.

import { copyFileSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/createEngine.js';
import { sessionStream, type StoredEvent } from '../../../src/events/envelope.js';
import { runInProcess } from '../../cli/runInProcess.js';
import { TRANSCRIPT_FIXTURES } from '../../claudeCodeFixtures.js';

const MANUAL_COMPACT = join(TRANSCRIPT_FIXTURES, 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
const SID = 'ae4a77f8-aedd-4bc1-888f-c94edc91af04';

const root = mkdtempSync(join(tmpdir(), 'moai-import-compact-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('import of a compaction whose size after is not reported', () => {
  it('records tokensBefore only, clears no threshold on it, and the next call gives the context', async () => {
    const file = join(root, `${SID}.jsonl`);
    copyFileSync(MANUAL_COMPACT, file);
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(file, past, past);
    const dir = join(root, '.moai');
    const result = await runInProcess(['--dir', dir, 'import', 'claude-code', file], root);
    expect(result.code).toBe(0);

    const engine = await createEngine({ dir });
    const events: StoredEvent[] = [];
    for await (const event of engine.store.readStream(sessionStream(SID))) events.push(event);
    await engine.close();
    const at = events.findIndex((event) => event.type === 'ContextCompacted');
    const compacted = events[at]!;
    expect(compacted.data).toMatchObject({ tokensBefore: 142431, trigger: 'manual', tokensAfterKnown: false });
    expect('tokensAfter' in (compacted.data as object)).toBe(false);
    // The compaction itself moves no threshold (before: "monitor cleared at 0.0% (0/200000)" right after it), and none is
    // ever worked out from a size of 0; the next call's usage decides (a model switch between them re-checks the last known figure).
    expect(events[at + 1]?.type.startsWith('BudgetThreshold')).toBe(false);
    const thresholds = events.filter((event) => event.type.startsWith('BudgetThreshold'));
    expect(thresholds.length).toBeGreaterThan(0);
    expect(thresholds.filter((event) => (event.data as { contextTokens: number }).contextTokens === 0)).toEqual([]);

    const lines = await runInProcess(['--dir', dir, 'events', '--session', SID], root);
    expect(lines.stdout).toContain('ContextCompacted');
    expect(lines.stdout).toContain('142431 -> ? tokens (size after not reported)');
    expect(lines.stdout).not.toContain('142431 -> 0 tokens');
    expect(lines.stdout).not.toContain('cleared at 0.0%');
  });
});
