/*
 * Paths into a JSON document as a person reads them:
 * `session.context_budget.reserve_tokens`, `models.context_windows["claude-sonnet-4.5"]`,
 * `task_context.open_tasks[0].id`. One formatter for every validator's messages.
 */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Join path segments into a readable path: numbers are list indexes (`[0]`),
 * keys that are not identifiers are quoted in brackets (`["a b"]`).
 *
 * @example
 * formatPath(['models', 'context_windows', 'claude-sonnet-4.5']); // 'models.context_windows["claude-sonnet-4.5"]'
 */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Split a JSON Pointer (`/a/b~1c`, as TypeBox reports paths) into its segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}
