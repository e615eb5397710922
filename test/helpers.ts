import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A clock that ticks one second per call from a fixed start: deterministic timestamps. */
export function steppingClock(start = Date.parse('2026-01-01T00:00:00.000Z')): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

/** Sequential ids: evt-1, evt-2, ... */
export function sequentialIds(prefix = 'id'): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

/** A fresh temporary folder. */
export async function tempDir(name = 'moai-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), name));
}
