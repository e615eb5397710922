import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupDigits } from '../../src/util/groupDigits.js';

describe('groupDigits', () => {
  it("writes numbers as toLocaleString('en-US') does", () => {
    for (const value of [0, 7, 999, 1_000, 12_345, 100_000_000, -1_234_567, 9_007_199_254_740_991, 1.5, 0.0004, 1234.5678, -0.5, 27.5]) {
      expect(groupDigits(value)).toBe(value.toLocaleString('en-US'));
    }
    fc.assert(fc.property(fc.integer({ min: -1e15, max: 1e15 }), (value) => groupDigits(value) === value.toLocaleString('en-US')));
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), (value) => {
        // Halves at the third decimal round differently in the two (binary fractions): compare away from them.
        fc.pre(Math.abs(((Math.abs(value) * 1000) % 1) - 0.5) > 1e-6);
        // A negative number that rounds to zero is "-0" there and "0" here.
        const expected = value.toLocaleString('en-US');
        return groupDigits(value) === (expected === '-0' ? '0' : expected);
      }),
    );
  });
});
