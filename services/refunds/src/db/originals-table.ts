import { sql, type CommonQueryMethods } from "@money/db";

/** What the refunds service has committed against one ledger transaction. */
export interface OriginalRecord {
  transactionId: string;
  currencyCode: string;
  amountMinor: bigint;
  /** The sum of its refunds that are not failed, rejected, expired or canceled. */
  committedMinor: bigint;
  /** The refund not yet in a final status, if any. */
  activeRefundId: string | null;
}

interface OriginalRow {
  transaction_id: string;
  currency: string;
  amount_minor: string;
  committed_minor: string;
  active_refund_id: string | null;
}

function toOriginal(row: OriginalRow): OriginalRecord {
  return {
    transactionId: row.transaction_id,
    currencyCode: row.currency,
    amountMinor: BigInt(row.amount_minor),
    committedMinor: BigInt(row.committed_minor),
    activeRefundId: row.active_refund_id,
  };
}

/**
 * The original's row, created on its first refund request, locked until the
 * caller's transaction ends: concurrent requests for one transaction are
 * decided one after the other.
 */
export async function lockOriginal(
  db: CommonQueryMethods,
  original: { transactionId: string; currencyCode: string; amountMinor: bigint },
): Promise<OriginalRecord> {
  await db.query(sql.unsafe`
    INSERT INTO refund_originals (transaction_id, currency, amount_minor)
    VALUES (${original.transactionId}, ${original.currencyCode}, ${original.amountMinor.toString()})
    ON CONFLICT (transaction_id) DO NOTHING
  `);
  const row = await db.one(sql.unsafe`
    SELECT * FROM refund_originals WHERE transaction_id = ${original.transactionId} FOR UPDATE
  `);
  return toOriginal(row as unknown as OriginalRow);
}

export async function updateOriginal(db: CommonQueryMethods, original: OriginalRecord): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE refund_originals
    SET committed_minor = ${original.committedMinor.toString()}, active_refund_id = ${original.activeRefundId}
    WHERE transaction_id = ${original.transactionId}
  `);
}

/**
 * Frees the original of its active refund and gives back `releasedMinor` of
 * its committed total; relative to the stored figures, under the row's lock.
 */
export async function releaseOriginal(
  db: CommonQueryMethods,
  transactionId: string,
  refundId: string,
  releasedMinor: bigint,
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE refund_originals
    SET committed_minor = committed_minor - ${releasedMinor.toString()}::bigint,
        active_refund_id = CASE WHEN active_refund_id = ${refundId} THEN NULL ELSE active_refund_id END
    WHERE transaction_id = ${transactionId}
  `);
}
