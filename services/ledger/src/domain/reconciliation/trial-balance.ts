import type { CommonQueryMethods } from "@money/db";
import { findCurrency, formatAmount } from "@money/money";
import { postedTotalsByAccount } from "../../db/reconciliation-queries.js";
import type { AccountType } from "../accounts/account.js";
import { csvText } from "./csv-text.js";
import { totalsByCurrency, type CurrencyTotals } from "./currency-totals.js";

export interface TrialBalanceLine {
  accountId: string;
  type: AccountType;
  currency: string;
  /** The account's net posted balance on the side it falls; the other side is "0". Decimal text. */
  debit: string;
  credit: string;
}

export interface TrialBalance {
  lines: TrialBalanceLine[];
  totals: CurrencyTotals[];
  /** True when debits equal credits in every currency. */
  balanced: boolean;
}

/**
 * The trial balance from the balance rows: each account's net balance as a
 * debit or a credit, and the totals per currency, which balance when every
 * posting did.
 */
export async function trialBalance(db: CommonQueryMethods): Promise<TrialBalance> {
  const rows = await postedTotalsByAccount(db);
  const lines = rows.map((row) => {
    const currency = findCurrency(row.currency)!;
    const net = row.postedDebitsMinor - row.postedCreditsMinor;
    return {
      line: {
        accountId: row.accountId,
        type: row.type,
        currency: row.currency,
        debit: formatAmount(net > 0n ? net : 0n, currency),
        credit: formatAmount(net < 0n ? -net : 0n, currency),
      },
      currency: row.currency,
      debitsMinor: net > 0n ? net : 0n,
      creditsMinor: net < 0n ? -net : 0n,
    };
  });
  const totals = totalsByCurrency(lines);
  return { lines: lines.map((l) => l.line), totals, balanced: totals.every((t) => t.balanced) };
}

export function trialBalanceCsv(report: TrialBalance): string {
  return csvText(
    ["account_id", "type", "currency", "debit", "credit"],
    [
      ...report.lines.map((l) => [l.accountId, l.type, l.currency, l.debit, l.credit]),
      ...report.totals.map((t) => ["TOTAL", "", t.currency, t.debits, t.credits]),
    ],
  );
}
