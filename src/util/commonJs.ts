import { createRequire } from 'node:module';

/**
 * `require` for the CommonJS packages on a command's start-up path
 * (Immutable.js, commander, safe-stable-stringify). Imported from ESM, Node
 * first scans a CommonJS file to find its named exports, and for a large file
 * that costs several times what running it does (Immutable.js: about 330 M
 * instructions imported, 40 M required; Node's own start-up is 500 M). The
 * module is the same either way: Node keeps one copy of each.
 */
export const requireCommonJs = createRequire(import.meta.url);
