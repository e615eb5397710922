import { InvalidArgumentError } from '../errors.js';

/** Parse a whole number from 1 given on the command line, or say which option was wrong. */
export function parsePositiveInteger(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`${option} takes a whole number from 1, not ${JSON.stringify(value)}.`);
  }
  return Number(value);
}

/** Parse a token count (a whole number, 0 or more) given on the command line, or say which option was wrong. */
export function parseTokenCount(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`${option} takes a number of tokens, a whole number 0 or more, not ${JSON.stringify(value)}.`);
  }
  return Number(value);
}

/** Parse a wait in milliseconds (a whole number, 0 or more, at most 10 minutes), or say which option was wrong. */
export function parseWaitMs(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) > 600_000) {
    throw new InvalidArgumentError(`${option} takes a number of milliseconds from 0 to 600000, not ${JSON.stringify(value)}.`);
  }
  return Number(value);
}

/** Parse JSON given on the command line or in a file, or say where it is broken. */
export function parseJsonArgument(what: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidArgumentError(`${what} is not valid JSON: ${(error as Error).message}.`);
  }
}
