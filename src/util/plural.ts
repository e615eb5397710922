/**
 * A count with its noun, singular or plural as the count wants: `1 session`,
 * `2 sessions`, `0 tasks`. Nouns whose plural is not a plain `s` give it.
 */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
