import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { shareOut } from "../../src/domain/reversal/share-out.js";

describe("shareOut", () => {
  it("splits in proportion and gives leftover units to the largest remainders", () => {
    expect(shareOut(10n, [50n, 30n, 20n])).toEqual([5n, 3n, 2n]);
    expect(shareOut(1n, [1n, 2n])).toEqual([0n, 1n]);
    expect(shareOut(2n, [1n, 1n, 1n])).toEqual([1n, 1n, 0n]);
  });

  it("always sums to the amount and never exceeds what remains of a part, however often it is applied", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 1n, max: 10_000n }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n }), { minLength: 1, maxLength: 10 }),
        (parts, draws) => {
          let remaining = [...parts];
          for (const draw of draws) {
            const total = remaining.reduce((s, r) => s + r, 0n);
            if (total === 0n) break;
            // An amount from 1 to everything that is left, in bigint minor units throughout.
            const amount = 1n + (draw % total);
            const shares = shareOut(amount, remaining);
            expect(shares.reduce((s, x) => s + x, 0n)).toBe(amount);
            shares.forEach((share, i) => {
              expect(share >= 0n && share <= remaining[i]!).toBe(true);
            });
            remaining = remaining.map((r, i) => r - shares[i]!);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses an amount it cannot share", () => {
    expect(() => shareOut(0n, [1n])).toThrow(RangeError);
    expect(() => shareOut(3n, [1n, 1n])).toThrow(RangeError);
  });
});
