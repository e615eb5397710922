import { InvalidArgumentError } from '../errors.js';
import { DEFAULT_JSON_LIMITS, parseJsonText, type JsonLimits } from '../validation/jsonText.js';

/** The bounds of a handoff package read as text: 64 levels (a package needs 4) and 16 MiB. */
export const HANDOFF_PACKAGE_JSON_LIMITS: JsonLimits = DEFAULT_JSON_LIMITS;

/**
 * Parse the text of a handoff package (a file, standard input) as JSON
 * within {@link HANDOFF_PACKAGE_JSON_LIMITS}; pass the result to
 * `validateHandoffPackage`. `source` names it in messages (a path, `stdin`).
 *
 * @throws {InvalidArgumentError} naming the source, the line and column and
 *   what is wrong: not JSON, empty, a key written twice, nested too deeply or too big.
 * @example
 * const value = parseHandoffPackageText(await readFile(path, 'utf8'), path);
 * const result = validateHandoffPackage(value, handoffRulesFromConfig(config));
 */
export function parseHandoffPackageText(text: string, source: string): unknown {
  const result = parseJsonText(text, HANDOFF_PACKAGE_JSON_LIMITS);
  if (result.ok) return result.value;
  const [first] = result.problems;
  const more = result.problems.length > 1 ? ` (and ${result.problems.length - 1} more like it)` : '';
  const where = first === undefined ? '' : ` at line ${first.line}, column ${first.column}`;
  const what =
    first?.kind === 'syntax' || first?.kind === 'empty' || first?.kind === 'duplicate-key'
      ? `is not valid JSON${where}: ${first.reason}`
      : `cannot be read${where}: ${first?.reason ?? 'it is not a JSON document'}; this cannot be a handoff package`;
  throw new InvalidArgumentError(`The handoff package in ${source} ${what}${more}.`);
}
