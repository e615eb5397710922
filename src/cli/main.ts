#!/usr/bin/env node
import { processIo } from './io.js';

const argv = process.argv.slice(2);
// A Claude Code hook runs per agent event (and the status line per prompt): `hook` and `statusline` go straight to
// their command, without the command-line parser, from the bundle the build makes of them when there is one.
let exitCode: number | undefined;
if (argv[0] === 'hook' || argv[0] === 'statusline') {
  const { loadHookBundle } = await import('./hookBundle.js');
  const run = loadHookBundle() ?? (await import('./hookEntry.js')).runFastCommand;
  exitCode = await run(argv[0], argv.slice(1));
}
process.exitCode = exitCode ?? (await (await import('./program.js')).runCli(argv, processIo()));
