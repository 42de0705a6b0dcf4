import { create, type DescMessage, type JsonObject } from "@bufbuild/protobuf";
import type { DatabaseTransactionConnection } from "@money/db";
import { TOPICS, type AuditEntry, type AuditRecorder, type NewEvent } from "@money/kafka";
import { formatAmount } from "@money/money";
import {
  RefundDecisionRecordedSchema,
  RefundStatus as WireRefundStatus,
  RefundStatusChangedSchema,
} from "@money/proto/refunds/v1/refunds_pb";
import {
  CancelLedgerReversalSchema,
  CompleteLedgerRefundSchema,
  MarkRefundProcessingSchema,
  RefundSagaCommandSchema,
  RestoreSettledSchema,
  ReverseLedgerTransactionSchema,
  ReverseLoyaltyPointsSchema,
  type RefundSagaCommand,
} from "@money/proto/refunds/v1/saga_pb";
import { policyAuditView } from "../domain/approval-policy.js";
import { refundAuditView, type RefundRecord } from "../domain/refund.js";
import type { RefundEventSink, StampedEvent } from "../domain/refunds-context.js";
import { PARTICIPANT_OF, type SagaStepName, type StepRecord } from "../domain/saga/saga-definition.js";
import { commandId, PARTICIPANT_TO_WIRE, STEP_TO_WIRE } from "../saga-protocol/saga-messages.js";
import { refundToWire, statusToWire } from "../rpc/refund-mapper.js";

/**
 * Writes the refunds service's events to its outbox in the caller's
 * transaction, all in one statement: domain events on refunds.events and
 * saga commands on refunds.commands (both keyed by refund id, so one
 * refund's messages stay in order), and an audit event on audit.events for
 * every request, decision, transition, saga step outcome and policy change.
 */
export class OutboxRefundEvents implements RefundEventSink {
  constructor(
    private readonly audit: AuditRecorder,
    /** The deployment's saga namespace, stamped on every command. */
    private readonly namespace: string,
  ) {}

  async write(tx: DatabaseTransactionConnection, events: readonly StampedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const facts: NewEvent<DescMessage>[] = [];
    const audits: AuditEntry[] = [];
    for (const event of events) {
      const fact = this.factOf(event);
      if (fact) facts.push(fact);
      const audit = auditOf(event);
      if (audit) audits.push(audit);
    }
    await this.audit.recordMany(tx, audits, facts);
  }

  private factOf(event: StampedEvent): NewEvent<DescMessage> | null {
    const about = (
      refundId: string,
      schema: DescMessage,
      payload: NewEvent<DescMessage>["payload"],
      eventId?: string,
    ) => ({
      topic: TOPICS.refundsEvents.topic,
      schema,
      payload,
      aggregateType: "refund",
      aggregateId: refundId,
      occurredAt: event.occurredAt,
      correlationId: refundId,
      ...(eventId ? { eventId } : {}),
    });
    switch (event.type) {
      case "status_changed":
        return about(
          event.refund.id,
          RefundStatusChangedSchema,
          create(RefundStatusChangedSchema, {
            refund: refundToWire(event.refund),
            fromStatus: event.from === null ? WireRefundStatus.UNSPECIFIED : statusToWire(event.from),
            toStatus: statusToWire(event.to),
            actorId: event.actor.principalId,
            actorRole: event.actor.role,
            reason: event.reason,
          }),
        );
      case "decision_recorded":
        return about(
          event.refund.id,
          RefundDecisionRecordedSchema,
          create(RefundDecisionRecordedSchema, {
            refundId: event.refund.id,
            approval: {
              approverId: event.decision.approverId,
              approverRole: event.decision.approverRole,
              approved: event.decision.approved,
              amount: formatAmount(event.decision.amountMinor, event.refund.currency),
              reason: event.decision.reason,
            },
            approvals: event.approvals,
            approvalsRequired: event.refund.approvalsRequired,
          }),
        );
      case "command":
        return {
          ...about(
            event.refund.id,
            RefundSagaCommandSchema,
            commandFor(event.refund, event.step, event.attempt, this.namespace),
            commandId(event.refund.id, event.step, event.attempt),
          ),
          topic: TOPICS.refundsCommands.topic,
        };
      case "step_changed":
      case "policy_set":
        return null;
    }
  }
}

/** The command of one attempt of one step, built from the refund it serves. */
export function commandFor(
  refund: RefundRecord,
  step: SagaStepName,
  attempt: number,
  namespace: string,
): RefundSagaCommand {
  const amount = formatAmount(refund.amountMinor, refund.currency);
  const reason = `refund ${refund.id} (${refund.reasonCode})`;
  const transactionId = refund.originalTransactionId;
  const body = ((): RefundSagaCommand["body"] => {
    switch (step) {
      case "mark_refund_processing":
        return {
          case: "markRefundProcessing",
          value: create(MarkRefundProcessingSchema, { transactionId, reason }),
        };
      case "reverse_ledger_transaction":
        return {
          case: "reverseLedgerTransaction",
          value: create(ReverseLedgerTransactionSchema, { transactionId, amount, reason }),
        };
      case "reverse_loyalty_points":
        return {
          case: "reverseLoyaltyPoints",
          value: create(ReverseLoyaltyPointsSchema, {
            merchantId: refund.merchantId,
            orderReference: refund.orderReference,
            refundedAmount: amount,
            originalPurchaseAmount: formatAmount(refund.originalAmountMinor, refund.currency),
            currency: refund.currency.code,
          }),
        };
      case "complete_ledger_refund":
        return {
          case: "completeLedgerRefund",
          value: create(CompleteLedgerRefundSchema, { transactionId, reason }),
        };
      case "cancel_ledger_reversal":
        return {
          case: "cancelLedgerReversal",
          value: create(CancelLedgerReversalSchema, {
            transactionId,
            reversalTransactionId: refund.reversalTransactionId ?? "",
            reason: `compensating ${reason}`,
          }),
        };
      case "restore_settled":
        return {
          case: "restoreSettled",
          value: create(RestoreSettledSchema, { transactionId, reason: `compensating ${reason}` }),
        };
    }
  })();
  return create(RefundSagaCommandSchema, {
    sagaId: refund.id,
    step: STEP_TO_WIRE[step],
    attempt,
    participant: PARTICIPANT_TO_WIRE[PARTICIPANT_OF[step]],
    namespace,
    body,
  });
}

function stepAuditView(step: StepRecord): JsonObject {
  return {
    step: step.step,
    compensation: step.compensation,
    status: step.status,
    attempts: step.attempts,
    last_error: step.lastError,
    result: step.result,
  };
}

function auditOf(event: StampedEvent): AuditEntry | null {
  const base = { occurredAt: event.occurredAt };
  switch (event.type) {
    case "status_changed":
      return {
        ...base,
        action: event.from === null ? "refund.requested" : `refund.${event.to}`,
        objectType: "refund",
        objectId: event.refund.id,
        actor: event.actor,
        ...(event.from === null ? {} : { before: { status: event.from } }),
        after: refundAuditView(event.refund),
        reason: event.reason,
        correlationId: event.refund.id,
      };
    case "decision_recorded":
      return {
        ...base,
        action: event.decision.approved ? "refund.approval_recorded" : "refund.rejection_recorded",
        objectType: "refund",
        objectId: event.refund.id,
        actor: event.actor,
        after: {
          approved: event.decision.approved,
          amount_minor: event.decision.amountMinor.toString(),
          approvals: event.approvals,
          approvals_required: event.refund.approvalsRequired,
        },
        reason: event.decision.reason,
        approvalReference: `${event.refund.id}/${event.decision.approverId}`,
        correlationId: event.refund.id,
      };
    case "step_changed":
      return {
        ...base,
        action: `refund.saga_step.${event.step.status}`,
        objectType: "refund",
        objectId: event.refund.id,
        actor: event.actor,
        after: stepAuditView(event.step),
        reason: event.step.lastError,
        correlationId: event.refund.id,
      };
    case "policy_set":
      return {
        ...base,
        action: "refund_policy.set",
        objectType: "refund_policy",
        objectId: `${event.after.merchantId || "*"}/${event.after.currency.code}`,
        actor: event.actor,
        before: policyAuditView(event.before),
        after: policyAuditView(event.after),
        reason: event.reason,
      };
    case "command":
      return null;
  }
}
