// The 53-bit arithmetic behind proofs for logs past 2^32 entries, checked against BigInt.

import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";

import {
  bitAt,
  bitCeil,
  bitLength,
  largestPowerOfTwoBelow,
  popCount,
  shiftRight,
  trailingZeros,
  xor,
} from "../../src/domain/merkle/tree-bits.js";

const safe = fc.oneof(
  fc.maxSafeNat(),
  fc.integer({ min: 0, max: 2 ** 32 + 5 }),
  fc.constantFrom(0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52, Number.MAX_SAFE_INTEGER),
);

describe("tree bit arithmetic", () => {
  it("agrees with BigInt on every operation over the whole safe range", () => {
    fc.assert(
      fc.property(safe, safe, fc.integer({ min: 0, max: 53 }), (a, b, n) => {
        const big = BigInt(a);
        expect(bitLength(a)).toBe(big.toString(2).replace(/^0$/, "").length);
        expect(popCount(a)).toBe([...big.toString(2)].filter((c) => c === "1").length);
        expect(xor(a, b)).toBe(Number(big ^ BigInt(b)));
        expect(shiftRight(a, n)).toBe(Number(big >> BigInt(n)));
        expect(bitAt(a, n)).toBe(Number((big >> BigInt(n)) & 1n));
        if (a > 0) {
          expect(trailingZeros(a)).toBe(big.toString(2).length - 1 - big.toString(2).lastIndexOf("1"));
        }
        if (a >= 2) {
          const k = largestPowerOfTwoBelow(a);
          expect(k < a && 2 * k >= a && popCount(k) === 1).toBe(true);
        }
        const ceil = bitCeil(a);
        expect(ceil >= a && (a <= 1 || ceil / 2 < a) && popCount(ceil) === 1).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
