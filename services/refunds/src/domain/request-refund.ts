import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import { findCurrency, formatAmount, parseAmount, type Currency } from "@money/money";
import { actorOf, type Caller } from "@money/rpc";
import { lockOriginal } from "../db/originals-table.js";
import { approvalsFor, policyFor } from "./approval-policy.js";
import { requireText, requireUuid } from "./input.js";
import { METADATA, type LedgerGateway, type OriginalTransaction } from "./original-transaction.js";
import { requireReasonCode, type ReasonCode, type RefundRecord } from "./refund.js";
import { RefundError } from "./refund-error.js";
import type { RefundsContext } from "./refunds-context.js";
import { RefundWriter } from "./refund-writer.js";
import type { RefundView } from "./get-refund.js";
import { startSaga } from "./saga/run-saga.js";

export interface RefundRequest {
  originalTransactionId: string;
  /** Decimal text in `currency`. */
  amount: string;
  currency: string;
  /** Null when the wire left it unspecified. */
  reasonCode: string | null;
  note: string;
}

/** A request whose fields are valid whatever the state, with the original as the ledger reported it. */
export interface PreparedRefund {
  originalTransactionId: string;
  currency: Currency;
  amountMinor: bigint;
  reasonCode: ReasonCode;
  note: string;
  original: OriginalTransaction;
}

/**
 * Checks what can be checked without state, then reads the original from
 * the ledger: outside any database transaction, because a transaction may
 * be retried and must not call another service.
 *
 * Errors: INVALID_ARGUMENT, REASON_CODE_REQUIRED, UNKNOWN_CURRENCY,
 * AMOUNT_NOT_POSITIVE, INVALID_AMOUNT, then the gateway's
 * ORIGINAL_NOT_FOUND and LEDGER_UNAVAILABLE.
 */
export async function prepareRefund(ledger: LedgerGateway, request: RefundRequest): Promise<PreparedRefund> {
  const originalTransactionId = requireUuid(request.originalTransactionId, "original_transaction_id");
  const reasonCode = requireReasonCode(request.reasonCode);
  const note = requireText(request.note, "note", 500);
  const currency = findCurrency(request.currency);
  if (!currency)
    throw new RefundError(
      "UNKNOWN_CURRENCY",
      `currency ${JSON.stringify(request.currency)} is not supported`,
    );
  const amount = parseAmount(request.amount, currency);
  if (!amount.ok) {
    if (amount.problem === "zero" || amount.problem === "negative") {
      throw new RefundError(
        "AMOUNT_NOT_POSITIVE",
        `amount must be positive, not ${JSON.stringify(request.amount)}`,
      );
    }
    throw new RefundError("INVALID_AMOUNT", `amount ${JSON.stringify(request.amount)}: ${amount.problem}`);
  }
  const original = await ledger.getTransaction(originalTransactionId);
  return { originalTransactionId, currency, amountMinor: amount.minor, reasonCode, note, original };
}

/**
 * Records a refund request against the original's refundable remainder,
 * under the original's row lock, so concurrent requests never add up to
 * more than it: refundable = amount − max(committed by refunds that are not
 * failed, rejected, expired or canceled, in-flight ones included; reversed
 * in the ledger). One refund at a time per original. The merchant's policy
 * decides whether it waits for approvers (AWAITING_APPROVAL, with a
 * deadline) or approves itself and starts its saga (PROCESSING).
 *
 * Errors: NOT_YOUR_TRANSACTION, ORIGINAL_NOT_REFUNDABLE, CURRENCY_MISMATCH,
 * REFUND_IN_PROGRESS, ORIGINAL_NOT_SETTLED, EXCEEDS_REFUNDABLE.
 */
export async function requestRefund(
  tx: DatabaseTransactionConnection,
  context: RefundsContext,
  prepared: PreparedRefund,
  caller: Caller,
): Promise<RefundView> {
  const { original, currency } = prepared;
  const merchantId = original.metadata[METADATA.merchantId] ?? "";
  requireMayRefund(caller, original, merchantId);
  if (original.kind !== "posted" && original.kind !== "pending") {
    throw new RefundError(
      "ORIGINAL_NOT_REFUNDABLE",
      `${original.id} is a ${original.kind} transaction; refund its original`,
    );
  }
  const originalCurrency = findCurrency(original.currency);
  if (!originalCurrency) {
    throw new RefundError(
      "ORIGINAL_NOT_REFUNDABLE",
      `${original.id} spans several currencies and cannot be refunded here`,
    );
  }
  if (originalCurrency.code !== currency.code) {
    throw new RefundError(
      "CURRENCY_MISMATCH",
      `${original.id} is in ${originalCurrency.code}, not ${currency.code}`,
    );
  }
  const originalAmount = parseAmount(original.amount, currency);
  const reversed = parseAmount(original.reversedAmount || "0", currency, { allowZero: true });
  if (!originalAmount.ok || !reversed.ok) {
    throw new Error(
      `the ledger reported ${original.id} with amounts ${original.amount} / ${original.reversedAmount}`,
    );
  }

  const row = await lockOriginal(tx, {
    transactionId: original.id,
    currencyCode: currency.code,
    amountMinor: originalAmount.minor,
  });
  if (row.activeRefundId !== null) {
    throw new RefundError(
      "REFUND_IN_PROGRESS",
      `refund ${row.activeRefundId} of ${original.id} is still in progress; wait for it to finish`,
    );
  }
  if (original.status !== "settled") {
    throw new RefundError(
      "ORIGINAL_NOT_SETTLED",
      `${original.id} is ${original.status}; only a settled transaction can be refunded`,
    );
  }
  const taken = row.committedMinor > reversed.minor ? row.committedMinor : reversed.minor;
  const refundable = originalAmount.minor - taken;
  if (prepared.amountMinor > refundable) {
    throw new RefundError(
      "EXCEEDS_REFUNDABLE",
      `only ${formatAmount(refundable < 0n ? 0n : refundable, currency)} ${currency.code} of ${original.id} is left to refund`,
    );
  }

  const now = context.clock.now();
  const policy = await policyFor(tx, merchantId, currency);
  const approvalsRequired = approvalsFor(policy, prepared.amountMinor);
  const refund: RefundRecord = {
    id: randomUUID(),
    originalTransactionId: original.id,
    merchantId,
    orderReference: original.metadata[METADATA.orderReference] || original.externalRef,
    currency,
    amountMinor: prepared.amountMinor,
    originalAmountMinor: originalAmount.minor,
    reasonCode: prepared.reasonCode,
    note: prepared.note,
    status: "requested",
    requestedBy: caller.principalId,
    requestedByRole: caller.role,
    approvalsRequired,
    approvalExpiresAt: null,
    sagaPhase: null,
    currentStep: null,
    reversalTransactionId: null,
    pointsReversed: 0n,
    pointsShortfall: 0n,
    failureReason: "",
    failureMessage: "",
    createdAt: now,
    updatedAt: now,
    completedAt: null,
  };
  const actor = actorOf(caller);
  const writer = new RefundWriter(context, now);
  writer.create(refund, actor, refund.note || refund.reasonCode);
  if (approvalsRequired === 0) {
    const approved = writer.move(refund, "approved", actor, "within the merchant's automatic approval band");
    startSaga(writer, approved, actor, "approved: saga started");
  } else {
    writer.move(
      refund,
      "awaiting_approval",
      actor,
      `the policy requires ${approvalsRequired} approver${approvalsRequired > 1 ? "s" : ""}`,
      { approvalExpiresAt: new Date(now.getTime() + policy.approvalTtlSeconds * 1000) },
    );
  }
  writer.updateOriginal({
    ...row,
    committedMinor: row.committedMinor + refund.amountMinor,
    activeRefundId: refund.id,
  });
  await writer.commit(tx);
  return { ...writer.createdView(refund.id), decisions: [] };
}

/**
 * Users refund only what they paid (the original's customer_id), and staff
 * of a merchant only that merchant's transactions; admins and services any.
 *
 * Errors: NOT_YOUR_TRANSACTION.
 */
function requireMayRefund(caller: Caller, original: OriginalTransaction, merchantId: string): void {
  if (caller.role === "user" && original.metadata[METADATA.customerId] !== caller.principalId) {
    throw new RefundError("NOT_YOUR_TRANSACTION", `${original.id} was not paid by ${caller.principalId}`);
  }
  if (
    caller.role !== "admin" &&
    caller.role !== "service" &&
    caller.merchantId !== undefined &&
    caller.merchantId !== merchantId
  ) {
    throw new RefundError(
      "NOT_YOUR_TRANSACTION",
      `${original.id} is not a transaction of merchant ${caller.merchantId}`,
    );
  }
}
