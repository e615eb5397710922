import { createRequire } from 'node:module';

type Distance = (a: string, b: string) => number;
let distance: Distance | undefined;

// Suggestions are only made for input that is already wrong, so the edit
// distance library is loaded then, not by every command that validates.
const editDistance = (a: string, b: string): number => {
  distance ??= (createRequire(import.meta.url)('fastest-levenshtein') as { distance: Distance }).distance;
  return distance(a, b);
};

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
    .map((candidate) => ({ candidate, distance: editDistance(normal(name), normal(candidate)) }))
    .sort((x, y) => x.distance - y.distance);
  const [best, second] = scored;
  if (best === undefined || best.distance > maxDistance) return undefined;
  if (second !== undefined && second.distance === best.distance) return undefined;
  return best.candidate;
}
