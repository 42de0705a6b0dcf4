import type { Currency } from "./currency.js";

/**
 * The largest amount the platform accepts, in minor units. Postgres stores
 * amounts as numeric(38, s) and int8 minor units; 18 digits keeps every sum
 * of a thousand such amounts inside int8 as well.
 */
const MAX_DIGITS = 18;

/** Why an amount's text was refused. */
export type AmountProblem =
  | "not_a_decimal" // "1e3", "NaN", " 5", "+5", "0x10", "1,5"
  | "negative"
  | "zero"
  | "too_many_decimals" // more fraction digits than the currency has
  | "too_large";

export type ParsedAmount = { ok: true; minor: bigint } | { ok: false; problem: AmountProblem };

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * Parses a decimal string ("12.30") into integer minor units of `currency`
 * (1230n for EUR). Only plain decimal notation is accepted: no exponent, sign
 * other than "-", spaces or separators. Trailing zeros beyond the currency's
 * scale are allowed ("5.000" is 500n for EUR); non-zero extra digits are not.
 */
export function parseAmount(
  text: string,
  currency: Currency,
  opts: { allowZero?: boolean } = {},
): ParsedAmount {
  const match = DECIMAL.exec(text);
  if (!match) return { ok: false, problem: "not_a_decimal" };
  const [, sign = "", whole = "", fraction = ""] = match;
  const significantFraction = fraction.replace(/0+$/, "");
  if (significantFraction.length > currency.scale) return { ok: false, problem: "too_many_decimals" };
  const digits = (whole + significantFraction.padEnd(currency.scale, "0")).replace(/^0+(?=\d)/, "");
  if (digits.length > MAX_DIGITS) return { ok: false, problem: "too_large" };
  const minor = BigInt(digits);
  if (minor === 0n) return opts.allowZero ? { ok: true, minor } : { ok: false, problem: "zero" };
  if (sign === "-") return { ok: false, problem: "negative" };
  return { ok: true, minor };
}

/** Formats integer minor units as a decimal string with exactly the currency's scale: 1230n → "12.30". */
export function formatAmount(minor: bigint, currency: Currency): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(currency.scale + 1, "0");
  const whole = digits.slice(0, digits.length - currency.scale);
  const fraction = digits.slice(digits.length - currency.scale);
  return (negative ? "-" : "") + (currency.scale === 0 ? whole : `${whole}.${fraction}`);
}
