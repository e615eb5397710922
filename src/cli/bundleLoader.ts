// Loading a CommonJS bundle the build makes (dist/<name>.cjs) through a V8
// code cache: the bundle is compiled from the cache V8 made of it in an
// earlier run (beside it, or in the temporary folder when the package's
// folder cannot be written), and a run that had none, or whose cache V8
// refused (another Node), leaves a new one. Anything wrong with the bundle or
// the cache: undefined, and the caller imports the modules as they are.

import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** A bundle loaded by {@link loadBundle}. */
export interface LoadedBundle {
  /** What the bundle exports. */
  exports: Record<string, unknown>;
  /**
   * Keep the code cache V8 can make now, when this run had none or V8 refused
   * it: called after the work, so that the functions it compiled are in it too.
   */
  keepCodeCache: () => void;
}

/** The bundle `dist/<name>.cjs` of this build, or undefined when there is none (a run from the sources) or it cannot be loaded. */
export function loadBundle(name: string): LoadedBundle | undefined {
  try {
    const file = fileURLToPath(new URL(`../../${name}.cjs`, import.meta.url));
    if (!existsSync(file)) return undefined;
    const source = readFileSync(file, 'utf8');
    const stamp = statSync(file);
    const caches = [`${file}.cache`, join(tmpdir(), `moai-session-${name}-${stamp.size}-${Math.round(stamp.mtimeMs)}-${process.version}.cache`)];
    const cacheFile = caches.find((path) => existsSync(path));
    const cachedData = cacheFile === undefined ? undefined : readFileSync(cacheFile);
    const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
      filename: file,
      ...(cachedData === undefined ? {} : { cachedData }),
    });
    const module = { exports: {} as Record<string, unknown> };
    (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
    const fresh = cachedData === undefined || script.cachedDataRejected === true;
    return {
      exports: module.exports,
      keepCodeCache: () => {
        if (!fresh) return;
        for (const path of caches) {
          try {
            const temporary = `${path}.${process.pid}.tmp`;
            writeFileSync(temporary, script.createCachedData());
            renameSync(temporary, path);
            return;
          } catch {
            // not writable here: the next place
          }
        }
      },
    };
  } catch {
    return undefined;
  }
}
