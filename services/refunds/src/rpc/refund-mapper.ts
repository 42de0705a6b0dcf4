import { create } from "@bufbuild/protobuf";
import { timestampFromDate, timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { formatAmount } from "@money/money";
import {
  ApprovalPolicySchema,
  ApprovalSchema,
  ReasonCode as WireReasonCode,
  RefundSchema,
  RefundStatus as WireRefundStatus,
  Resolution as WireResolution,
  StatusTransitionSchema,
  StepStateSchema,
  StepStatus as WireStepStatus,
  type ApprovalPolicy as WireApprovalPolicy,
  type Refund,
} from "@money/proto/refunds/v1/refunds_pb";
import type { ApprovalPolicy } from "../domain/approval-policy.js";
import type { RefundView } from "../domain/get-refund.js";
import type { ReasonCode, Decision, RefundRecord, RefundStatus, TransitionRecord } from "../domain/refund.js";
import type { StepStatus } from "../domain/saga/saga-definition.js";
import type { Resolution } from "../domain/saga/operate-saga.js";
import { STEP_TO_WIRE } from "../saga-protocol/saga-messages.js";

const STATUS_TO_WIRE: Readonly<Record<RefundStatus, WireRefundStatus>> = {
  requested: WireRefundStatus.REQUESTED,
  awaiting_approval: WireRefundStatus.AWAITING_APPROVAL,
  approved: WireRefundStatus.APPROVED,
  rejected: WireRefundStatus.REJECTED,
  expired: WireRefundStatus.EXPIRED,
  processing: WireRefundStatus.PROCESSING,
  succeeded: WireRefundStatus.SUCCEEDED,
  failed: WireRefundStatus.FAILED,
  canceled: WireRefundStatus.CANCELED,
  requires_attention: WireRefundStatus.REQUIRES_ATTENTION,
};

const REASON_TO_WIRE: Readonly<Record<ReasonCode, WireReasonCode>> = {
  requested_by_customer: WireReasonCode.REQUESTED_BY_CUSTOMER,
  duplicate: WireReasonCode.DUPLICATE,
  fraudulent: WireReasonCode.FRAUDULENT,
  return: WireReasonCode.RETURN,
  goodwill: WireReasonCode.GOODWILL,
  pricing_error: WireReasonCode.PRICING_ERROR,
  other: WireReasonCode.OTHER,
};

const STEP_STATUS_TO_WIRE: Readonly<Record<StepStatus, WireStepStatus>> = {
  pending: WireStepStatus.PENDING,
  in_flight: WireStepStatus.IN_FLIGHT,
  retry_scheduled: WireStepStatus.RETRY_SCHEDULED,
  succeeded: WireStepStatus.SUCCEEDED,
  refused: WireStepStatus.REFUSED,
  failed: WireStepStatus.FAILED,
  skipped: WireStepStatus.SKIPPED,
};

function inverse<K extends string, V>(table: Readonly<Record<K, V>>): (value: V) => K | null {
  const entries = Object.entries(table) as [K, V][];
  return (value) => entries.find(([, v]) => v === value)?.[0] ?? null;
}

export const statusToWire = (status: RefundStatus): WireRefundStatus => STATUS_TO_WIRE[status];
/** Null for UNSPECIFIED and values this version does not know. */
export const statusFromWire = inverse(STATUS_TO_WIRE);
export const reasonCodeFromWire = inverse(REASON_TO_WIRE);

export function resolutionFromWire(resolution: WireResolution): Resolution | null {
  if (resolution === WireResolution.SUCCEEDED) return "succeeded";
  if (resolution === WireResolution.FAILED) return "failed";
  return null;
}

const ts = (date: Date | null): Timestamp | undefined =>
  date === null ? undefined : timestampFromDate(date);

export function dateFromWire(timestamp: Timestamp | undefined): Date | null {
  return timestamp === undefined ? null : timestampDate(timestamp);
}

function decisionToWire(d: Decision, refund: RefundRecord) {
  return create(ApprovalSchema, {
    approverId: d.approverId,
    approverRole: d.approverRole,
    approved: d.approved,
    amount: formatAmount(d.amountMinor, refund.currency),
    reason: d.reason,
    decidedAt: timestampFromDate(d.decidedAt),
  });
}

export function transitionToWire(t: TransitionRecord) {
  return create(StatusTransitionSchema, {
    fromStatus: t.from === null ? WireRefundStatus.UNSPECIFIED : STATUS_TO_WIRE[t.from],
    toStatus: STATUS_TO_WIRE[t.to],
    actorId: t.actorId,
    actorRole: t.actorRole,
    reason: t.reason,
    occurredAt: timestampFromDate(t.occurredAt),
  });
}

/** The refund on the wire; steps and history only when given (GetRefund and mutations). */
export function refundToWire(refund: RefundRecord, extra: Partial<Omit<RefundView, "refund">> = {}): Refund {
  return create(RefundSchema, {
    id: refund.id,
    originalTransactionId: refund.originalTransactionId,
    merchantId: refund.merchantId,
    orderReference: refund.orderReference,
    amount: formatAmount(refund.amountMinor, refund.currency),
    currency: refund.currency.code,
    originalAmount: formatAmount(refund.originalAmountMinor, refund.currency),
    reasonCode: REASON_TO_WIRE[refund.reasonCode],
    note: refund.note,
    status: STATUS_TO_WIRE[refund.status],
    requestedBy: refund.requestedBy,
    requestedByRole: refund.requestedByRole,
    approvalsRequired: refund.approvalsRequired,
    approvals: (extra.decisions ?? []).map((d) => decisionToWire(d, refund)),
    approvalExpiresAt: ts(refund.approvalExpiresAt),
    reversalTransactionId: refund.reversalTransactionId ?? "",
    pointsReversed: refund.pointsReversed,
    pointsShortfall: refund.pointsShortfall,
    failureReason: refund.failureReason,
    failureMessage: refund.failureMessage,
    steps: (extra.steps ?? []).map((s) =>
      create(StepStateSchema, {
        step: STEP_TO_WIRE[s.step],
        compensation: s.compensation,
        status: STEP_STATUS_TO_WIRE[s.status],
        attempts: s.attempts,
        lastError: s.lastError,
        deadlineAt: ts(s.deadlineAt),
        nextAttemptAt: ts(s.nextAttemptAt),
        startedAt: ts(s.startedAt),
        completedAt: ts(s.completedAt),
        result: s.result,
      }),
    ),
    history: (extra.history ?? []).map(transitionToWire),
    createdAt: timestampFromDate(refund.createdAt),
    updatedAt: timestampFromDate(refund.updatedAt),
    completedAt: ts(refund.completedAt),
  });
}

export function viewToWire(view: RefundView): Refund {
  return refundToWire(view.refund, view);
}

export function policyToWire(policy: ApprovalPolicy): WireApprovalPolicy {
  return create(ApprovalPolicySchema, {
    merchantId: policy.merchantId,
    currency: policy.currency.code,
    bands: policy.bands.map((b) => ({
      minAmount: formatAmount(b.minAmountMinor, policy.currency),
      approvalsRequired: b.approvalsRequired,
    })),
    approvalTtlSeconds: BigInt(policy.approvalTtlSeconds),
  });
}
