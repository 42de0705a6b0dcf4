import { sql, type DatabasePool } from "@money/db";

/**
 * Gives `accountId` (a liability) `count` more entries by direct SQL, as the
 * service would have written them: one balanced transaction per entry, each
 * crediting the account 0.01 and debiting one of `counterparties` (assets),
 * with status history, consecutive versions, balance before/after chained,
 * posting times rising with the version, and the balance rows updated to
 * match. The account and the counterparties must have no entries yet, and
 * only one call may use the default id prefix. Runs as a superuser, with
 * foreign key triggers off for the load.
 */
export async function appendEntries(
  admin: DatabasePool,
  accountId: string,
  counterparties: readonly string[],
  count: number,
  idPrefix = "b",
): Promise<void> {
  await admin.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET LOCAL synchronous_commit = off`);
    // A bulk load of rows known to be consistent: skip the per-row foreign key
    // triggers (the rows reference accounts and transactions written here).
    await tx.query(sql.unsafe`SET LOCAL session_replication_role = replica`);
    await tx.query(sql.unsafe`
      CREATE TEMP TABLE bulk ON COMMIT DROP AS
      SELECT n,
             -- Ids in insertion order (a fixed prefix, then n): appending to the indexes on
             -- transaction ids instead of scattering over them takes minutes off the load.
             overlay(${idPrefix + "0000000-0000-4000-8000-000000000000"}::text placing lpad(to_hex(n), 12, '0') from 25)::uuid AS id,
             (${sql.array(counterparties, "uuid")})[1 + (n - 1) % ${counterparties.length}] AS counterparty,
             1 + (n - 1) / ${counterparties.length} AS counterparty_version,
             timestamptz '2020-01-01' + n * interval '1 millisecond' AS at
      FROM generate_series(1, ${count}) AS n`);
    await tx.query(sql.unsafe`
      INSERT INTO ledger.transactions (id, kind, purpose, status, currency, amount_minor, effective_at, created_at,
                                       performed_by, performed_by_role)
      SELECT id, 'posted', 'transfer', 'settled', 'EUR', 1, at, at, 'bench', 'admin' FROM bulk`);
    await tx.query(sql.unsafe`
      INSERT INTO ledger.transaction_status_history (transaction_id, to_status, performed_by, performed_by_role, changed_at)
      SELECT id, 'settled', 'bench', 'admin', at FROM bulk`);
    await tx.query(sql.unsafe`
      INSERT INTO ledger.entries (account_id, account_version, transaction_id, direction, amount_minor,
                                  balance_before_minor, balance_after_minor, posted_at)
      SELECT ${accountId}, n, id, 'credit', 1, n - 1, n, at FROM bulk
      UNION ALL
      SELECT counterparty, counterparty_version, id, 'debit', 1, counterparty_version - 1, counterparty_version, at FROM bulk`);
    await tx.query(sql.unsafe`
      UPDATE ledger.balances b SET posted_credits_minor = posted_credits_minor + ${count}, version = version + ${count}
      WHERE b.account_id = ${accountId}`);
    await tx.query(sql.unsafe`
      UPDATE ledger.balances b SET posted_debits_minor = posted_debits_minor + s.entries, version = version + s.entries
      FROM (SELECT counterparty, count(*) AS entries FROM bulk GROUP BY counterparty) s
      WHERE b.account_id = s.counterparty`);
  });
  await admin.query(sql.unsafe`ANALYZE ledger.entries`);
  await admin.query(sql.unsafe`ANALYZE ledger.transactions`);
}
