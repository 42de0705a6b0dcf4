import type { DatabaseTransactionConnection } from "@money/db";
import { actorOf, type Caller } from "@money/rpc";
import { findRefund } from "../db/refunds-table.js";
import { loadRefundView, type RefundView } from "./get-refund.js";
import { requireText, requireUuid } from "./input.js";
import { RefundError } from "./refund-error.js";
import type { RefundsContext } from "./refunds-context.js";
import { RefundWriter } from "./refund-writer.js";

/**
 * Withdraws a refund that is still waiting for approval; once its saga has
 * started, only the saga (or an operator) can end it. Its amount is
 * refundable again.
 *
 * Errors: INVALID_ARGUMENT, REASON_REQUIRED, REFUND_NOT_FOUND,
 * NOT_YOUR_REFUND, NOT_CANCELABLE.
 */
export async function cancelRefund(
  tx: DatabaseTransactionConnection,
  context: RefundsContext,
  command: { refundId: string; reason: string },
  caller: Caller,
): Promise<RefundView> {
  const id = requireUuid(command.refundId, "refund_id");
  const reason = requireText(command.reason, "reason", 500, { required: true });
  const refund = await findRefund(tx, id, { forUpdate: true });
  if (!refund) throw new RefundError("REFUND_NOT_FOUND", `no refund ${id}`);
  if (caller.role !== "admin" && refund.requestedBy !== caller.principalId) {
    throw new RefundError(
      "NOT_YOUR_REFUND",
      `only ${refund.requestedBy} or an admin may cancel refund ${id}`,
    );
  }
  if (refund.status !== "awaiting_approval") {
    throw new RefundError(
      "NOT_CANCELABLE",
      `refund ${id} is ${refund.status}; only one awaiting approval can be canceled`,
    );
  }
  const writer = new RefundWriter(context, context.clock.now());
  writer.move(refund, "canceled", actorOf(caller), reason, {
    approvalExpiresAt: null,
    failureReason: "CANCELED",
    failureMessage: reason,
  });
  await writer.commit(tx);
  return loadRefundView(tx, id);
}
