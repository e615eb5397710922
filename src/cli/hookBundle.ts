// Loading dist/hook.cjs, the build's bundle of the hook and the status line,
// through a V8 code cache: the bundle is compiled from the cache V8 made of
// it in an earlier run (beside it, or in the temporary folder when the
// package's folder cannot be written), and a run that had none, or whose
// cache V8 refused (another Node), leaves a new one. Anything wrong with the
// bundle or the cache: undefined, and the modules are imported as they are.

import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** What the bundle exports: {@link import('./hookEntry.js').runFastCommand}. */
export type FastCommand = (command: string, argv: readonly string[]) => Promise<number | undefined>;

/** The bundle's fast command, or undefined when there is no usable bundle (a run from the sources, a build without it). */
export function loadHookBundle(): FastCommand | undefined {
  try {
    const file = fileURLToPath(new URL('../../hook.cjs', import.meta.url));
    if (!existsSync(file)) return undefined;
    const source = readFileSync(file, 'utf8');
    const stamp = statSync(file);
    const caches = [`${file}.cache`, join(tmpdir(), `moai-session-hook-${stamp.size}-${Math.round(stamp.mtimeMs)}-${process.version}.cache`)];
    const cacheFile = caches.find((path) => existsSync(path));
    const cachedData = cacheFile === undefined ? undefined : readFileSync(cacheFile);
    const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
      filename: file,
      ...(cachedData === undefined ? {} : { cachedData }),
    });
    const module = { exports: {} as { runFastCommand?: FastCommand } };
    (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
    const run = module.exports.runFastCommand;
    if (typeof run !== 'function') return undefined;
    if (cachedData !== undefined && !script.cachedDataRejected) return run;
    // After the run, so that the functions it compiled are in the cache too.
    return async (command, argv) => {
      const code = await run(command, argv);
      for (const path of caches) {
        try {
          const temporary = `${path}.${process.pid}.tmp`;
          writeFileSync(temporary, script.createCachedData());
          renameSync(temporary, path);
          break;
        } catch {
          // not writable here: the next place
        }
      }
      return code;
    };
  } catch {
    return undefined;
  }
}
