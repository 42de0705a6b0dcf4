import { rowsIn, sql, type CommitScope, type CommonQueryMethods } from "@money/db";
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
 *
 * Why one index probe per id (the LATERAL subquery, which the planner keeps
 * as a nested loop) and the join settings for the rest of the transaction:
 * under serializable isolation a sequential scan takes a predicate lock on
 * the whole table, so two writers that scanned `balances` (a batch's lock
 * here, its UPDATE … FROM unnest later, both chosen by the planner once
 * dozens of accounts are named) conflict whatever rows they touch, and one is
 * aborted and retried. Probing by key locks only the rows and index pages
 * read, so writers of disjoint accounts commit side by side.
 */
export async function lockAccounts(
  tx: CommitScope,
  ids: readonly string[],
): Promise<{ accounts: { account: Account; figures: BalanceFigures }[]; lockedAt: Date }> {
  const now = async () =>
    (await rowsIn(tx, sql.unsafe`SELECT date_trunc('milliseconds', clock_timestamp()) AS now`))[0]![
      "now"
    ] as Date;
  if (ids.length === 0) return { accounts: [], lockedAt: await now() };
  // Lower-case UUID text sorts as Postgres sorts uuids (bytewise), so the array's order is the lock order.
  const sorted = [...new Set(ids.map((id) => id.toLowerCase()))].sort();
  const rows = (await rowsIn(
    tx,
    sql.unsafe`
    SELECT locked.*, date_trunc('milliseconds', clock_timestamp()) AS locked_at,
           set_config('enable_hashjoin', 'off', true) AS no_hash_joins,
           set_config('enable_mergejoin', 'off', true) AS no_merge_joins
    FROM unnest(${sql.array(sorted, "uuid")}::uuid[]) WITH ORDINALITY AS wanted(id, n)
    CROSS JOIN LATERAL (
      SELECT ${ACCOUNT_COLUMNS}, ${FIGURE_COLUMNS}
      FROM balances b JOIN accounts a ON a.id = b.account_id
      WHERE b.account_id = wanted.id
      FOR UPDATE OF b
    ) locked
    ORDER BY wanted.n
  `,
    // Rows found by key: one plan serves every call (on a pipelined connection, which prepares).
    { prepare: true },
  )) as unknown as (BalanceRow & { locked_at: Date })[];
  let lockedAt = rows[0]?.locked_at ?? (await now());
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
