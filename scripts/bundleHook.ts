// Bundle the hook's and the status line's entry (dist/src/cli/hookEntry.js,
// built by tsc) into one CommonJS file, dist/hook.cjs, that
// src/cli/hookBundle.ts loads with a V8 code cache: Claude Code starts a
// process per event, and one cached file starts faster than ~130 modules.
// Without esbuild the build goes on without it (the modules are imported).
// Run: node --import tsx scripts/bundleHook.ts (npm run build does).
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = (path: string) => fileURLToPath(new URL(`../dist/${path}`, import.meta.url));
try {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [dist('src/cli/hookEntry.js')],
    outfile: dist('hook.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // import.meta.url of a bundled module is the bundle's own URL.
    define: { 'import.meta.url': '__moaiBundleUrl' },
    banner: { js: "const __moaiBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'error',
    legalComments: 'none',
  });
  // The code cache of the bundle before (V8 would refuse it anyway): the first run makes the new one.
  rmSync(dist('hook.cjs.cache'), { force: true });
} catch (error) {
  console.warn(`dist/hook.cjs not built (${(error as Error).message}): the hook imports its modules instead.`);
}
