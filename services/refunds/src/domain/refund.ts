import type { Currency } from "@money/money";
import { RefundError } from "./refund-error.js";

export const REASON_CODES = [
  "requested_by_customer",
  "duplicate",
  "fraudulent",
  "return",
  "goodwill",
  "pricing_error",
  "other",
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export type RefundStatus =
  | "requested"
  | "awaiting_approval"
  | "approved"
  | "rejected"
  | "expired"
  | "processing"
  | "succeeded"
  | "failed"
  | "canceled"
  | "requires_attention";

/**
 * Where each status may go next:
 *   REQUESTED → AWAITING_APPROVAL → APPROVED | REJECTED | EXPIRED | CANCELED
 *   REQUESTED → APPROVED (the policy approves it by itself)
 *   APPROVED → PROCESSING → SUCCEEDED | FAILED | REQUIRES_ATTENTION
 *   REQUIRES_ATTENTION → PROCESSING (an operator retries) | SUCCEEDED | FAILED (resolves)
 */
export const NEXT_STATUSES: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  requested: ["awaiting_approval", "approved"],
  awaiting_approval: ["approved", "rejected", "expired", "canceled"],
  approved: ["processing"],
  processing: ["succeeded", "failed", "requires_attention"],
  requires_attention: ["processing", "succeeded", "failed"],
  rejected: [],
  expired: [],
  succeeded: [],
  failed: [],
  canceled: [],
};

/** Statuses after which the refund's amount no longer counts against the original. */
export const RELEASING_STATUSES: readonly RefundStatus[] = ["failed", "rejected", "expired", "canceled"];

export function isFinal(status: RefundStatus): boolean {
  return NEXT_STATUSES[status].length === 0;
}

/** A broken invariant: the use cases check the state before they move it. */
export function requireTransition(from: RefundStatus, to: RefundStatus): void {
  if (!NEXT_STATUSES[from].includes(to)) {
    throw new Error(`refund transition ${from} → ${to} is not allowed`);
  }
}

/** Errors: REASON_CODE_REQUIRED. */
export function requireReasonCode(code: string | null): ReasonCode {
  if (code === null || !(REASON_CODES as readonly string[]).includes(code)) {
    throw new RefundError("REASON_CODE_REQUIRED", `reason_code must be one of ${REASON_CODES.join(", ")}`);
  }
  return code as ReasonCode;
}

/** One approver's decision, bound to the amount they saw. */
export interface Decision {
  approverId: string;
  approverRole: string;
  approved: boolean;
  amountMinor: bigint;
  reason: string;
  decidedAt: Date;
}

export interface RefundRecord {
  id: string;
  originalTransactionId: string;
  merchantId: string;
  orderReference: string;
  currency: Currency;
  amountMinor: bigint;
  originalAmountMinor: bigint;
  reasonCode: ReasonCode;
  note: string;
  status: RefundStatus;
  requestedBy: string;
  requestedByRole: string;
  approvalsRequired: number;
  approvalExpiresAt: Date | null;
  sagaPhase: "forward" | "compensating" | null;
  currentStep: string | null;
  reversalTransactionId: string | null;
  pointsReversed: bigint;
  pointsShortfall: bigint;
  failureReason: string;
  failureMessage: string;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

/** One status a refund entered; `from` is null for the status it was created in. */
export interface TransitionRecord {
  refundId: string;
  from: RefundStatus | null;
  to: RefundStatus;
  actorId: string;
  actorRole: string;
  reason: string;
  occurredAt: Date;
}

/** The JSON view of a refund for audit records: amounts as minor-unit strings. */
export function refundAuditView(r: RefundRecord): Record<string, string> {
  return {
    id: r.id,
    original_transaction_id: r.originalTransactionId,
    merchant_id: r.merchantId,
    currency: r.currency.code,
    amount_minor: r.amountMinor.toString(),
    reason_code: r.reasonCode,
    status: r.status,
    requested_by: r.requestedBy,
    approvals_required: String(r.approvalsRequired),
    saga_phase: r.sagaPhase ?? "",
    current_step: r.currentStep ?? "",
    reversal_transaction_id: r.reversalTransactionId ?? "",
    failure_reason: r.failureReason,
  };
}
