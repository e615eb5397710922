// Bundle `state`'s entry without the command-line parser (dist/src/cli/stateEntry.js,
// built by tsc) into one CommonJS file, dist/state.cjs, that src/cli/main.ts
// loads with a V8 code cache (src/cli/bundleLoader.ts): one cached file
// starts faster than commander and the ~90 modules `state` imports.
// Without esbuild the build goes on without it (the modules are imported).
// Run: node --import tsx scripts/bundleCli.ts (npm run build does).
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = (path: string) => fileURLToPath(new URL(`../dist/${path}`, import.meta.url));
try {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [dist('src/cli/stateEntry.js')],
    outfile: dist('state.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Reached only by what a plain state does not do (a damaged log's salvage, a PostgreSQL store):
    // required from node_modules then, instead of a third of the bundle read and cached on every run.
    external: ['rxjs', 'pg'],
    // import.meta.url of a bundled module is the bundle's own URL.
    define: { 'import.meta.url': '__moaiBundleUrl' },
    banner: { js: "const __moaiBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'error',
    legalComments: 'none',
  });
  // The code cache of the bundle before: V8 checks little more than the source's length, so a stale one must go.
  rmSync(dist('state.cjs.cache'), { force: true });
} catch (error) {
  console.warn(`dist/state.cjs not built (${(error as Error).message}): state imports its modules instead.`);
}
