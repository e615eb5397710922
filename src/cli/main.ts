#!/usr/bin/env node
import { processIo } from './io.js';

const argv = process.argv.slice(2);
// A Claude Code hook runs per agent event (and the status line per prompt): `hook` and `statusline` go straight to
// their command, without the command-line parser.
const hookOptions = argv[0] === 'hook' || argv[0] === 'statusline' ? (await import('./commands/hook.js')).hookArguments(argv.slice(1)) : undefined;
if (hookOptions !== undefined && argv[0] === 'hook') {
  process.exitCode = await (await import('./commands/hook.js')).hookCommand(hookOptions, processIo());
} else if (hookOptions !== undefined && hookOptions.drain !== true) {
  process.exitCode = await (await import('./commands/statusline.js')).statusLineCommand(hookOptions, processIo());
} else {
  process.exitCode = await (await import('./program.js')).runCli(argv, processIo());
}
