import { ExpectedVersionConflictError } from '../errors.js';
import type { ExpectedVersion } from './eventStore.js';

/** Throw {@link ExpectedVersionConflictError} unless a stream at `actual` meets `expected`. */
export function checkExpectedVersion(stream: string, expected: ExpectedVersion, actual: number): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && actual === 0) ||
    (expected === 'stream_exists' && actual > 0) ||
    expected === actual;
  if (!ok) throw new ExpectedVersionConflictError(stream, expected, actual);
}
