import type { DatabaseTransactionConnection } from "@money/db";
import { actorOf, type Caller } from "@money/rpc";
import { findRefund } from "../../db/refunds-table.js";
import { loadRefundView, type RefundView } from "../get-refund.js";
import { requireText, requireUuid } from "../input.js";
import type { RefundRecord } from "../refund.js";
import { RefundError } from "../refund-error.js";
import type { RefundsContext } from "../refunds-context.js";
import { RefundWriter } from "../refund-writer.js";
import { resumeParkedSaga } from "./run-saga.js";

export type Resolution = "succeeded" | "failed";

/**
 * An operator sends the step a parked saga stopped on again, with a fresh
 * retry budget, after fixing what made it fail. Participants do each step at
 * most once, so a step that did take effect is answered with its first
 * outcome rather than done twice.
 *
 * Errors: INVALID_ARGUMENT, REASON_REQUIRED, REFUND_NOT_FOUND, NOT_PARKED.
 */
export async function retrySaga(
  tx: DatabaseTransactionConnection,
  context: RefundsContext,
  command: { refundId: string; reason: string },
  caller: Caller,
): Promise<RefundView> {
  const reason = requireText(command.reason, "reason", 500, { required: true });
  const refund = await parkedRefund(tx, command.refundId);
  const writer = new RefundWriter(context, context.clock.now());
  await resumeParkedSaga(tx, writer, refund, actorOf(caller), `operator retry: ${reason}`);
  await writer.commit(tx);
  return loadRefundView(tx, refund.id);
}

/**
 * An operator closes a parked saga by hand, after settling its effects
 * outside it: SUCCEEDED when the customer got the money back, FAILED when
 * nothing of the refund stands (its amount is then refundable again). The
 * saga sends nothing more.
 *
 * Errors: INVALID_ARGUMENT, REASON_REQUIRED, REFUND_NOT_FOUND, NOT_PARKED.
 */
export async function resolveSaga(
  tx: DatabaseTransactionConnection,
  context: RefundsContext,
  command: { refundId: string; resolution: Resolution | null; reason: string },
  caller: Caller,
): Promise<RefundView> {
  const reason = requireText(command.reason, "reason", 500, { required: true });
  if (command.resolution === null)
    throw new RefundError("INVALID_ARGUMENT", "resolution must be SUCCEEDED or FAILED");
  const refund = await parkedRefund(tx, command.refundId);
  const writer = new RefundWriter(context, context.clock.now());
  writer.move(
    refund,
    command.resolution,
    actorOf(caller),
    `resolved by an operator: ${reason}`,
    command.resolution === "failed" ? { failureReason: "RESOLVED_AS_FAILED", failureMessage: reason } : {},
  );
  await writer.commit(tx);
  return loadRefundView(tx, refund.id);
}

async function parkedRefund(tx: DatabaseTransactionConnection, refundId: string): Promise<RefundRecord> {
  const id = requireUuid(refundId, "refund_id");
  const refund = await findRefund(tx, id, { forUpdate: true });
  if (!refund) throw new RefundError("REFUND_NOT_FOUND", `no refund ${id}`);
  if (refund.status !== "requires_attention") {
    throw new RefundError("NOT_PARKED", `refund ${id} is ${refund.status}, not requires_attention`);
  }
  return refund;
}
