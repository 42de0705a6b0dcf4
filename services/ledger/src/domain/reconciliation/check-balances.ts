import { inTransaction, type DatabasePool } from "@money/db";
import { findCurrency, formatAmount } from "@money/money";
import { danglingJournalReferences, recomputeBalances } from "../../db/reconciliation-queries.js";
import { isDebitNormal } from "../balances/balance.js";
import { totalsByCurrency, type CurrencyTotals } from "./currency-totals.js";

export interface BalanceDrift {
  /** For a dangling reference (field `dangling:<table>.<column>`), the id that no row has. */
  accountId: string;
  field: string;
  /** Minor units for versions; decimal text for money. */
  stored: string;
  recomputed: string;
}

export interface BalanceCheck {
  accountsChecked: number;
  drifts: BalanceDrift[];
  /** Debits and credits of all entries, per currency. */
  totals: CurrencyTotals[];
  ok: boolean;
}

/**
 * Recomputes every balance row from the entries and the open holds, in one
 * consistent snapshot, and reports each figure that differs, including the
 * last entry's balance-after against the row's posted balance, and every
 * entry or status change that names an account or transaction that does not
 * exist (which no balance would show).
 */
export async function checkBalances(pool: DatabasePool): Promise<BalanceCheck> {
  const { rows, dangling } = await inTransaction(
    pool,
    async (tx) => ({ rows: await recomputeBalances(tx), dangling: await danglingJournalReferences(tx) }),
    { isolation: "repeatable read" },
  );
  const drifts: BalanceDrift[] = dangling.map((d) => ({
    accountId: d.id,
    field: `dangling:${d.reference}`,
    stored: `${d.rows} rows`,
    recomputed: "no such row",
  }));
  for (const row of rows) {
    const currency = findCurrency(row.currency)!;
    for (const field of Object.keys(row.stored) as (keyof typeof row.stored)[]) {
      if (row.stored[field] !== row.recomputed[field]) {
        const show = (v: bigint) => (field === "version" ? v.toString() : formatAmount(v, currency));
        drifts.push({
          accountId: row.accountId,
          field,
          stored: show(row.stored[field]),
          recomputed: show(row.recomputed[field]),
        });
      }
    }
    const posted = row.stored.posted_debits - row.stored.posted_credits;
    const normal = isDebitNormal(row.type) ? posted : -posted;
    const last = row.lastBalanceAfterMinor ?? 0n;
    if (last !== normal) {
      drifts.push({
        accountId: row.accountId,
        field: "last_balance_after",
        stored: formatAmount(normal, currency),
        recomputed: formatAmount(last, currency),
      });
    }
  }
  const totals = totalsByCurrency(
    rows.map((r) => ({
      currency: r.currency,
      debitsMinor: r.recomputed.posted_debits,
      creditsMinor: r.recomputed.posted_credits,
    })),
  );
  return {
    accountsChecked: rows.length,
    drifts,
    totals,
    ok: drifts.length === 0 && totals.every((t) => t.balanced),
  };
}
