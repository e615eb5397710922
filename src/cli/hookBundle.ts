// Loading dist/hook.cjs, the build's bundle of the hook and the status line,
// through a V8 code cache (see bundleLoader.ts). Anything wrong with the
// bundle or the cache: undefined, and the modules are imported as they are.

import { loadBundle } from './bundleLoader.js';

/** What the bundle exports: {@link import('./hookEntry.js').runFastCommand}. */
export type FastCommand = (command: string, argv: readonly string[]) => Promise<number | undefined>;

/** The bundle's fast command, or undefined when there is no usable bundle (a run from the sources, a build without it). */
export function loadHookBundle(): FastCommand | undefined {
  const bundle = loadBundle('hook');
  const run = bundle?.exports.runFastCommand as FastCommand | undefined;
  if (bundle === undefined || typeof run !== 'function') return undefined;
  // After the run, so that the functions it compiled are in the cache too.
  return async (command, argv) => {
    const code = await run(command, argv);
    bundle.keepCodeCache();
    return code;
  };
}
