import { MoaiError } from '../errors.js';

/** One thing wrong with a configuration: the key it concerns and a sentence saying what is allowed. */
export interface ConfigIssue {
  /** The key path, e.g. `session.context_budget.warning_threshold_percent`; empty for the document as a whole. */
  readonly key: string;
  /** A full sentence: what was wrong, the value given, what is allowed. */
  readonly message: string;
  /** 1-based line in the file, when known (JSON syntax errors, duplicate keys). */
  readonly line?: number;
  /** 1-based column in the file, when known. */
  readonly column?: number;
}

function render(source: string, issues: readonly ConfigIssue[]): string {
  const first = issues[0];
  if (first === undefined) return `Invalid configuration in ${source}.`;
  const at = (issue: ConfigIssue) => (issue.line === undefined ? '' : `line ${issue.line}, column ${issue.column ?? 1}`);
  if (issues.length === 1) {
    const where = at(first);
    return `Invalid configuration in ${source}${where === '' ? '' : ` at ${where}`}: ${first.message}`;
  }
  return (
    `Invalid configuration in ${source} (${issues.length} problems):\n` +
    issues.map((issue) => `  - ${at(issue) === '' ? '' : `${at(issue)}: `}${issue.message}`).join('\n')
  );
}

/**
 * A configuration that cannot be used: a file that is not valid JSON, an
 * unknown key, a value of the wrong type or out of range, settings that
 * contradict each other, or a bad `MOAI_STORE_URL`. The message names the
 * source, the key, the value given and what is allowed; `issues` has each
 * problem separately.
 */
export class ConfigError extends MoaiError {
  constructor(
    /** Where the configuration came from: a file path, or `MOAI_STORE_URL`. */
    readonly source: string,
    /** Every problem found, in file order where it is known. */
    readonly issues: readonly ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    super('CONFIG', render(source, issues), options);
  }
}

/** True when `error` is a {@link ConfigError}. */
export const isConfigError = (error: unknown): error is ConfigError => error instanceof ConfigError;
