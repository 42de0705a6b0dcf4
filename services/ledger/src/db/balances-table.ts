import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from "@money/db";
import type { Account } from "../domain/accounts/account.js";
import type { BalanceFigures } from "../domain/balances/balance.js";
import { ACCOUNT_COLUMNS, toAccount, type AccountRow } from "./accounts-table.js";

interface BalanceRow extends AccountRow {
  posted_debits_minor: string;
  posted_credits_minor: string;
  pending_debits_minor: string;
  pending_credits_minor: string;
}

const FIGURE_COLUMNS = sql.fragment`
  b.posted_debits_minor, b.posted_credits_minor, b.pending_debits_minor, b.pending_credits_minor`;

function toFigures(row: BalanceRow): BalanceFigures {
  return {
    postedDebitsMinor: BigInt(row.posted_debits_minor),
    postedCreditsMinor: BigInt(row.posted_credits_minor),
    pendingDebitsMinor: BigInt(row.pending_debits_minor),
    pendingCreditsMinor: BigInt(row.pending_credits_minor),
    version: BigInt(row.version),
  };
}

/**
 * Locks the balance rows of `ids` FOR UPDATE in account id order (the one
 * order every writer uses, so none waits in a cycle) and returns them with
 * their accounts. `lockedAt` is read after the last lock was granted: an
 * account's entries are therefore stamped in the order they were written.
 */
export async function lockAccounts(
  tx: DatabaseTransactionConnection,
  ids: readonly string[],
): Promise<{ accounts: { account: Account; figures: BalanceFigures }[]; lockedAt: Date }> {
  if (ids.length === 0) {
    const lockedAt = await tx.oneFirst(sql.unsafe`SELECT date_trunc('milliseconds', clock_timestamp())`);
    return { accounts: [], lockedAt: lockedAt as Date };
  }
  const rows = (await tx.any(sql.unsafe`
    SELECT locked.*, date_trunc('milliseconds', clock_timestamp()) AS locked_at FROM (
      SELECT ${ACCOUNT_COLUMNS}, ${FIGURE_COLUMNS}
      FROM balances b JOIN accounts a ON a.id = b.account_id
      WHERE b.account_id = ANY(${sql.array(ids, "uuid")})
      ORDER BY b.account_id
      FOR UPDATE OF b
    ) locked
  `)) as unknown as (BalanceRow & { locked_at: Date })[];
  let lockedAt = rows[0]?.locked_at;
  if (!lockedAt) {
    lockedAt = (await tx.oneFirst(sql.unsafe`SELECT date_trunc('milliseconds', clock_timestamp())`)) as Date;
  }
  for (const row of rows) if (row.locked_at > lockedAt) lockedAt = row.locked_at;
  return { accounts: rows.map((row) => ({ account: toAccount(row), figures: toFigures(row) })), lockedAt };
}

/** The account and its balance row as last committed; null when there is no such account. */
export async function findBalance(
  db: CommonQueryMethods,
  id: string,
): Promise<{ account: Account; figures: BalanceFigures } | null> {
  const row = (await db.maybeOne(sql.unsafe`
    SELECT ${ACCOUNT_COLUMNS}, ${FIGURE_COLUMNS}
    FROM balances b JOIN accounts a ON a.id = b.account_id WHERE b.account_id = ${id}
  `)) as unknown as BalanceRow | null;
  return row ? { account: toAccount(row), figures: toFigures(row) } : null;
}
