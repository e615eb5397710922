/**
 * A number with its thousands grouped by commas and at most three decimals,
 * as `toLocaleString('en-US')` writes it (`1234567.8912` is `1,234,567.891`).
 * Written out because the first `toLocaleString` of a process loads the locale
 * data, which costs about a fifth of Node's own start-up: too much for a
 * command or a hook that prints one line.
 */
export function groupDigits(value: number): string {
  if (!Number.isFinite(value) || Math.abs(value) >= 1e21) return String(value);
  const magnitude = Math.abs(value);
  // Whole numbers as they are (scaling one by 1,000 would lose digits past 2^53 / 1,000).
  const fixed = Number.isInteger(magnitude) ? magnitude.toFixed(0) : (Math.round(magnitude * 1000) / 1000).toFixed(3);
  const [whole = '0', fraction = ''] = fixed.split('.');
  let grouped = '';
  for (let end = whole.length; end > 0; end -= 3) {
    const group = whole.slice(Math.max(0, end - 3), end);
    grouped = grouped === '' ? group : `${group},${grouped}`;
  }
  const decimals = fraction.replace(/0+$/, '');
  const text = decimals === '' ? grouped : `${grouped}.${decimals}`;
  return value < 0 && text !== '0' ? `-${text}` : text;
}
