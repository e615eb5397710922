import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // One worker per core: Vitest's default leaves one to its main process, which mostly waits,
    // so on two cores the files ran one at a time, and a file that waits for a spawned process held the only worker.
    maxWorkers: availableParallelism(),
    // A worker keeps node_modules loaded from one test file to the next instead of starting a
    // process per file: re-loading TypeBox, rxjs, XState and Immutable.js for each file was half
    // of the suite's CPU time. Our own modules are still fresh for each file (freshModules.ts).
    isolate: false,
    setupFiles: ['test/freshModules.ts'],
  },
});
