import { sql, type CommonQueryMethods } from "@money/db";
import type { Write } from "./write-together.js";

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
  // One statement: an existing row is locked by its (no-op) update, as FOR UPDATE would, and returned.
  const row = await db.one(sql.unsafe`
    INSERT INTO refund_originals (transaction_id, currency, amount_minor)
    VALUES (${original.transactionId}, ${original.currencyCode}, ${original.amountMinor.toString()})
    ON CONFLICT (transaction_id) DO UPDATE SET currency = refund_originals.currency
    RETURNING *
  `);
  return toOriginal(row as unknown as OriginalRow);
}

/** Stores the original's committed total and active refund (a write for `writeTogether`). */
export function updateOriginal(original: OriginalRecord): Write {
  return sql.fragment`
    UPDATE refund_originals
    SET committed_minor = ${original.committedMinor.toString()}, active_refund_id = ${original.activeRefundId}
    WHERE transaction_id = ${original.transactionId}
  `;
}

/**
 * Frees each original of its active refund and gives back `releasedMinor` of
 * its committed total, relative to the stored figures, under the rows' locks,
 * for any number of refunds (a write for `writeTogether`); null for none.
 */
export function releaseOriginals(
  releases: readonly { transactionId: string; refundId: string; releasedMinor: bigint }[],
): Write | null {
  if (releases.length === 0) return null;
  return sql.fragment`
    UPDATE refund_originals o
    SET committed_minor = o.committed_minor - r.released_minor,
        active_refund_id = CASE WHEN o.active_refund_id = ANY(r.refund_ids) THEN NULL ELSE o.active_refund_id END
    FROM (
      SELECT transaction_id, sum(released_minor)::bigint AS released_minor, array_agg(refund_id) AS refund_ids
      FROM ${sql.unnest(
        releases.map((r) => [r.transactionId, r.refundId, r.releasedMinor.toString()]),
        ["uuid", "uuid", "int8"],
      )} AS u(transaction_id, refund_id, released_minor)
      GROUP BY transaction_id
    ) r
    WHERE o.transaction_id = r.transaction_id
  `;
}
