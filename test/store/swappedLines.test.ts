// Two sound lines swapped in a segment (review finding R29): the read error names
// what is wrong (out of order, both lines sound) instead of a checksum mismatch,
// and repair puts them back at their positions: nothing is quarantined or lost.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { runInProcess } from '../cli/runInProcess.js';

/** A state folder with session s1 and four tasks (titles of different lengths), one write command each, whose lines of t2 and t3 are then swapped; its events as `events --json` gave them before. */
async function folderWithSwappedLines(): Promise<{ cwd: string; segment: string; before: string[]; swapped: [number, number] }> {
  const cwd = await tempDir('moai-swap-');
  const started = await runInProcess(['start', '--session', 's1', '--agent', 'alice', '--model', 'claude-sonnet-4-5'], cwd);
  expect(started.code, started.stderr).toBe(0);
  for (let i = 1; i <= 4; i++) {
    const added = await runInProcess(['task', 'add', 's1', `t${i}`, '--title', `Task ${i}${'!'.repeat(i)}`], cwd);
    expect(added.code, added.stderr).toBe(0);
  }
  const listed = await runInProcess(['events', '--json'], cwd);
  expect(listed.code, listed.stderr).toBe(0);
  const before = listed.stdout.trim().split('\n');
  const segment = join(cwd, '.moai', 'events', 'segment-000001.jsonl');
  const lines = (await readFile(segment, 'utf8')).trimEnd().split('\n');
  // The lines of tasks t2 and t3, found by their text; their positions read from the lines themselves.
  const a = lines.findIndex((line) => line.includes('"taskId":"t2"'));
  const b = lines.findIndex((line) => line.includes('"taskId":"t3"'));
  expect(b).toBe(a + 1);
  expect(lines[a]!.length).not.toBe(lines[b]!.length); // else the index's offsets would still land on whole lines
  const positionOf = (line: string): number => Number(/"position":(\d+)/.exec(line)![1]);
  expect([positionOf(lines[a]!), positionOf(lines[b]!)]).toEqual([a + 1, b + 1]);
  [lines[a], lines[b]] = [lines[b]!, lines[a]!];
  await writeFile(segment, `${lines.join('\n')}\n`);
  return { cwd, segment, before, swapped: [a + 1, b + 1] };
}

describe('two sound lines swapped', () => {
  it('a read names them out of order (both sound), with or without the index file, not a checksum mismatch', async () => {
    const { cwd, segment, swapped } = await folderWithSwappedLines();
    const [first, second] = swapped;
    const read = await runInProcess(['events'], cwd);
    expect(read.code).toBe(4);
    expect(read.stderr).toContain(`${segment}:${first}: line ${first} holds position ${second} and line ${second} position ${first}: out of order`);
    expect(read.stderr).not.toContain('checksum mismatch');
    // Without the index file, the open scan says the same thing its own way.
    await rm(join(cwd, '.moai', 'events', 'segment-000001.idx'), { force: true });
    const scanned = await runInProcess(['events'], cwd);
    expect(scanned.code).toBe(4);
    expect(scanned.stderr).toContain(`position ${second} where ${first} was expected`);
  });

  it('repair puts both back at their positions: nothing quarantined, nothing lost, every event as before', async () => {
    const { cwd, segment, before, swapped } = await folderWithSwappedLines();
    const [first] = swapped;
    // --skip-damaged reads both, each at its own position, and says the line is out of order.
    const skipping = await runInProcess(['events', '--json', '--skip-damaged'], cwd);
    expect(skipping.code, skipping.stderr).toBe(0);
    expect(skipping.stdout.trim().split('\n')).toEqual(before);
    expect(skipping.stderr).toContain(`${segment}:${first + 1} (position ${first}, session-s1 v${first}) is a sound line found after a later position`);
    expect(skipping.stderr).not.toContain('the log is sound');
    const dry = await runInProcess(['repair', '--dry-run'], cwd);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`Would put back in order: ${segment}:${first + 1} (position ${first}, session-s1 v${first})`);
    const repaired = await runInProcess(['repair'], cwd);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain(`Put back in order: ${segment}:${first + 1} (position ${first}`);
    expect(repaired.stdout).not.toMatch(/Positions lost|version \d+ lost|Quarantined/);
    const repairRoot = join(cwd, '.moai', 'repair');
    const [run] = await readdir(repairRoot);
    const report = JSON.parse(await readFile(join(repairRoot, run!, 'report.json'), 'utf8'));
    expect(report.lostPositions).toEqual([]);
    expect(report.quarantined).toEqual([]);
    expect(await readFile(join(repairRoot, run!, 'quarantine.jsonl'), 'utf8')).toBe('');
    // Every event at its own position and version, as before the swap.
    const after = await runInProcess(['events', '--json'], cwd);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout.trim().split('\n')).toEqual(before);
    // And writes go on.
    const added = await runInProcess(['task', 'add', 's1', 't5', '--title', 'Task 5'], cwd);
    expect(added.code, added.stderr).toBe(0);
  });
});
