/** Hide the password of a URL (`postgres://user:secret@host` -> `postgres://user:****@host`) before it goes into a message. */
export const redactUrlPassword = (text: string): string =>
  text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/, '$1****@');

// Long enough to recognise a value, short enough to keep a message on a line or two.
const SHOWN_LENGTH = 80;

/**
 * A value as an error message shows it: JSON, cut at 80 characters; `missing`
 * for undefined; a URL's password hidden; text that reads as a number or a
 * boolean flagged as text (`"70" (text in quotes)`), since that is the usual
 * mistake. Never throws, whatever the value (cycles, deep nesting, bigints).
 *
 * @example
 * describeValue('70'); // '"70" (text in quotes)'
 * describeValue({ a: 1 }); // '{"a":1}'
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return `${value} (a bigint)`;
  if (typeof value === 'symbol') return String(value);
  if (typeof value === 'string') {
    const inner = redactUrlPassword(JSON.stringify(value).slice(1, -1));
    const quoted = `"${inner.length > SHOWN_LENGTH ? `${inner.slice(0, SHOWN_LENGTH - 3)}...` : inner}"`;
    return /^(-?\d+(\.\d+)?|true|false)$/.test(value) ? `${quoted} (text in quotes)` : quoted;
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // A cycle, or nesting deeper than the stack.
    text = Array.isArray(value) ? 'a list' : 'an object';
  }
  return text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH - 3)}...` : text;
}
