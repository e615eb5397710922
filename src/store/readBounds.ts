import { InvalidArgumentError } from '../errors.js';

/**
 * Refuse a read bound (`fromVersion`, `toPosition`, ...) that is not a whole
 * number: a fraction or NaN names no event, and would otherwise send a read
 * to a line that does not exist. Bounds before the first event or past the
 * last are fine: a read clamps them.
 */
export function checkReadBounds(bounds: Readonly<Record<string, number | string | undefined>>): void {
  for (const [name, value] of Object.entries(bounds)) {
    if (value === undefined || value === 'end' || Number.isSafeInteger(value)) continue;
    throw new InvalidArgumentError(`${name} is a whole number (a version or a position), not ${JSON.stringify(value) ?? String(value)}.`);
  }
}
