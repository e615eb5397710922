import type { MoaiConfig } from './schema.js';
import { checkConfig } from './validateConfig.js';

/**
 * Validate a parsed configuration document and return the effective
 * configuration: the document merged over {@link DEFAULT_CONFIG} (objects
 * deeply, lists and values replaced), checked against the schema and the rules
 * that tie keys together (monitor < warning < emergency, allocation shares
 * summing to 100, a URL for a postgres store). Pure: no files, no environment.
 * `source` names the document in error messages.
 *
 * @throws {ConfigError} naming every unknown key (with the allowed keys and a
 *   likely intended one), wrong type or out-of-range value (with the value given
 *   and what is allowed), and broken rule.
 * @example
 * const config = parseConfig({ session: { max_parallel_sessions: 5 } }, 'inline');
 * config.session.max_parallel_sessions; // 5
 * config.session.context_budget.warning_threshold_percent; // 75, the default
 */
export function parseConfig(value: unknown, source: string): MoaiConfig {
  return checkConfig(value, source);
}
