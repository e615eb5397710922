// The damage matrix (issue 9's fault suite): each kind of damage to a log ×
// each kind of command. A damaged log is an exit 4 naming the file and line,
// for reads and writes alike, and no byte of the log changes, until the user
// runs `repair`, after which the log opens. What is not damage (a deleted
// index file, a stranger's file beside the segments) is no error.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInProcess } from '../cli/runInProcess.js';
import { tempDir } from '../helpers.js';
import { FULL, recordFigures } from './faultFigures.js';

interface Damage {
  name: string;
  /** Damage the log folder; says which file and line an error must name (none: not damage). */
  apply: (events: string) => Promise<{ file: string; line: number } | undefined>;
}

const SEGMENT = 'segment-000001.jsonl';

async function lines(events: string): Promise<string[]> {
  return (await readFile(join(events, SEGMENT), 'utf8')).trimEnd().split('\n');
}

/** Change one byte inside the JSON of line `n` (from 1), keeping its length. */
async function flipByteOfLine(events: string, pick: (count: number) => number): Promise<{ file: string; line: number }> {
  const all = await lines(events);
  const n = pick(all.length);
  const line = all[n - 1]!;
  const at = line.indexOf('"type"') + 2; // a letter of the word type
  all[n - 1] = `${line.slice(0, at)}${line[at] === 'x' ? 'y' : 'x'}${line.slice(at + 1)}`;
  await writeFile(join(events, SEGMENT), `${all.join('\n')}\n`);
  return { file: join(events, SEGMENT), line: n };
}

const DAMAGES: Damage[] = [
  { name: 'a flipped byte in the first line', apply: (events) => flipByteOfLine(events, () => 1) },
  { name: 'a flipped byte in a middle line', apply: (events) => flipByteOfLine(events, (count) => Math.ceil(count / 2)) },
  { name: 'a flipped byte in the last line', apply: (events) => flipByteOfLine(events, (count) => count) },
  {
    name: 'a segment cut in the middle of a line',
    apply: async (events) => {
      const all = await lines(events);
      const keep = all.slice(0, 4).join('\n').length + 1 + 20; // 4 lines and 20 bytes of the 5th
      await truncate(join(events, SEGMENT), keep);
      return { file: join(events, SEGMENT), line: 5 };
    },
  },
  {
    name: 'a segment cut after a line',
    apply: async (events) => {
      const all = await lines(events);
      await truncate(join(events, SEGMENT), all.slice(0, 4).join('\n').length + 1);
      return { file: join(events, SEGMENT), line: 5 };
    },
  },
  {
    name: "another log's index file",
    apply: async (events) => {
      const other = join(await mkdtemp(join(tmpdir(), 'moai-other-')), '.moai');
      await runInProcess(['--dir', other, 'start', '--session', 'zz', '--agent', 'z', '--model', 'claude-sonnet-4-5', '--title', 'A much longer title than ours'], tmpdir());
      await cp(join(other, 'events', 'segment-000001.idx'), join(events, 'segment-000001.idx'));
      return { file: join(events, SEGMENT), line: 1 };
    },
  },
  {
    name: 'a junk segment file without a line end',
    apply: async (events) => {
      await writeFile(join(events, 'segment-000002.jsonl'), 'junk that is not ours');
      return { file: join(events, 'segment-000002.jsonl'), line: 1 };
    },
  },
  {
    name: 'a junk line after the last',
    apply: async (events) => {
      const count = (await lines(events)).length;
      await writeFile(join(events, SEGMENT), `${(await lines(events)).join('\n')}\nnot an event line\n`);
      return { file: join(events, SEGMENT), line: count + 1 };
    },
  },
  { name: 'a deleted index file (not damage)', apply: async (events) => (await rm(join(events, 'segment-000001.idx')), undefined) },
  {
    name: 'an index file with a flipped byte (not damage: it is ignored, and kept)',
    apply: async (events) => {
      const bytes = await readFile(join(events, 'segment-000001.idx'));
      bytes[20] = bytes[20]! ^ 0xff;
      await writeFile(join(events, 'segment-000001.idx'), bytes);
      return undefined;
    },
  },
  { name: "a stranger's file beside the segments (not damage)", apply: async (events) => (await writeFile(join(events, 'notes.txt'), 'mine'), undefined) },
];

const ALL_COMMANDS: { name: string; args: string[]; writes: boolean }[] = [
  { name: 'events', args: ['events'], writes: false },
  { name: 'state', args: ['state', 's1'], writes: false },
  { name: 'replay', args: ['replay'], writes: false },
  { name: 'task add', args: ['task', 'add', 's1', 'tnew', '--title', 'New'], writes: true },
  { name: 'usage', args: ['usage', 's1', '--input', '10', '--output', '5'], writes: true },
];
/** `npm test` runs one read and one write command per damage; `test:faults` all of them. */
const COMMANDS = FULL ? ALL_COMMANDS : ALL_COMMANDS.filter((c) => c.name === 'events' || c.name === 'task add');

/** Every file of the log folder and its bytes (the lock aside). */
async function snapshot(events: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(events)).sort()) {
    if (!name.startsWith('writer.lock')) files[name] = (await readFile(join(events, name))).toString('base64');
  }
  return files;
}

async function baseFolder(): Promise<string> {
  const cwd = await tempDir('moai-matrix-base-');
  for (const args of [
    ['start', '--session', 's1', '--agent', 'alice', '--model', 'claude-sonnet-4-5'],
    ['task', 'add', 's1', 't1', '--title', 'One'],
    ['task', 'add', 's1', 't2', '--title', 'Two'],
    ['task', 'send', 's1', 't1', 'START'],
    ['task', 'add', 's1', 't3', '--title', 'Three'],
    ['usage', 's1', '--input', '1000', '--output', '200'],
    ['task', 'add', 's1', 't4', '--title', 'Four'],
  ]) {
    const result = await runInProcess(args, cwd);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  }
  return cwd;
}

describe('the damage matrix', () => {
  it(`gives each of ${DAMAGES.length} kinds of damage × ${COMMANDS.length} commands the right exit, a message naming file and line, and no change until repair`, async () => {
    const base = await baseFolder();
    const stateBefore = (await runInProcess(['state', 's1', '--json'], base)).stdout;
    let cells = 0;
    let fromSnapshot = 0;
    for (const damage of DAMAGES) {
      for (const command of COMMANDS) {
        const cwd = await tempDir('moai-matrix-');
        await cp(join(base, '.moai'), join(cwd, '.moai'), { recursive: true });
        const events = join(cwd, '.moai', 'events');
        const where = await damage.apply(events);
        const before = await snapshot(events);
        const result = await runInProcess(command.args, cwd);
        const cell = `${damage.name} × ${command.name}: exit ${result.code}, ${result.stderr.trim()}`;
        cells++;
        if (where !== undefined) {
          if (command.name === 'state' && result.code === 0) {
            fromSnapshot++;
            // State may answer from the view snapshot the writer left, which the log's indexed lines confirm,
            // without reading every line: then its answer must be the one from before the damage.
            expect((await runInProcess(['state', 's1', '--json'], cwd)).stdout, cell).toBe(stateBefore);
          } else {
            expect(result.code, cell).toBe(4);
            expect(result.stderr, cell).toContain(`${where.file}:${where.line}`);
            expect(result.stderr, cell).toContain('moai-session repair');
          }
          expect(await snapshot(events), cell).toEqual(before);
        } else {
          expect(result.code, cell).toBe(0);
          if (!command.writes) expect(await snapshot(events), cell).toEqual(before);
        }
      }
      // And repair, once per damage: afterwards the log opens for every command. (What was lost stays lost:
      // without its SessionStarted line, session s1 is no more, and a command on it is refused as bad input.)
      const cwd = await tempDir('moai-matrix-repair-');
      await cp(join(base, '.moai'), join(cwd, '.moai'), { recursive: true });
      await damage.apply(join(cwd, '.moai', 'events'));
      const repaired = await runInProcess(['repair'], cwd);
      expect(repaired.code, `${damage.name} × repair: ${repaired.stderr}`).toBe(0);
      expect((await runInProcess(['events'], cwd)).code, `${damage.name}, repaired, × events`).toBe(0);
      for (const command of COMMANDS) {
        const after = await runInProcess(command.args, cwd);
        const cell = `${damage.name}, repaired, × ${command.name}: ${after.code} ${after.stderr}`;
        expect([4, 70], cell).not.toContain(after.code);
        if (!damage.name.includes('first line')) expect(after.code, cell).toBe(0);
      }
    }
    recordFigures({ test: 'damage matrix (kinds of damage × commands)', runs: cells, acknowledged: 0, lost: 0, duplicated: 0, refused: 0, note: `${DAMAGES.length} kinds × ${COMMANDS.length} commands, then repair; state answered from its confirmed view snapshot in ${fromSnapshot}` });
  }, 300_000);
});

/** Root can mount a small tmpfs: a full disk and a read-only folder made for real. */
function canMount(): boolean {
  if (process.getuid?.() !== 0 || process.platform !== 'linux') return false;
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('a full disk and a read-only folder', () => {
  const mountable = canMount();
  if (!mountable) console.log('Skipping the full-disk and read-only tests: they mount a tmpfs, which needs root on Linux.');

  it.runIf(mountable)('refuses a write on a full disk with a clear error, and the log still opens with everything acknowledged', async () => {
    const mountPoint = await mkdtemp(join(tmpdir(), 'moai-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mountPoint]);
    try {
      const base = await baseFolder();
      await cp(join(base, '.moai'), join(mountPoint, '.moai'), { recursive: true });
      const head = (await runInProcess(['events', '--json'], mountPoint)).stdout.trim().split('\n').length;
      // Fill the disk to the last byte.
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(mountPoint, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
      } catch {
        // "No space left on device": full, as wanted
      }
      const big = 'x'.repeat(4000);
      let refused = 0;
      for (let i = 0; i < 20; i++) {
        const result = await runInProcess(['task', 'add', 's1', `full${i}`, '--title', big], mountPoint);
        if (result.code !== 0) {
          refused++;
          expect(result.code).not.toBe(70); // never an internal error
          expect(result.stderr).toMatch(/ENOSPC|no space/i);
        }
      }
      expect(refused).toBeGreaterThan(0);
      await rm(join(mountPoint, 'filler'));
      const after = await runInProcess(['events', '--json'], mountPoint);
      expect(after.code, after.stderr).toBe(0);
      const count = after.stdout.trim().split('\n').length;
      expect(count).toBeGreaterThanOrEqual(head);
      expect((await runInProcess(['task', 'add', 's1', 'room', '--title', 'Room again'], mountPoint)).code).toBe(0);
    } finally {
      execFileSync('umount', ['-l', mountPoint]);
    }
  });

  it.runIf(mountable)('reads a log on a read-only folder, and refuses a write with a clear error, exit 1', async () => {
    const mountPoint = await mkdtemp(join(tmpdir(), 'moai-ro-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
    try {
      const base = await baseFolder();
      await cp(join(base, '.moai'), join(mountPoint, '.moai'), { recursive: true });
      await mkdir(join(mountPoint, '.moai', 'sessions'), { recursive: true });
      execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
      const before = await snapshot(join(mountPoint, '.moai', 'events'));
      for (const args of [['events'], ['replay'], ['state', 's1']]) expect((await runInProcess(args, mountPoint)).code, args.join(' ')).toBe(0);
      const write = await runInProcess(['task', 'add', 's1', 'ro', '--title', 'RO'], mountPoint);
      expect(write.code).toBe(1);
      expect(write.stderr).toMatch(/read-only file system|EROFS/i);
      expect(await snapshot(join(mountPoint, '.moai', 'events'))).toEqual(before);
    } finally {
      execFileSync('umount', ['-l', mountPoint]);
    }
  });
});
