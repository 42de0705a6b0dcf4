import type { CommonQueryMethods } from "@money/db";
import { findCurrency, formatAmount } from "@money/money";
import { periodFigures } from "../../db/reconciliation-queries.js";
import type { AccountType } from "../accounts/account.js";
import { LedgerError } from "../ledger-error.js";
import { csvText } from "./csv-text.js";
import { totalsByCurrency, type CurrencyTotals } from "./currency-totals.js";

export interface PeriodReportLine {
  accountId: string;
  type: AccountType;
  currency: string;
  /** Decimal text; balances on the account's normal side. */
  opening: string;
  debits: string;
  credits: string;
  closing: string;
}

export interface PeriodReport {
  lines: PeriodReportLine[];
  /** Debits and credits posted in the period, per currency. */
  totals: CurrencyTotals[];
}

/**
 * Per account over posting times [from, to): opening balance, debits,
 * credits, closing balance. Opening and closing come from the entries' own
 * balance-after figures, so opening + movement = closing is a real check.
 *
 * Errors: INVALID_ARGUMENT (missing or empty period).
 */
export async function periodReport(
  db: CommonQueryMethods,
  from: Date | null,
  to: Date | null,
): Promise<PeriodReport> {
  if (!from || !to || from >= to)
    throw new LedgerError("INVALID_ARGUMENT", "from and to are required, from before to");
  const rows = await periodFigures(db, from, to);
  const lines = rows.map((row) => {
    const currency = findCurrency(row.currency)!;
    return {
      accountId: row.accountId,
      type: row.type,
      currency: row.currency,
      opening: formatAmount(row.openingMinor, currency),
      debits: formatAmount(row.debitsMinor, currency),
      credits: formatAmount(row.creditsMinor, currency),
      closing: formatAmount(row.closingMinor, currency),
    };
  });
  return { lines, totals: totalsByCurrency(rows) };
}

export function periodReportCsv(report: PeriodReport): string {
  return csvText(
    ["account_id", "type", "currency", "opening", "debits", "credits", "closing"],
    [
      ...report.lines.map((l) => [
        l.accountId,
        l.type,
        l.currency,
        l.opening,
        l.debits,
        l.credits,
        l.closing,
      ]),
      ...report.totals.map((t) => ["TOTAL", "", t.currency, "", t.debits, t.credits, ""]),
    ],
  );
}
