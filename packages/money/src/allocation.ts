import { Decimal } from "decimal.js";

// Money arithmetic needs more precision than decimal.js's default 20 digits
// when rates multiply 18-digit amounts.
const Exact = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });

export type RoundingRule = "down" | "half_up" | "half_even" | "up";

const ROUNDING: Record<RoundingRule, Decimal.Rounding> = {
  down: Decimal.ROUND_DOWN,
  half_up: Decimal.ROUND_HALF_UP,
  half_even: Decimal.ROUND_HALF_EVEN,
  up: Decimal.ROUND_UP,
};

/**
 * Multiplies a decimal string by a rate and rounds to a whole number with the
 * given rule: points earned = purchase × points per unit. Both inputs are
 * decimal strings; the result is a bigint.
 */
export function multiplyToInteger(amount: string, rate: string, rule: RoundingRule): bigint {
  const product = new Exact(amount).times(new Exact(rate));
  return BigInt(product.toDecimalPlaces(0, ROUNDING[rule]).toFixed(0));
}

/**
 * The share of `total` that corresponds to `part / whole`, rounded down so
 * that the sum of shares for parts that add up to `whole` never exceeds
 * `total`. Used for proportional refunds: refunding 30 of a 100 purchase
 * gives back floor(30% of the points it earned).
 */
export function proportionalShare(total: bigint, part: bigint, whole: bigint): bigint {
  if (whole <= 0n) throw new RangeError("whole must be positive");
  if (part >= whole) return total;
  return (total * part) / whole;
}
