/** One step of a line diff: a line both texts have, one only the expected text has, or one only the found text has. */
export type LineEdit =
  | { kind: 'equal'; expected: number; found: number }
  | { kind: 'delete'; expected: number; found: number }
  | { kind: 'insert'; expected: number; found: number };

/** A stretch of lines that differ, between two stretches both texts share. */
export interface LineHunk {
  /** The 0-based index of the hunk's first line in the expected text, and how many of its lines the hunk holds. */
  expectedStart: number;
  expectedLines: number;
  /** The same in the found text. */
  foundStart: number;
  foundLines: number;
}

/**
 * The shortest edit script from `expected` to `found` (Myers' O(ND)
 * algorithm), as the stretches that differ; the lines in between are equal
 * and are not listed. The common head and tail are skipped first. Gives
 * undefined when more than `maxEdits` lines would have to be deleted or
 * inserted: the texts are too different to list line by line.
 *
 * @example
 * diffLines(['a', 'b', 'c'], ['a', 'x', 'c']);
 * // [{ expectedStart: 1, expectedLines: 1, foundStart: 1, foundLines: 1 }]
 */
export function diffLines(expected: readonly string[], found: readonly string[], maxEdits = 2000): LineHunk[] | undefined {
  let head = 0;
  while (head < expected.length && head < found.length && expected[head] === found[head]) head++;
  let tail = 0;
  while (
    tail < expected.length - head &&
    tail < found.length - head &&
    expected[expected.length - 1 - tail] === found[found.length - 1 - tail]
  ) {
    tail++;
  }
  const a = expected.slice(head, expected.length - tail);
  const b = found.slice(head, found.length - tail);
  const edits = myers(a, b, maxEdits);
  if (edits === undefined) return undefined;
  const hunks: LineHunk[] = [];
  let open: LineHunk | undefined;
  for (const edit of edits) {
    if (edit.kind === 'equal') {
      open = undefined;
      continue;
    }
    if (open === undefined) {
      open = { expectedStart: head + edit.expected, expectedLines: 0, foundStart: head + edit.found, foundLines: 0 };
      hunks.push(open);
    }
    if (edit.kind === 'delete') open.expectedLines++;
    else open.foundLines++;
  }
  return hunks;
}

/** Myers' greedy diff: the edit script, or undefined past `max` edits. Memory O(D²), time O((N + M) D). */
function myers(a: readonly string[], b: readonly string[], max: number): LineEdit[] | undefined {
  const n = a.length;
  const m = b.length;
  const limit = Math.min(max, n + m);
  // v[k + offset]: the furthest x on diagonal k; trace[d]: v after round d, for k in -d..d.
  const offset = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  const trace: Int32Array[] = [];
  let last = -1;
  for (let d = 0; d <= limit && last < 0; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        last = d;
        break;
      }
    }
    trace.push(v.slice(offset - d, offset + d + 1));
  }
  if (last < 0) return undefined;

  const edits: LineEdit[] = [];
  let x = n;
  let y = m;
  for (let d = last; d > 0; d--) {
    const previous = trace[d - 1]!;
    const at = (k: number): number => previous[k + d - 1]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const previousK = down ? k + 1 : k - 1;
    const previousX = at(previousK);
    const previousY = previousX - previousK;
    const startX = down ? previousX : previousX + 1;
    const startY = down ? previousY + 1 : previousY;
    while (x > startX && y > startY) {
      x--;
      y--;
      edits.push({ kind: 'equal', expected: x, found: y });
    }
    if (down) edits.push({ kind: 'insert', expected: previousX, found: previousY });
    else edits.push({ kind: 'delete', expected: previousX, found: previousY });
    x = previousX;
    y = previousY;
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    edits.push({ kind: 'equal', expected: x, found: y });
  }
  return edits.reverse();
}
