import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { findCurrency, formatAmount, parseAmount, proportionalShare } from "../src/index.js";

const EUR = findCurrency("EUR")!;
const JPY = findCurrency("JPY")!;
const BHD = findCurrency("BHD")!;

describe("parseAmount", () => {
  it.each([
    ["12.30", EUR, 1230n],
    ["12.3", EUR, 1230n],
    ["0.01", EUR, 1n],
    ["5.000", EUR, 500n],
    ["7", JPY, 7n],
    ["1.234", BHD, 1234n],
  ])("reads %s as minor units", (text, currency, minor) => {
    expect(parseAmount(text, currency)).toEqual({ ok: true, minor });
  });

  it.each([
    ["1e3", "not_a_decimal"],
    ["NaN", "not_a_decimal"],
    ["", "not_a_decimal"],
    [" 5", "not_a_decimal"],
    ["+5", "not_a_decimal"],
    ["1,50", "not_a_decimal"],
    [".5", "not_a_decimal"],
    ["Infinity", "not_a_decimal"],
    ["-5", "negative"],
    ["0", "zero"],
    ["0.00", "zero"],
    ["0.001", "too_many_decimals"],
    ["1".repeat(40), "too_large"],
  ])("refuses %p as %s", (text, problem) => {
    expect(parseAmount(text, EUR)).toEqual({ ok: false, problem });
  });

  it("refuses decimals in a zero-decimal currency", () => {
    expect(parseAmount("1.5", JPY)).toEqual({ ok: false, problem: "too_many_decimals" });
  });

  it("round-trips every minor amount through its decimal text", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 18n - 1n }), (minor) => {
        expect(parseAmount(formatAmount(minor, EUR), EUR)).toEqual({ ok: true, minor });
      }),
    );
  });

  it("keeps 0.1 + 0.2 exact", () => {
    const a = parseAmount("0.1", EUR);
    const b = parseAmount("0.2", EUR);
    if (!a.ok || !b.ok) throw new Error("parse failed");
    expect(formatAmount(a.minor + b.minor, EUR)).toBe("0.30");
  });
});

describe("proportionalShare", () => {
  it("never gives back more than the total over any split of the whole", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 6n }), { minLength: 1, maxLength: 10 }),
        (total, parts) => {
          const whole = parts.reduce((a, b) => a + b, 0n);
          const given = parts.reduce((sum, part) => sum + proportionalShare(total, part, whole), 0n);
          expect(given <= total).toBe(true);
        },
      ),
    );
  });
});
