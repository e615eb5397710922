import type { CliIo } from './io.js';

/** The styles the CLI uses; each returns the text unchanged when colour is off. */
export interface Colours {
  bold(text: string): string;
  dim(text: string): string;
  good(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
}

const plain: Colours = { bold: (t) => t, dim: (t) => t, good: (t) => t, bad: (t) => t, warn: (t) => t };
// The SGR codes themselves: the decision to colour is ours (colourWanted), not the runtime's.
const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const styled: Colours = { bold: sgr(1, 22), dim: sgr(2, 22), good: sgr(32, 39), bad: sgr(31, 39), warn: sgr(33, 39) };

/**
 * Whether a command's output is coloured: `FORCE_COLOR` (anything but `0`)
 * turns it on, `NO_COLOR` (any value) off, and otherwise only a terminal gets
 * colour, never a pipe or a file (see https://no-color.org).
 */
export function colourWanted(env: Readonly<Record<string, string | undefined>>, isTerminal: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTerminal && env.TERM !== 'dumb';
}

/** The styles for a command's output to `io`. */
export const coloursFor = (io: CliIo): Colours => (colourWanted(io.env, io.stdoutIsTerminal === true) ? styled : plain);

/** A task or session state in its colour: done green, failing red, waiting yellow. */
export function stateColour(colours: Colours, state: string): string {
  if (state === 'completed' || state === 'active') return colours.good(state);
  if (state === 'failed') return colours.bad(state);
  if (state === 'blocked' || state === 'token_warning' || state === 'handing_off' || state === 'recovering') return colours.warn(state);
  if (state === 'ended') return colours.dim(state);
  return state;
}

/** The visible width of a text, without its colour codes (for aligning columns). */
export const visibleLength = (text: string): number =>
  text.includes('\u001b') ? text.replace(/\u001b\[[0-9;]*m/g, '').length : text.length;
