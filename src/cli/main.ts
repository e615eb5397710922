#!/usr/bin/env node
const argv = process.argv.slice(2);
// A Claude Code hook runs per agent event (and the status line per prompt): `hook` and `statusline` go straight to
// their command, without the command-line parser, from the bundle the build makes of them when there is one.
let exitCode: number | undefined;
if (argv[0] === 'hook' || argv[0] === 'statusline') {
  const { loadHookBundle } = await import('./hookBundle.js');
  const run = loadHookBundle() ?? (await import('./hookEntry.js')).runFastCommand;
  exitCode = await run(argv[0], argv.slice(1));
} else if (argv.find((arg, i) => !arg.startsWith('-') && argv[i - 1] !== '--dir' && argv[i - 1] !== '--wait') === 'state') {
  // `state` too (a read an agent's tools may run often): its plain command lines, from the build's bundle of it.
  const { loadBundle } = await import('./bundleLoader.js');
  const bundle = loadBundle('state');
  const run = (bundle?.exports.runStateCommand as typeof import('./stateEntry.js').runStateCommand | undefined) ?? (await import('./stateEntry.js')).runStateCommand;
  exitCode = await run(argv);
  // After a run that did all of its work, so that the cache holds what a run compiles.
  if (exitCode === 0) bundle?.keepCodeCache();
}
process.exitCode = exitCode ?? (await (await import('./program.js')).runCli(argv, (await import('./io.js')).processIo()));
