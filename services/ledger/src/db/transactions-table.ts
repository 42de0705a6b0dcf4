import { sql, type CommonQueryMethods } from "@money/db";
import { findCurrency } from "@money/money";
import type {
  Direction,
  EntryRecord,
  HoldStatus,
  StatusChangeRecord,
  TransactionKind,
  TransactionPurpose,
  TransactionRecord,
  TransactionStatus,
} from "../domain/transactions/transaction.js";

interface TransactionRow {
  id: string;
  kind: TransactionKind;
  purpose: TransactionPurpose;
  status: TransactionStatus;
  currency: string | null;
  amount_minor: string | null;
  reversed_minor: string;
  reverses_transaction_id: string | null;
  external_ref: string;
  description: string;
  reason: string;
  metadata: Record<string, string>;
  effective_at: Date;
  created_at: Date;
  performed_by: string;
  performed_by_role: string;
  hold_debit_account_id: string | null;
  hold_credit_account_id: string | null;
  hold_amount_minor: string | null;
  hold_posted_minor: string | null;
  hold_status: HoldStatus | null;
  hold_expires_at: Date | null;
  hold_expired: boolean | null;
}

export interface EntryRow {
  account_id: string;
  account_version: string;
  transaction_id: string;
  direction: Direction;
  amount_minor: string;
  currency: string;
  balance_before_minor: string;
  balance_after_minor: string;
  posted_at: Date;
}

const TRANSACTION_COLUMNS = sql.fragment`
  t.*, h.debit_account_id AS hold_debit_account_id, h.credit_account_id AS hold_credit_account_id,
  h.amount_minor AS hold_amount_minor, h.posted_minor AS hold_posted_minor, h.status AS hold_status,
  h.expires_at AS hold_expires_at, h.expires_at <= clock_timestamp() AS hold_expired`;

function toTransaction(row: TransactionRow, entries: EntryRecord[]): TransactionRecord {
  const currency = row.currency === null ? null : findCurrency(row.currency)!;
  return {
    id: row.id,
    kind: row.kind,
    purpose: row.purpose,
    status: row.status,
    currency,
    amountMinor: row.amount_minor === null ? null : BigInt(row.amount_minor),
    reversedMinor: BigInt(row.reversed_minor),
    reversesTransactionId: row.reverses_transaction_id,
    externalRef: row.external_ref,
    description: row.description,
    reason: row.reason,
    metadata: row.metadata,
    effectiveAt: row.effective_at,
    createdAt: row.created_at,
    performedBy: row.performed_by,
    performedByRole: row.performed_by_role,
    entries,
    hold:
      row.hold_status === null
        ? null
        : {
            debitAccountId: row.hold_debit_account_id!,
            creditAccountId: row.hold_credit_account_id!,
            amountMinor: BigInt(row.hold_amount_minor!),
            postedMinor: row.hold_posted_minor === null ? null : BigInt(row.hold_posted_minor),
            status: row.hold_status,
            expiresAt: row.hold_expires_at!,
          },
  };
}

export function toEntry(row: EntryRow): EntryRecord {
  return {
    transactionId: row.transaction_id,
    accountId: row.account_id,
    direction: row.direction,
    amountMinor: BigInt(row.amount_minor),
    currency: findCurrency(row.currency)!,
    balanceBeforeMinor: BigInt(row.balance_before_minor),
    balanceAfterMinor: BigInt(row.balance_after_minor),
    accountVersion: BigInt(row.account_version),
    postedAt: row.posted_at,
  };
}

/**
 * A transaction with its entries and hold; null when there is none. With
 * `forUpdate` its row is locked until the caller's transaction ends.
 * `holdExpired` says whether an open hold is past its timeout by the
 * database's clock.
 */
export async function findTransaction(
  db: CommonQueryMethods,
  id: string,
  { forUpdate = false } = {},
): Promise<{ transaction: TransactionRecord; holdExpired: boolean } | null> {
  const row = (await db.maybeOne(sql.unsafe`
    SELECT ${TRANSACTION_COLUMNS}
    FROM transactions t LEFT JOIN holds h ON h.transaction_id = t.id
    WHERE t.id = ${id} ${forUpdate ? sql.fragment`FOR UPDATE OF t` : sql.fragment``}
  `)) as unknown as TransactionRow | null;
  if (!row) return null;
  const entries = await db.any(sql.unsafe`
    SELECT e.*, a.currency FROM entries e JOIN accounts a ON a.id = e.account_id
    WHERE e.transaction_id = ${id}
    ORDER BY e.direction DESC, e.account_id
  `);
  return {
    transaction: toTransaction(row, (entries as unknown as EntryRow[]).map(toEntry)),
    holdExpired: row.hold_expired === true,
  };
}

/**
 * How much of each account's entry in `originalId` its reversals have offset
 * so far. A cancelled reversal (offset in full by another, so its reversed
 * total is its amount) offsets nothing any more and is left out.
 */
export async function reversedPerAccount(
  db: CommonQueryMethods,
  originalId: string,
): Promise<Map<string, bigint>> {
  const rows = await db.any(sql.unsafe`
    SELECT e.account_id, sum(e.amount_minor)::text AS reversed
    FROM transactions r JOIN entries e ON e.transaction_id = r.id
    WHERE r.reverses_transaction_id = ${originalId} AND r.reversed_minor < r.amount_minor
    GROUP BY e.account_id
  `);
  return new Map(rows.map((r) => [r["account_id"] as string, BigInt(r["reversed"] as string)]));
}

/** The reversal that cancelled (offset in full) the reversal `reversalId`; null when none has. */
export async function findCancellationOf(
  db: CommonQueryMethods,
  reversalId: string,
): Promise<TransactionRecord | null> {
  const id = await db.maybeOneFirst(sql.unsafe`
    SELECT id FROM transactions WHERE reverses_transaction_id = ${reversalId} ORDER BY created_at LIMIT 1
  `);
  if (id === null) return null;
  return (await findTransaction(db, id as string))?.transaction ?? null;
}

export interface TransactionFilter {
  accountId: string | null;
  externalRef: string;
  metadata: Record<string, string> | null;
  status: TransactionStatus | null;
  createdFrom: Date | null;
  createdTo: Date | null;
}

/** Newest first, without entries, after the (created_at, id) of the previous page's last row. */
export async function listTransactions(
  db: CommonQueryMethods,
  filter: TransactionFilter,
  before: { createdAt: string; id: string } | null,
  limit: number,
): Promise<TransactionRecord[]> {
  const conditions = [sql.fragment`TRUE`];
  if (filter.accountId) {
    conditions.push(sql.fragment`(
      t.id IN (SELECT transaction_id FROM entries WHERE account_id = ${filter.accountId})
      OR h.debit_account_id = ${filter.accountId} OR h.credit_account_id = ${filter.accountId})`);
  }
  if (filter.externalRef) conditions.push(sql.fragment`t.external_ref = ${filter.externalRef}`);
  if (filter.metadata) conditions.push(sql.fragment`t.metadata @> ${sql.jsonb(filter.metadata)}`);
  if (filter.status) conditions.push(sql.fragment`t.status = ${filter.status}`);
  if (filter.createdFrom) conditions.push(sql.fragment`t.created_at >= ${filter.createdFrom.toISOString()}`);
  if (filter.createdTo) conditions.push(sql.fragment`t.created_at < ${filter.createdTo.toISOString()}`);
  if (before) {
    conditions.push(
      sql.fragment`(t.created_at, t.id) < (${before.createdAt}::timestamptz, ${before.id}::uuid)`,
    );
  }
  const rows = await db.any(sql.unsafe`
    SELECT ${TRANSACTION_COLUMNS}
    FROM transactions t LEFT JOIN holds h ON h.transaction_id = t.id
    WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY t.created_at DESC, t.id DESC
    LIMIT ${limit}
  `);
  return (rows as unknown as TransactionRow[]).map((row) => toTransaction(row, []));
}

export async function listStatusHistory(
  db: CommonQueryMethods,
  transactionId: string,
): Promise<StatusChangeRecord[]> {
  const rows = await db.any(sql.unsafe`
    SELECT * FROM transaction_status_history WHERE transaction_id = ${transactionId} ORDER BY id
  `);
  return rows.map((r) => ({
    transactionId: r["transaction_id"] as string,
    from: r["from_status"] as TransactionStatus | null,
    to: r["to_status"] as TransactionStatus,
    performedBy: r["performed_by"] as string,
    performedByRole: r["performed_by_role"] as string,
    reason: r["reason"] as string,
    changedAt: r["changed_at"] as Date,
  }));
}

/** Open holds past their timeout, oldest first. */
export async function findExpiredHolds(db: CommonQueryMethods, limit: number): Promise<string[]> {
  const rows = await db.anyFirst(sql.unsafe`
    SELECT transaction_id FROM holds WHERE status = 'open' AND expires_at <= clock_timestamp()
    ORDER BY expires_at LIMIT ${limit}
  `);
  return rows as string[];
}

/** The accounts a transaction touches (its entries' and its hold's), for in-process lock striping. */
export async function accountsOfTransaction(db: CommonQueryMethods, id: string): Promise<string[]> {
  const rows = await db.anyFirst(sql.unsafe`
    SELECT account_id FROM entries WHERE transaction_id = ${id}
    UNION SELECT debit_account_id FROM holds WHERE transaction_id = ${id}
    UNION SELECT credit_account_id FROM holds WHERE transaction_id = ${id}
  `);
  return rows as string[];
}
