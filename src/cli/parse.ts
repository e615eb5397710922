import { InvalidArgumentError } from '../errors.js';

/** Parse a whole number from 1 given on the command line, or say which option was wrong. */
export function parsePositiveInteger(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`${option} takes a whole number from 1, not ${JSON.stringify(value)}.`);
  }
  return Number(value);
}
