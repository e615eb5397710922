import { createRequire } from 'node:module';
import type * as Rx from 'rxjs';

const require = createRequire(import.meta.url);
let loaded: typeof Rx | undefined;

/**
 * rxjs, loaded the first time an Observable is asked for: a command or a hook
 * that makes none never pays for loading it (about as long as starting Node).
 * On Node, `import 'rxjs'` resolves to the same CommonJS build, so the
 * Observables made here are the ones an embedder's own rxjs operators expect.
 */
export const rx = (): typeof Rx => (loaded ??= require('rxjs') as typeof Rx);
