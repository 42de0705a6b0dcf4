import type { DatabaseTransactionConnection } from "@money/db";
import { formatAmount, parseAmount } from "@money/money";
import { actorOf, type Caller } from "@money/rpc";
import { insertDecision, listDecisions } from "../db/decisions-table.js";
import { findRefund } from "../db/refunds-table.js";
import { loadRefundView, type RefundView } from "./get-refund.js";
import { requireText, requireUuid } from "./input.js";
import type { Decision, RefundRecord } from "./refund.js";
import { RefundError } from "./refund-error.js";
import type { RefundsContext } from "./refunds-context.js";
import { RefundWriter } from "./refund-writer.js";
import { startSaga } from "./saga/run-saga.js";

export interface ApproveRefund {
  refundId: string;
  /** Decimal text: must be exactly the amount requested. */
  amount: string;
  reason: string;
}

export interface RejectRefund {
  refundId: string;
  reason: string;
}

/**
 * Records one approver's approval, bound to the exact amount requested (an
 * approver who saw another amount approved something else). The approval
 * that completes the policy's count approves the refund and starts its saga,
 * in the same transaction.
 *
 * Errors: INVALID_ARGUMENT, REFUND_NOT_FOUND, NOT_YOUR_MERCHANT,
 * SELF_APPROVAL, NOT_AWAITING_APPROVAL, APPROVAL_EXPIRED,
 * APPROVAL_AMOUNT_MISMATCH, ALREADY_DECIDED.
 */
export async function approveRefund(
  tx: DatabaseTransactionConnection,
  context: RefundsContext,
  command: ApproveRefund,
  caller: Caller,
): Promise<RefundView> {
  const reason = requireText(command.reason, "reason", 500);
  const now = context.clock.now();
  const refund = await refundAwaitingDecision(tx, command.refundId, caller, now);
  const amount = parseAmount(command.amount, refund.currency);
  if (!amount.ok || amount.minor !== refund.amountMinor) {
    throw new RefundError(
      "APPROVAL_AMOUNT_MISMATCH",
      `the refund is for ${formatAmount(refund.amountMinor, refund.currency)} ${refund.currency.code}, ` +
        `not ${JSON.stringify(command.amount)}: approve the amount requested`,
    );
  }
  const decision = await record(
    tx,
    refund,
    caller,
    { approved: true, amountMinor: amount.minor, reason },
    now,
  );
  const approvals =
    (await listDecisions(tx, [refund.id])).get(refund.id)?.filter((d) => d.approved).length ?? 0;
  const actor = actorOf(caller);
  const writer = new RefundWriter(context, now);
  writer.emit({ type: "decision_recorded", refund, decision, actor, approvals });
  if (approvals >= refund.approvalsRequired) {
    const approved = writer.move(refund, "approved", actor, reason || `approved by ${caller.principalId}`, {
      approvalExpiresAt: null,
    });
    startSaga(writer, approved, actor, "approved: saga started");
  }
  await writer.commit(tx);
  return loadRefundView(tx, refund.id);
}

/**
 * Rejects a refund awaiting approval: one rejection is final, whatever the
 * other approvers said. Its amount is refundable again.
 *
 * Errors: INVALID_ARGUMENT, REASON_REQUIRED, REFUND_NOT_FOUND,
 * NOT_YOUR_MERCHANT, SELF_APPROVAL, NOT_AWAITING_APPROVAL, APPROVAL_EXPIRED,
 * ALREADY_DECIDED.
 */
export async function rejectRefund(
  tx: DatabaseTransactionConnection,
  context: RefundsContext,
  command: RejectRefund,
  caller: Caller,
): Promise<RefundView> {
  const reason = requireText(command.reason, "reason", 500, { required: true });
  const now = context.clock.now();
  const refund = await refundAwaitingDecision(tx, command.refundId, caller, now);
  const decision = await record(
    tx,
    refund,
    caller,
    { approved: false, amountMinor: refund.amountMinor, reason },
    now,
  );
  const actor = actorOf(caller);
  const writer = new RefundWriter(context, now);
  writer.emit({ type: "decision_recorded", refund, decision, actor, approvals: 0 });
  writer.move(refund, "rejected", actor, reason, {
    approvalExpiresAt: null,
    failureReason: "REJECTED",
    failureMessage: reason,
  });
  await writer.commit(tx);
  return loadRefundView(tx, refund.id);
}

/** The refund, locked, if this caller may decide on it now. */
async function refundAwaitingDecision(
  tx: DatabaseTransactionConnection,
  refundId: string,
  caller: Caller,
  now: Date,
): Promise<RefundRecord> {
  const id = requireUuid(refundId, "refund_id");
  const refund = await findRefund(tx, id, { forUpdate: true });
  if (!refund) throw new RefundError("REFUND_NOT_FOUND", `no refund ${id}`);
  if (caller.merchantId !== undefined && caller.merchantId !== refund.merchantId) {
    throw new RefundError("NOT_YOUR_MERCHANT", `refund ${id} is not of merchant ${caller.merchantId}`);
  }
  if (refund.requestedBy === caller.principalId) {
    throw new RefundError(
      "SELF_APPROVAL",
      `${caller.principalId} requested refund ${id} and cannot decide on it`,
    );
  }
  if (refund.status !== "awaiting_approval") {
    throw new RefundError("NOT_AWAITING_APPROVAL", `refund ${id} is ${refund.status}`);
  }
  if (refund.approvalExpiresAt !== null && refund.approvalExpiresAt <= now) {
    throw new RefundError(
      "APPROVAL_EXPIRED",
      `refund ${id} was not decided by ${refund.approvalExpiresAt.toISOString()}`,
    );
  }
  return refund;
}

async function record(
  tx: DatabaseTransactionConnection,
  refund: RefundRecord,
  caller: Caller,
  what: { approved: boolean; amountMinor: bigint; reason: string },
  now: Date,
): Promise<Decision> {
  const decision: Decision = {
    approverId: caller.principalId,
    approverRole: caller.role,
    ...what,
    decidedAt: now,
  };
  if (!(await insertDecision(tx, refund.id, decision))) {
    throw new RefundError("ALREADY_DECIDED", `${caller.principalId} already decided on refund ${refund.id}`);
  }
  return decision;
}
