#!/usr/bin/env node
import { processIo } from './io.js';

const argv = process.argv.slice(2);
// A Claude Code hook runs per agent event: `hook` goes straight to its command, without the command-line parser.
const hookOptions = argv[0] === 'hook' ? (await import('./commands/hook.js')).hookArguments(argv.slice(1)) : undefined;
if (hookOptions !== undefined) {
  process.exitCode = await (await import('./commands/hook.js')).hookCommand(hookOptions, processIo());
} else {
  process.exitCode = await (await import('./program.js')).runCli(argv, processIo());
}
