import { findCurrency, formatAmount } from "@money/money";

export interface CurrencyTotals {
  currency: string;
  /** Decimal text. */
  debits: string;
  credits: string;
  balanced: boolean;
}

/** Sums debits and credits per currency, in the order currencies first appear. */
export function totalsByCurrency(
  rows: readonly { currency: string; debitsMinor: bigint; creditsMinor: bigint }[],
): CurrencyTotals[] {
  const sums = new Map<string, { debits: bigint; credits: bigint }>();
  for (const row of rows) {
    const sum = sums.get(row.currency) ?? { debits: 0n, credits: 0n };
    sum.debits += row.debitsMinor;
    sum.credits += row.creditsMinor;
    sums.set(row.currency, sum);
  }
  return [...sums].map(([code, { debits, credits }]) => {
    const currency = findCurrency(code)!;
    return {
      currency: code,
      debits: formatAmount(debits, currency),
      credits: formatAmount(credits, currency),
      balanced: debits === credits,
    };
  });
}
