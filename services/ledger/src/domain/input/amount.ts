import { parseAmount, type AmountProblem, type Currency } from "@money/money";
import { LedgerError } from "../ledger-error.js";

const PROBLEMS: Record<AmountProblem, string> = {
  not_a_decimal: "is not a plain decimal number",
  negative: "is negative",
  zero: "is zero",
  too_many_decimals: "has more decimals than the currency has minor units",
  too_large: "has more than 18 digits",
};

/**
 * A positive amount of `currency` from its decimal text, in minor units.
 * Errors: INVALID_AMOUNT ("1e3", "-5", "0", "0.001" for EUR, 40 digits, "NaN").
 */
export function requireAmount(text: string, currency: Currency, field: string): bigint {
  return requireParsed(text, currency, field, false);
}

/** As requireAmount, but zero is allowed (limits). */
export function requireAmountOrZero(text: string, currency: Currency, field: string): bigint {
  return requireParsed(text, currency, field, true);
}

function requireParsed(text: string, currency: Currency, field: string, allowZero: boolean): bigint {
  const parsed = parseAmount(text, currency, { allowZero });
  if (!parsed.ok) {
    throw new LedgerError(
      "INVALID_AMOUNT",
      `${field} ${JSON.stringify(text.slice(0, 60))} ${PROBLEMS[parsed.problem]} (${currency.code}, ${currency.scale} decimals)`,
    );
  }
  return parsed.minor;
}
