// The hook's and the status line's entry in the bundle the build makes of
// them (dist/hook.cjs, see scripts/bundleHook.ts): one file, loaded with a V8
// code cache, instead of the ~130 modules they import, since Claude Code
// starts a process per event.

import { hookArguments, hookCommand } from './commands/hook.js';
import { statusLineCommand } from './commands/statusline.js';
import { processIo } from './io.js';

/** Run `hook` or `statusline` with the arguments after it; undefined when the arguments are not the fast path's (the full parser takes them). */
export async function runFastCommand(command: string, argv: readonly string[]): Promise<number | undefined> {
  const options = hookArguments(argv);
  if (options === undefined) return undefined;
  if (command === 'hook') return hookCommand(options, processIo());
  if (command === 'statusline' && options.drain !== true) return statusLineCommand(options, processIo());
  return undefined;
}
