import type { CommonQueryMethods } from "@money/db";
import type { Caller } from "@money/rpc";
import { listDecisions } from "../db/decisions-table.js";
import { findRefund } from "../db/refunds-table.js";
import { listSteps } from "../db/saga-steps-table.js";
import { listTransitions } from "../db/transitions-table.js";
import { requireUuid } from "./input.js";
import type { Decision, RefundRecord, TransitionRecord } from "./refund.js";
import { RefundError } from "./refund-error.js";
import type { StepRecord } from "./saga/saga-definition.js";

/** A refund with everything GetRefund shows: decisions, saga steps, history. */
export interface RefundView {
  refund: RefundRecord;
  decisions: Decision[];
  steps: StepRecord[];
  history: TransitionRecord[];
}

/** Roles that see every refund; the others see only those they requested. */
const OVERSEERS = new Set(["admin", "auditor", "approver"]);

export function maySee(caller: Caller, refund: RefundRecord): boolean {
  if (OVERSEERS.has(caller.role)) {
    return (
      caller.role !== "approver" || caller.merchantId === undefined || caller.merchantId === refund.merchantId
    );
  }
  return refund.requestedBy === caller.principalId;
}

/**
 * The refund as the caller may see it. Another requester's refund is
 * NOT_FOUND rather than PERMISSION_DENIED: its existence is not theirs to learn.
 *
 * Errors: INVALID_ARGUMENT, REFUND_NOT_FOUND.
 */
export async function getRefund(
  db: CommonQueryMethods,
  refundId: string,
  caller: Caller,
): Promise<RefundView> {
  const id = requireUuid(refundId, "refund_id");
  const view = await findRefundView(db, id);
  if (!view || !maySee(caller, view.refund)) throw new RefundError("REFUND_NOT_FOUND", `no refund ${id}`);
  return view;
}

/** The refund with its decisions, steps and history; a broken invariant when it does not exist. */
export async function loadRefundView(db: CommonQueryMethods, refundId: string): Promise<RefundView> {
  const view = await findRefundView(db, refundId);
  if (!view) throw new Error(`refund ${refundId} vanished inside its own transaction`);
  return view;
}

async function findRefundView(db: CommonQueryMethods, id: string): Promise<RefundView | null> {
  const refund = await findRefund(db, id);
  if (!refund) return null;
  // One after the other: inside a transaction they share one connection.
  const decisions = await listDecisions(db, [id]);
  const steps = await listSteps(db, id);
  const history = await listTransitions(db, id);
  return { refund, decisions: decisions.get(id) ?? [], steps, history };
}
