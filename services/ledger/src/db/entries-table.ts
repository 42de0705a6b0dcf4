import { sql, type CommonQueryMethods } from "@money/db";
import type { EntryRecord } from "../domain/transactions/transaction.js";
import { toEntry, type EntryRow } from "./transactions-table.js";

/**
 * An account's entries in version order, after `afterVersion`, with posting
 * time in [from, to). Walks the (account_id, account_version) key.
 */
export async function listEntriesOfAccount(
  db: CommonQueryMethods,
  accountId: string,
  range: { from: Date | null; to: Date | null; afterVersion: bigint },
  limit: number,
): Promise<EntryRecord[]> {
  const rows = await db.any(sql.unsafe`
    SELECT e.*, a.currency FROM entries e JOIN accounts a ON a.id = e.account_id
    WHERE e.account_id = ${accountId} AND e.account_version > ${range.afterVersion.toString()}
      ${range.from ? sql.fragment`AND e.posted_at >= ${range.from.toISOString()}` : sql.fragment``}
      ${range.to ? sql.fragment`AND e.posted_at < ${range.to.toISOString()}` : sql.fragment``}
    ORDER BY e.account_version
    LIMIT ${limit}
  `);
  return (rows as unknown as EntryRow[]).map(toEntry);
}

/**
 * The account's last entry posted at or before `asOf`: one descent of the
 * (account_id, posted_at) index, however many entries the account has.
 * Posting times rise with the version, so the last by time is the last by version.
 */
export async function lastEntryAsOf(
  db: CommonQueryMethods,
  accountId: string,
  asOf: Date,
): Promise<{ balanceAfterMinor: bigint; version: bigint } | null> {
  const row = await db.maybeOne(sql.unsafe`
    SELECT balance_after_minor, account_version FROM entries
    WHERE account_id = ${accountId} AND posted_at <= ${asOf.toISOString()}
    ORDER BY posted_at DESC, account_version DESC
    LIMIT 1
  `);
  return row
    ? {
        balanceAfterMinor: BigInt(row["balance_after_minor"] as string),
        version: BigInt(row["account_version"] as string),
      }
    : null;
}
