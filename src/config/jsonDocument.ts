import { DEFAULT_JSON_LIMITS, parseJsonText, type JsonLimits, type JsonTextProblem } from '../validation/jsonText.js';
import { ConfigError, type ConfigIssue } from './configError.js';

/*
 * The config file as a JSON document: parsed within bounds, every problem a
 * ConfigError naming the file, the line and the column. Internal to the
 * config module.
 */

/** The bounds of a config file: 64 levels (it needs 5) and 1 MiB (the defaults are under 2 KiB). */
export const CONFIG_JSON_LIMITS: JsonLimits = { maxDepth: DEFAULT_JSON_LIMITS.maxDepth, maxBytes: 1024 * 1024 };

function issueOf(problem: JsonTextProblem): ConfigIssue {
  const at = { line: problem.line, column: problem.column };
  switch (problem.kind) {
    case 'empty':
      return { key: '', message: 'the file is empty. Write {} to use the defaults, or delete the file.', ...at };
    case 'syntax':
      return { key: '', message: `not valid JSON: ${problem.reason}.`, ...at };
    case 'duplicate-key':
      return { key: problem.path ?? '', message: `${problem.reason}.`, ...at };
    case 'too-deep':
    case 'too-large':
      return { key: '', message: `${problem.reason}: this cannot be a moai-session configuration. Check that it is the right file.`, ...at };
  }
}

/**
 * Parse `text` as one JSON document. Throws a {@link ConfigError} naming
 * `source`, the line and the column for a syntax error, an empty file, a key
 * written twice in one object, or a document over {@link CONFIG_JSON_LIMITS}.
 */
export function parseJsonDocument(text: string, source: string): unknown {
  const result = parseJsonText(text, CONFIG_JSON_LIMITS);
  if (!result.ok) throw new ConfigError(source, result.problems.map(issueOf));
  return result.value;
}
