/**
 * `text` cut to at most `max` UTF-16 code units, ending in `ellipsis` when it
 * was cut. The cut never splits a surrogate pair: a lone half of an emoji
 * (or any character beyond the Basic Multilingual Plane) is not valid
 * Unicode, and text with one makes JSON that the Anthropic API refuses ("no
 * low surrogate in string") once an agent's context carries it.
 */
export function clipText(text: string, max: number, ellipsis = '...'): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - ellipsis.length);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // a high surrogate whose low half would be cut off
  return `${text.slice(0, end)}${ellipsis}`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` with every lone surrogate (half of a pair, from a bad cut anywhere upstream) replaced by U+FFFD, so that it is valid Unicode. */
export const wellFormed = (text: string): string => text.replace(LONE_SURROGATE, '\uFFFD');
