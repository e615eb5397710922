import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileEventStore } from '../src/index.js';
import { sampleEvent } from '../src/testing/index.js';

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

/**
 * A file log in `dir` of one event ("before") and then one append of three
 * (x1 to x3, positions 2 to 4), closed: its segment file and that file's text,
 * for tests that cut the append short.
 */
export async function logWithAppendOfThree(dir: string): Promise<{ file: string; text: string }> {
  const store = await openFileEventStore({ dir });
  await store.append('session-a', [sampleEvent('before')]);
  await store.append('session-a', [sampleEvent('x1'), sampleEvent('x2'), sampleEvent('x3')]);
  await store.close();
  const file = join(dir, 'segment-000001.jsonl');
  return { file, text: await readFile(file, 'utf8') };
}
