import { distance } from 'fastest-levenshtein';

/**
 * The name an unknown one was most likely meant to be (`warning_treshold` ->
 * `warning_threshold`, `toAgent` -> `to_agent`), or undefined when no single
 * candidate is clearly closest. Case, dashes and underscores are ignored;
 * `maxDistance` edits are allowed beyond that.
 */
export function closestName(name: string, candidates: readonly string[], maxDistance: number): string | undefined {
  const normal = (text: string) => text.toLowerCase().replace(/[-_\s]/g, '');
  const same = candidates.find((candidate) => normal(candidate) === normal(name));
  if (same !== undefined) return same;
  const scored = candidates
    .map((candidate) => ({ candidate, distance: distance(normal(name), normal(candidate)) }))
    .sort((x, y) => x.distance - y.distance);
  const [best, second] = scored;
  if (best === undefined || best.distance > maxDistance) return undefined;
  if (second !== undefined && second.distance === best.distance) return undefined;
  return best.candidate;
}
