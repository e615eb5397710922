// `state` runs without the command-line parser from the built bundle
// (dist/state.cjs, src/cli/stateEntry.ts): the plain command lines it takes,
// and, through the real binary, the same output, messages and exit codes as
// the parser's run of the same command line (runInProcess).
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/index.js';
import { stateArguments } from '../../src/cli/stateEntry.js';
import { tempDir } from '../helpers.js';
import { runBinary } from './runBinary.js';
import { runInProcess } from './runInProcess.js';

const defaults = { dir: '.moai', json: false, debug: false, skipDamaged: false, sessionId: undefined };

describe('stateArguments', () => {
  it('takes the plain command lines of state, global options before or after it', () => {
    expect(stateArguments(['state'])).toEqual(defaults);
    expect(stateArguments(['state', 'long'])).toEqual({ ...defaults, sessionId: 'long' });
    expect(stateArguments(['--dir', 'x', 'state', 'long', '--json'])).toEqual({ ...defaults, dir: 'x', json: true, sessionId: 'long' });
    expect(stateArguments(['state', '--at', '7', 'long', '--debug', '--skip-damaged', '--wait', '100'])).toEqual({
      ...defaults,
      at: '7',
      debug: true,
      skipDamaged: true,
      wait: '100',
      sessionId: 'long',
    });
    // The last of a repeated option wins, as in the parser.
    expect(stateArguments(['--dir', 'a', 'state', '--dir', 'b'])).toEqual({ ...defaults, dir: 'b' });
  });

  it('leaves every other command line to the full parser', () => {
    for (const argv of [
      [],
      ['sessions'],
      ['events', '--session', 'state'],
      ['state', '--help'],
      ['state', '-h'],
      ['help', 'state'],
      ['state', '--at=5'],
      ['state', '--at'],
      ['state', '--at', '-1'],
      ['--at', '5', 'state'],
      ['--skip-damaged', 'state'],
      ['state', 'a', 'b'],
      ['state', '--unknown'],
      ['state', '--', 'long'],
      ['--dir', 'state'],
      ['--version', 'state'],
    ]) {
      expect(stateArguments(argv), argv.join(' ')).toBeUndefined();
    }
  });
});

describe('state through the binary', () => {
  it('is built as a bundle', () => {
    expect(existsSync(fileURLToPath(new URL('../../dist/state.cjs', import.meta.url)))).toBe(true);
  });

  it('prints, says and exits as the parser does, for plain and other command lines alike', async () => {
    const cwd = await tempDir('moai-cli-state-fast-');
    const engine = await createEngine({ dir: join(cwd, '.moai') });
    const session = await engine.startSession({ sessionId: 'long', agent: 'planner', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 't1', title: 'First' });
    await session.sendTask('t1', 'START');
    await session.recordUsage({ input_tokens: 1_200, output_tokens: 300 });
    await engine.close();
    await mkdir(join(cwd, 'empty'));
    await writeFile(join(cwd, 'empty', 'note'), 'not a state folder');
    const commandLines = [
      ['state', 'long'],
      ['state'],
      ['state', 'lo'],
      ['--json', 'state', 'long'],
      ['state', 'long', '--at', '2'],
      ['state', 'long', '--at', '2', '--json', '--debug'],
      ['state', 'long', '--at', '99'],
      ['state', 'long', '--at', 'x'],
      ['state', 'nobody'],
      ['state', 'bad id!'],
      ['--dir', 'empty', 'state', 'long'],
      ['--dir', 'missing', 'state'],
      ['state', 'long', '--skip-damaged'],
      ['state', '--help'],
      ['state', 'long', 'more'],
      ['state', '--at'],
    ];
    for (const argv of commandLines) {
      const binary = await runBinary(argv, cwd);
      const parsed = await runInProcess(argv, cwd);
      expect(binary, argv.join(' ')).toEqual(parsed);
    }
    // A damaged log: refused (exit 4), or read past the damage with --skip-damaged (the salvage loads rxjs, kept out of the bundle).
    const damaged = await tempDir('moai-cli-state-fast-damaged-');
    await cp(join(cwd, '.moai'), join(damaged, '.moai'), { recursive: true });
    const [segment] = (await readdir(join(damaged, '.moai', 'events'))).filter((name) => name.endsWith('.jsonl'));
    const text = await readFile(join(damaged, '.moai', 'events', segment!), 'utf8');
    const lines = text.split('\n');
    lines[2] = `${lines[2]!.slice(0, 40)}#damaged#${lines[2]!.slice(49)}`;
    await writeFile(join(damaged, '.moai', 'events', segment!), lines.join('\n'));
    await rm(join(damaged, '.moai', 'cache'), { recursive: true, force: true }); // no view snapshot: every event is read
    for (const argv of [['state', 'long'], ['state', 'long', '--skip-damaged']]) {
      const binary = await runBinary(argv, damaged);
      expect(binary, `damaged: ${argv.join(' ')}`).toEqual(await runInProcess(argv, damaged));
      expect(binary.code).toBe(argv.length === 2 ? 4 : 0);
    }
    // What it printed is the session: the task, its state and the tokens.
    const shown = await runBinary(['state', 'long'], cwd);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^Session long\n/);
    expect(shown.stdout).toMatch(/t1 +in_progress +1 +First/);
    expect(shown.stdout).toContain('context in use  1,200');
    expect((await runBinary(['state', 'nobody'], cwd)).code).toBe(1);
  });
});
