import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffLines, type LineHunk } from '../../src/memory/lineDiff.js';

/** Apply hunks to `expected`: each stretch of it replaced by the found lines the hunk names. */
function apply(expected: readonly string[], found: readonly string[], hunks: readonly LineHunk[]): string[] {
  const out: string[] = [];
  let at = 0;
  for (const hunk of hunks) {
    out.push(...expected.slice(at, hunk.expectedStart));
    out.push(...found.slice(hunk.foundStart, hunk.foundStart + hunk.foundLines));
    at = hunk.expectedStart + hunk.expectedLines;
  }
  out.push(...expected.slice(at));
  return out;
}

/** The fewest lines deleted plus inserted, by the textbook longest common subsequence (O(NM)). */
function fewestEdits(a: readonly string[], b: readonly string[]): number {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  return a.length + b.length - 2 * lcs[0]![0]!;
}

const edits = (hunks: readonly LineHunk[]) => hunks.reduce((sum, h) => sum + h.expectedLines + h.foundLines, 0);

describe('the line diff of check-memory-sync', () => {
  it('reports a line missing in the middle as that one line, not the equal lines after it', () => {
    const expected = ['a', 'b', 'c', 'd', 'e'];
    expect(diffLines(expected, ['a', 'b', 'd', 'e'])).toEqual([{ expectedStart: 2, expectedLines: 1, foundStart: 2, foundLines: 0 }]);
    expect(diffLines(expected, ['a', 'x', 'b', 'c', 'd', 'e'])).toEqual([{ expectedStart: 1, expectedLines: 0, foundStart: 1, foundLines: 1 }]);
    expect(diffLines(expected, ['a', 'b', 'C', 'd', 'e'])).toEqual([{ expectedStart: 2, expectedLines: 1, foundStart: 2, foundLines: 1 }]);
    expect(diffLines(expected, expected)).toEqual([]);
  });

  it('gives up past its limit of edits instead of listing texts that have nothing in common', () => {
    const a = Array.from({ length: 50 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 50 }, (_, i) => `b${i}`);
    expect(diffLines(a, b, 20)).toBeUndefined();
    expect(edits(diffLines(a, b)!)).toBe(100);
  });

  it('is a shortest edit script: its hunks turn the expected lines into the found ones, with the fewest edits', () => {
    const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 30 });
    fc.assert(
      fc.property(lines, lines, (expected, found) => {
        const hunks = diffLines(expected, found)!;
        expect(apply(expected, found, hunks)).toEqual(found);
        expect(edits(hunks)).toBe(fewestEdits(expected, found));
        // Hunks are in order, apart, and none is empty.
        for (let i = 0; i < hunks.length; i++) {
          expect(hunks[i]!.expectedLines + hunks[i]!.foundLines).toBeGreaterThan(0);
          if (i > 0) expect(hunks[i]!.expectedStart).toBeGreaterThan(hunks[i - 1]!.expectedStart + hunks[i - 1]!.expectedLines - 1);
        }
      }),
      { numRuns: 500 },
    );
  });
});
