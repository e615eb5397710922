// `moai-session repair` and `--skip-damaged` (issue 9): a backup first, every
// sound line kept, the unreadable ones quarantined with a report, a log that
// opens after; read-only commands show what is sound and say what they skipped.
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { openFileEventStore, repairLog, type StoredEvent } from '../../src/index.js';
import { readRepairReports } from '../../src/store/repairLog.js';
import { sampleEvent } from '../../src/testing/index.js';
import { openSalvagedLog } from '../../src/store/repairSalvage.js';
import { tempDir } from '../helpers.js';
import { runInProcess } from '../cli/runInProcess.js';

/** A state folder with session s1 and `tasks` tasks added to it, one write command each. */
async function folderWithTasks(tasks: number): Promise<{ cwd: string; events: string; segment: string }> {
  const cwd = await tempDir('moai-repair-');
  const started = await runInProcess(['start', '--session', 's1', '--agent', 'alice', '--model', 'claude-sonnet-4-5'], cwd);
  expect(started.code, started.stderr).toBe(0);
  for (let i = 1; i <= tasks; i++) {
    const added = await runInProcess(['task', 'add', 's1', `t${i}`, '--title', `Task ${i}`], cwd);
    expect(added.code, added.stderr).toBe(0);
  }
  const events = join(cwd, '.moai', 'events');
  return { cwd, events, segment: join(events, 'segment-000001.jsonl') };
}

async function logLines(segment: string): Promise<string[]> {
  return (await readFile(segment, 'utf8')).trimEnd().split('\n');
}

async function eventsJson(cwd: string, extra: string[] = []): Promise<{ code: number; events: { position: number; version: number; type: string; data: { taskId?: string } }[]; stderr: string }> {
  const result = await runInProcess(['events', '--json', ...extra], cwd);
  const events = result.stdout.trim() === '' ? [] : result.stdout.trim().split('\n').map((line) => JSON.parse(line));
  return { code: result.code, events, stderr: result.stderr };
}

describe('moai-session repair', () => {
  it('sets a damaged middle line aside, keeps every line before and after it, and leaves a log that opens', async () => {
    const { cwd, events, segment } = await folderWithTasks(6);
    const lines = await logLines(segment);
    const count = lines.length;
    // Which line holds task t3's TaskAdded, found by its text (its position is worked out from the file, not the store).
    const damagedAt = lines.findIndex((line) => line.includes('"taskId":"t3"') && line.includes('"TaskAdded"'));
    expect(damagedAt).toBeGreaterThan(0);
    const original = await readFile(segment);
    lines[damagedAt] = lines[damagedAt]!.replace('"Task 3"', '"Tusk 3"');
    await writeFile(segment, `${lines.join('\n')}\n`);
    const damaged = await readFile(segment);

    // Before the repair: a read fails (exit 4), and --skip-damaged shows the rest and names what it skipped.
    expect((await runInProcess(['events'], cwd)).code).toBe(4);
    const skipping = await eventsJson(cwd, ['--skip-damaged']);
    expect(skipping.code).toBe(0);
    expect(skipping.events).toHaveLength(count - 1);
    expect(skipping.stderr).toContain(`skipped 1 damaged part`);
    expect(skipping.stderr).toContain(`${segment}:${damagedAt + 1} (position ${damagedAt + 1}, session-s1)`);
    expect(await readFile(segment)).toEqual(damaged); // reading changed nothing

    const repaired = await runInProcess(['repair'], cwd);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain(`Repaired the event log in ${events}`);
    expect(repaired.stdout).toContain(`segment-000001.jsonl:${damagedAt + 1}`);
    expect(repaired.stdout).toContain('checksum mismatch');
    expect(repaired.stdout).toMatch(new RegExp(`session-s1: version ${damagedAt + 1} lost`));
    // The backup holds the damaged file byte for byte; the quarantine holds the line.
    const repairRoot = join(cwd, '.moai', 'repair');
    const [run] = await readdir(repairRoot);
    expect(await readFile(join(repairRoot, run!, 'backup', 'segment-000001.jsonl'))).toEqual(damaged);
    const quarantine = (await readFile(join(repairRoot, run!, 'quarantine.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(quarantine).toHaveLength(1);
    expect(quarantine[0]).toMatchObject({ file: 'segment-000001.jsonl', line: damagedAt + 1, reason: 'checksum mismatch', position: damagedAt + 1 });
    expect(quarantine[0].text).toContain('"Tusk 3"');
    const report = JSON.parse(await readFile(join(repairRoot, run!, 'report.json'), 'utf8'));
    expect(report.lostPositions).toEqual([damagedAt + 1]);

    // After: the log opens, every other event is there at its own position and version, the lost one's place holds
    // an EventLost line (in its stream, at its version), and writes go on.
    const after = await eventsJson(cwd);
    expect(after.code).toBe(0);
    expect(after.events.map((e) => e.position)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    const originalLines = original.toString('utf8').trimEnd().split('\n');
    const originalEvents = originalLines.map((line) => JSON.parse(line.slice(9)) as { type: string; version: number; stream: string });
    expect(after.events.map((e) => e.type)).toEqual(originalEvents.map((e, i) => (i === damagedAt ? 'EventLost' : e.type)));
    expect(after.events.map((e) => e.version)).toEqual(originalEvents.map((e) => e.version));
    expect(after.events[damagedAt]).toMatchObject({ stream: 'session-s1', version: damagedAt + 1, data: { file: 'segment-000001.jsonl', line: damagedAt + 1, reason: 'checksum mismatch', shown: true } });
    expect(after.events.some((e) => e.data.taskId === 't3' && e.type === 'TaskAdded')).toBe(false);
    const added = await runInProcess(['task', 'add', 's1', 't9', '--title', 'After'], cwd);
    expect(added.code, added.stderr).toBe(0);
    // Replay names the stream whose history now has a hole.
    const replayed = await runInProcess(['replay'], cwd);
    expect(replayed.stdout).toMatch(/Repaired .*session-s1: version \d+ lost.*its history has a hole/);
  });

  it('names the events a truncated segment lost from its index file, and lets the next append follow the kept ones', async () => {
    const { cwd, segment } = await folderWithTasks(8);
    const text = await readFile(segment, 'utf8');
    const total = text.trimEnd().split('\n').length;
    const ends: number[] = [];
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) ends.push(at + 1);
    await truncate(segment, ends[6]!); // 7 lines left
    const before = await readFile(segment);
    const refused = await runInProcess(['task', 'add', 's1', 'tx', '--title', 'X'], cwd);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`${segment}:8`);
    expect(await readFile(segment)).toEqual(before);

    const dry = await runInProcess(['repair', '--dry-run'], cwd);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run: nothing was changed');
    expect(existsSync(join(cwd, '.moai', 'repair'))).toBe(false);
    expect(await readFile(segment)).toEqual(before);

    const repaired = await runInProcess(['repair', '--json'], cwd);
    expect(repaired.code, repaired.stderr).toBe(0);
    const report = JSON.parse(repaired.stdout);
    expect(report.missing).toEqual([{ file: segment, line: 8, positions: Array.from({ length: total - 7 }, (_, i) => i + 8), streams: Array(total - 7).fill('session-s1'), recordedBy: 'index file' }]);
    // The stream is the index file's; the versions, the ones after the last kept (the stream's own hole).
    const lost = Array.from({ length: total - 7 }, (_, i) => i + 8);
    expect(report.streams).toEqual([{ stream: 'session-s1', lostVersions: lost, inferredVersions: lost }]);
    const added = await runInProcess(['task', 'add', 's1', 'ty', '--title', 'Y'], cwd);
    expect(added.code, added.stderr).toBe(0);
    const after = await eventsJson(cwd);
    // Positions 8 on hold EventLost lines: the next append follows them, reusing no position a reader may have seen.
    expect(after.events.slice(7, total).map((e) => e.type)).toEqual(Array(total - 7).fill('EventLost'));
    expect(after.events[total]).toMatchObject({ position: total + 1, version: total + 1, type: 'TaskAdded', data: { taskId: 'ty' } });
  });

  it('moves a junk segment out of the log (kept in the backup), and says a sound log needs nothing', async () => {
    const { cwd, events } = await folderWithTasks(2);
    const sound = await runInProcess(['repair'], cwd);
    expect(sound.stdout).toContain('is sound: nothing to repair, nothing changed');
    expect(existsSync(join(cwd, '.moai', 'repair'))).toBe(false);

    const junk = join(events, 'segment-000002.jsonl');
    await writeFile(junk, 'not ours');
    expect((await runInProcess(['events'], cwd)).code).toBe(4);
    const repaired = await runInProcess(['repair'], cwd);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(existsSync(junk)).toBe(false);
    const [run] = await readdir(join(cwd, '.moai', 'repair'));
    expect(await readFile(join(cwd, '.moai', 'repair', run!, 'backup', 'segment-000002.jsonl'), 'utf8')).toBe('not ours');
    expect((await runInProcess(['events'], cwd)).code).toBe(0);
  });

  it('keeps both copies apart when a line is repeated: the second is set aside as a duplicate', async () => {
    const { cwd, segment } = await folderWithTasks(2);
    const lines = await logLines(segment);
    await appendFile(segment, `${lines[1]}\n`);
    const repaired = await runInProcess(['repair', '--json'], cwd);
    const report = JSON.parse(repaired.stdout);
    expect(report.quarantined).toHaveLength(1);
    expect(report.quarantined[0].reason).toMatch(/appears twice/);
    expect(report.lostPositions).toEqual([]);
    expect(report.streams).toEqual([]);
    expect((await eventsJson(cwd)).events).toHaveLength(lines.length);
  });

  it('lets state and replay read the sound part of a damaged log with --skip-damaged, saying what they skipped', async () => {
    const { cwd, segment } = await folderWithTasks(3);
    const lines = await logLines(segment);
    // The last line: every read checks it against the index file (a middle line is found when a read reaches it).
    lines[lines.length - 1] = lines[lines.length - 1]!.replace('"Task', '"Tusk');
    await writeFile(segment, `${lines.join('\n')}\n`);
    for (const command of [['state', 's1'], ['replay']]) {
      expect((await runInProcess(command, cwd)).code).toBe(4);
      const skipping = await runInProcess([...command, '--skip-damaged'], cwd);
      expect(skipping.code, skipping.stderr).toBe(0);
      expect(skipping.stderr).toContain(`${segment}:${lines.length}`);
    }
  });
});

describe('repairLog across segments', () => {
  it('keeps the lines after damage in an early segment where they are, rewriting only the damaged segment', async () => {
    const root = await tempDir('moai-repair-segments-');
    const dir = join(root, 'events');
    const store = await openFileEventStore({ dir, maxSegmentBytes: 1000 });
    for (let i = 1; i <= 30; i++) await store.append(`session-${i % 3}`, [sampleEvent(`t${i}`)]);
    await store.close();
    const segments = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort();
    expect(segments.length).toBeGreaterThan(3);
    // Damage the second line of the first segment: position 2, session-2 version 1.
    const first = join(dir, segments[0]!);
    const text = await readFile(first, 'utf8');
    await writeFile(first, text.replace('"t2"', '"x2"'));
    const later = await Promise.all(segments.slice(1).map((name) => readFile(join(dir, name))));
    const report = await repairLog({ dir, repairRoot: join(root, 'repair'), lockWaitMs: 0 });
    expect(report.lostPositions).toEqual([2]);
    expect(report.streams).toEqual([{ stream: 'session-2', lostVersions: [1], inferredVersions: [] }]);
    expect(report.rewritten).toEqual([first]);
    // Every later segment is byte for byte as it was.
    expect(await Promise.all(segments.slice(1).map((name) => readFile(join(dir, name))))).toEqual(later);
    const reopened = await openFileEventStore({ dir });
    const events: StoredEvent[] = [];
    for await (const event of reopened.readAll()) events.push(event);
    expect(events.map((e) => (e.type === 'EventLost' ? 'lost' : (e.data as { taskId: string }).taskId))).toEqual(
      Array.from({ length: 30 }, (_, i) => (i === 1 ? 'lost' : `t${i + 1}`)),
    );
    expect(events.map((e) => e.position)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(events[1]).toMatchObject({ stream: 'session-2', version: 1, type: 'EventLost' });
    expect(await reopened.streamVersion('session-2')).toBe(10);
    expect(await reopened.streamVersion('session-1')).toBe(10);
    await reopened.close();
  });
});

describe('the last append of a log, acknowledged, with only its last line damaged (R2)', () => {
  /** One event of s-a, then one append of three events of s-b, closed cleanly: the index file records all four lines. */
  async function logWithLastAppend(): Promise<{ root: string; dir: string; segment: string }> {
    const root = await tempDir('moai-repair-last-append-');
    const dir = join(root, 'events');
    const store = await openFileEventStore({ dir });
    await store.append('s-a', [sampleEvent('a1')]);
    await store.append('s-b', [sampleEvent('b1'), sampleEvent('b2'), sampleEvent('b3')]);
    await store.close();
    return { root, dir, segment: join(dir, 'segment-000001.jsonl') };
  }

  it('sets aside only the damaged line: the sound lines of that append are kept by repair and by --skip-damaged', async () => {
    const { root, dir, segment } = await logWithLastAppend();
    expect(existsSync(join(dir, 'segment-000001.idx'))).toBe(true);
    const text = await readFile(segment, 'utf8');
    expect(text.split('\n').filter((l) => l.includes('"b3"'))).toHaveLength(1);
    await writeFile(segment, text.replace('"Task b3"', '"Tusk b3"')); // inside line 4, the append's last line, which keeps its line end
    const salvaged = await openSalvagedLog(dir);
    const kept: StoredEvent[] = [];
    for await (const event of salvaged.store.readAll()) kept.push(event);
    expect(kept.map((e) => (e.data as { taskId: string }).taskId)).toEqual(['a1', 'b1', 'b2']);
    expect(salvaged.skipped.map((p) => p.line)).toEqual([4]);
    const dry = await repairLog({ dir, repairRoot: join(root, 'repair'), lockWaitMs: 0, dryRun: true });
    expect(dry.quarantined.map((q) => q.line)).toEqual([4]);
    expect(dry.quarantined.some((q) => q.reason.includes('torn'))).toBe(false);
    expect(dry.lostPositions).toEqual([4]);
    expect(dry.streams.find((s) => s.stream === 's-b')?.lostVersions).toEqual([3]);
    expect(dry.eventsKept).toBe(3);
  });

  it('keeps the sound lines of an acknowledged append whose end was truncated away (the index file records it)', async () => {
    const { root, dir, segment } = await logWithLastAppend();
    const text = await readFile(segment, 'utf8');
    const cutAt = text.indexOf('\n', text.indexOf('"b2"')) + 1; // after line 3: line 4 is gone whole
    await truncate(segment, Buffer.byteLength(text.slice(0, cutAt)));
    const report = await repairLog({ dir, repairRoot: join(root, 'repair'), lockWaitMs: 0, dryRun: true });
    expect(report.quarantined).toEqual([]);
    expect(report.missing.map((m) => m.positions)).toEqual([[4]]);
    expect(report.eventsKept).toBe(3);
    const salvaged = await openSalvagedLog(dir);
    const kept: StoredEvent[] = [];
    for await (const event of salvaged.store.readAll()) kept.push(event);
    expect(kept.map((e) => e.position)).toEqual([1, 2, 3]);
  });
});

describe('a repair moves no sound event (R1, R23)', () => {
  it("leaves a fork's state, the checkpoints' positions and a follower's positions as they were", async () => {
    const cwd = await tempDir('moai-repair-fork-');
    expect((await runInProcess(['demo'], cwd)).code).toBe(0);
    const segment = join(cwd, '.moai', 'events', 'segment-000001.jsonl');
    const forkBefore = await runInProcess(['state', 'demo-r1-alt', '--json'], cwd);
    expect(forkBefore.code, forkBefore.stderr).toBe(0);
    const before = await eventsJson(cwd);
    // Damage line 30 (session-demo v30), before the fork point: what follows must not move onto its place.
    const lines = await logLines(segment);
    const fork = before.events.find((e) => e.type === 'SessionForked') as unknown as { data: { parentVersion: number } };
    expect(fork.data.parentVersion).toBeGreaterThan(30);
    lines[29] = lines[29]!.replace('"meta":{"at":"', '"meta":{"at":"X');
    await writeFile(segment, `${lines.join('\n')}\n`);
    expect((await runInProcess(['repair'], cwd)).code).toBe(0);
    const after = await eventsJson(cwd);
    expect(after.events.map((e) => [e.position, e.version])).toEqual(before.events.map((e) => [e.position, e.version]));
    expect(after.events.map((e, i) => (i === 29 ? before.events[i]!.type : e.type))).toEqual(before.events.map((e) => e.type));
    expect(after.events[29]!.type).toBe('EventLost');
    const forkAfter = await runInProcess(['state', 'demo-r1-alt', '--json'], cwd);
    expect(forkAfter.stdout).toBe(forkBefore.stdout);
    // The next append takes the next position (none used again): a follower's cursor stays right.
    expect((await runInProcess(['usage', 'demo', '--input', '7', '--output', '7'], cwd)).code).toBe(0);
    const appended = await eventsJson(cwd);
    expect(appended.events.at(-1)!.position).toBe(before.events.length + 1);
  });
});

describe('an unreadable index file (R3)', () => {
  it('is a warning on a write, and repair --dry-run says it would replace it; the repair does, and the log is whole', async () => {
    const { cwd, events } = await folderWithTasks(2);
    const idx = join(events, 'segment-000001.idx');
    expect(existsSync(idx)).toBe(true);
    await writeFile(idx, ''); // what a power cut after a rename without fsync could leave
    const write = await runInProcess(['task', 'add', 's1', 't9', '--title', 'T'], cwd);
    expect(write.code, write.stderr).toBe(0);
    expect(write.stderr).toMatch(/warning: .*segment-000001\.idx.*cannot be read/);
    const dry = await runInProcess(['repair', '--dry-run'], cwd);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`Would replace the index file ${idx}`);
    const before = await eventsJson(cwd);
    const repaired = await runInProcess(['repair'], cwd);
    expect(repaired.stdout).toContain(`Replaced the index file ${idx}`);
    expect(repaired.stdout).not.toContain('Quarantined');
    const after = await eventsJson(cwd);
    expect(after.events).toEqual(before.events);
    expect((await runInProcess(['task', 'add', 's1', 't10', '--title', 'T'], cwd)).stderr).not.toContain('warning');
  });
});

describe('a repair cut off while it puts segments in place (R16)', () => {
  it('is finished by the next repair from its plan, with the true report; nothing is reported lost twice or at the wrong place', async () => {
    const root = await tempDir('moai-repair-interrupted-');
    const dir = join(root, 'events');
    const repairRoot = join(root, 'repair');
    const store = await openFileEventStore({ dir, maxSegmentBytes: 1000 });
    for (let i = 1; i <= 30; i++) await store.append(`session-${i % 3}`, [sampleEvent(`t${i}`)]);
    await store.close();
    const segments = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort();
    expect(segments.length).toBeGreaterThan(3);
    // Damage t2 (position 2) in the first segment and the task of the third segment's first line.
    const first = join(dir, segments[0]!);
    const third = join(dir, segments[2]!);
    await writeFile(first, (await readFile(first, 'utf8')).replace('"t2"', '"x2"'));
    const thirdText = await readFile(third, 'utf8');
    const thirdTask = /"taskId":"(t\d+)"/.exec(thirdText)![1]!;
    const thirdPosition = Number(thirdTask.slice(1));
    await writeFile(third, thirdText.replace(`"${thirdTask}"`, '"zz"'));
    const damagedThird = await readFile(third);
    const report = await repairLog({ dir, repairRoot, lockWaitMs: 0 });
    expect(report.lostPositions).toEqual([2, thirdPosition]);
    // As a crash leaves it after the first segment was put in place: the third is still the damaged one, the plan still started.
    const repairDir = report.repairDir!;
    await writeFile(third, damagedThird);
    for (const name of ['plan.json', 'report.json']) {
      const path = join(repairDir, name);
      await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(path, 'utf8')), status: 'started' }));
    }
    const refused = await openFileEventStore({ dir }).catch((e: unknown) => e);
    expect((refused as Error).message).toContain(`${third}:1`);
    const second = await repairLog({ dir, repairRoot, lockWaitMs: 0, now: new Date(Date.now() + 1000) });
    expect(second.finished).toEqual([repairDir]);
    expect(second.damaged).toBe(false); // the first repair, finished, left nothing to do
    const reports = await readRepairReports(repairRoot);
    expect(reports.map((r) => [r.status, r.lostPositions])).toEqual([['done', [2, thirdPosition]]]);
    const reopened = await openFileEventStore({ dir });
    const events: StoredEvent[] = [];
    for await (const event of reopened.readAll()) events.push(event);
    await reopened.close();
    expect(events.map((e) => e.position)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(events.filter((e) => e.type === 'EventLost').map((e) => e.position)).toEqual([2, thirdPosition]);
  });
});

describe('repair and --skip-damaged give one verdict (R20)', () => {
  it('call an unfinished last append (never acknowledged) not damage, both of them', async () => {
    const { cwd, events, segment } = await folderWithTasks(1);
    const store = await openFileEventStore({ dir: events });
    await store.append('s-b', [sampleEvent('b1'), sampleEvent('b2'), sampleEvent('b3')]);
    await store.close();
    // As a kill -9 mid-append leaves it: the last line is not there, and nothing recorded the append as acknowledged.
    await rm(join(events, 'segment-000001.idx'), { force: true });
    await rm(join(events, 'writer.acked'), { force: true });
    const text = await readFile(segment, 'utf8');
    await truncate(segment, Buffer.byteLength(text.slice(0, text.indexOf('\n', text.indexOf('"b2"')) + 1)));
    const plain = await eventsJson(cwd);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.events.some((e) => e.data.taskId === 'b1')).toBe(false);
    const skipping = await eventsJson(cwd, ['--skip-damaged']);
    expect(skipping.code).toBe(0);
    expect(skipping.stderr).toContain('the log is sound; nothing damaged was skipped');
    expect(skipping.stderr).toContain('left out 2 lines of an unfinished last append (never acknowledged, not damage');
    expect(skipping.stderr).not.toContain('run `moai-session repair`');
    const dry = await runInProcess(['repair', '--dry-run'], cwd);
    expect(dry.stdout).toContain('is sound: nothing to repair');
    expect(dry.stdout).toContain('Its last append is unfinished');
  });

  it("says lines known only from writer.acked were recorded by writer.acked, not by an index file", async () => {
    const { cwd, events, segment } = await folderWithTasks(3);
    // A crash (no index file for the active segment) after writer.acked recorded every line; then the last line is lost.
    const disk = await tempDir('moai-repair-acked-');
    const live = await openFileEventStore({ dir: events });
    await live.append('s-b', [sampleEvent('b1')]);
    await new Promise((resolve) => setTimeout(resolve, 1_300)); // the record is kept about once a second
    await mkdir(join(disk, '.moai'), { recursive: true });
    await cp(join(cwd, '.moai'), join(disk, '.moai'), { recursive: true, filter: (p) => !p.endsWith('writer.lock') && !p.endsWith('.idx') });
    await live.close();
    const copied = join(disk, '.moai', 'events', 'segment-000001.jsonl');
    const text = await readFile(copied, 'utf8');
    await truncate(copied, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1)));
    expect(segment).not.toBe(copied);
    const dry = await runInProcess(['repair', '--dry-run'], disk);
    expect(dry.stdout).toMatch(/Gone from .*segment-000001\.jsonl from line \d+: 1 event at positions? \d+ \(an unknown stream\), which the writer's record \(writer\.acked\) shows were acknowledged/);
    expect(dry.stdout).not.toContain('which its index file recorded');
  });
});

describe('a live follower across a repair (R23)', () => {
  it('stops with an error naming the repair, never skipping silently; positions are unchanged for it to resume', async () => {
    const root = await tempDir('moai-repair-follow-');
    const dir = join(root, 'events');
    const writer = await openFileEventStore({ dir });
    for (let i = 1; i <= 6; i++) await writer.append('session-a', [sampleEvent(`t${i}`)]);
    await writer.close();
    const reader = await openFileEventStore({ dir, readOnly: true, followIntervalMs: 10 });
    const seen: number[] = [];
    let failure: Error | undefined;
    reader.subscribe().subscribe({ next: (e) => seen.push(e.position), error: (e: Error) => (failure = e) });
    await vi.waitFor(() => expect(seen).toEqual([1, 2, 3, 4, 5, 6]));
    const segment = join(dir, 'segment-000001.jsonl');
    await writeFile(segment, (await readFile(segment, 'utf8')).replace('"Task t3"', '"Tusk t3"')); // a flipped byte: the same length
    const report = await repairLog({ dir, repairRoot: join(root, 'repair'), lockWaitMs: 0 });
    expect(report.lostPositions).toEqual([3]);
    const next = await openFileEventStore({ dir });
    await next.append('session-a', [sampleEvent('t7')]);
    await next.close();
    await vi.waitFor(() => expect(failure).toBeDefined(), { timeout: 5_000 });
    expect(failure!.message, failure!.message).toMatch(/was repaired at .* while this reader was reading it .*report: .*report\.json/);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    await reader.close();
    // Started again after its last position, it gets the new event at the next position: none was used again.
    const again = await openFileEventStore({ dir, readOnly: true });
    const after: StoredEvent[] = [];
    for await (const event of again.readAll({ fromPosition: 7 })) after.push(event);
    await again.close();
    expect(after.map((e) => [e.position, (e.data as { taskId: string }).taskId])).toEqual([[7, 't7']]);
  });
});
