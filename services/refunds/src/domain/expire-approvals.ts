import type { DatabaseTransactionConnection } from "@money/db";
import { lockExpiredAwaiting } from "../db/refunds-table.js";
import { EXPIRY_ACTOR, type RefundsContext } from "./refunds-context.js";
import { RefundWriter } from "./refund-writer.js";

/**
 * Expires refunds not decided by their deadline (at most `limit` per call);
 * their amounts are refundable again. Rows another replica's sweeper holds
 * are skipped, not waited for. Returns how many expired.
 */
export async function expireApprovals(
  tx: DatabaseTransactionConnection,
  context: RefundsContext,
  limit: number,
): Promise<number> {
  const now = context.clock.now();
  const due = await lockExpiredAwaiting(tx, now, limit);
  if (due.length === 0) return 0;
  const writer = new RefundWriter(context, now);
  for (const refund of due) {
    const deadline = refund.approvalExpiresAt?.toISOString() ?? "";
    writer.move(refund, "expired", EXPIRY_ACTOR, `not decided by ${deadline}`, {
      failureReason: "APPROVAL_EXPIRED",
      failureMessage: `not decided by ${deadline}`,
    });
  }
  await writer.commit(tx);
  return due.length;
}
