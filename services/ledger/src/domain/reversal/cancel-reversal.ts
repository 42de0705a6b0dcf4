import type { DatabaseTransactionConnection } from "@money/db";
import { findCancellationOf, findTransaction } from "../../db/transactions-table.js";
import { requireReason } from "../input/text-fields.js";
import { requireUuid } from "../input/uuid.js";
import type { WriteContext } from "../ledger-events.js";
import { LedgerError } from "../ledger-error.js";
import type { PricedLeg } from "../posting/post-entries.js";
import { openOffsettingTransaction } from "./offsetting-transaction.js";
import type { TransactionRecord } from "../transactions/transaction.js";

export interface CancelReversalInput {
  /** The original the reversal offset. */
  transactionId: string;
  reversalTransactionId: string;
  reason: string;
}

export interface CancelledReversal {
  /** The new REVERSAL transaction that offsets the cancelled one (or the one that did, on a repeat). */
  cancellation: TransactionRecord;
  /** The cancelled reversal, its reversed total now its whole amount. */
  cancelled: TransactionRecord;
  /** The original, its reversed total lowered by the cancelled reversal's amount. */
  original: TransactionRecord;
}

/**
 * The compensation of a reversal (the refund saga's, when a later step is
 * refused): offsets a REVERSAL of `transactionId` in full with a new
 * REVERSAL transaction that names it, each of its entries on the other side,
 * recorded with the caller and `reason`, its event and audit record through
 * the outbox. The cancelled reversal's reversed total becomes its amount
 * (that is what marks it cancelled), and the original's reversed total is
 * lowered by it: the original is as refundable as before the reversal, and
 * later reversals share their amount out as if the cancelled one had never
 * been posted. The original's status does not change.
 *
 * Idempotent: cancelling a reversal that is already cancelled changes
 * nothing and returns the cancellation that did it.
 *
 * Errors: INVALID_ARGUMENT, REASON_REQUIRED, TRANSACTION_NOT_FOUND,
 * NOT_REVERSIBLE (not a reversal of that original), ACCOUNT_FROZEN,
 * ACCOUNT_CLOSED, INSUFFICIENT_FUNDS, EXCEEDS_DEBITS.
 */
export async function cancelReversal(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: CancelReversalInput,
): Promise<CancelledReversal> {
  const originalId = requireUuid(input.transactionId, "transaction_id");
  const reversalId = requireUuid(input.reversalTransactionId, "reversal_transaction_id");
  const reason = requireReason(input.reason);
  // The original first, as reverseTransaction locks it: one lock order for both.
  const originalFound = await findTransaction(tx, originalId, { forUpdate: true });
  if (!originalFound) throw new LedgerError("TRANSACTION_NOT_FOUND", `no transaction ${originalId}`);
  const found = await findTransaction(tx, reversalId, { forUpdate: true });
  if (!found) throw new LedgerError("TRANSACTION_NOT_FOUND", `no transaction ${reversalId}`);
  const original = originalFound.transaction;
  const cancelled = found.transaction;
  // A cancellation is itself a reversal (of the reversal): cancelling it would
  // post the refund's money movement again while the original stayed refundable.
  if (original.kind === "reversal") {
    throw new LedgerError(
      "NOT_REVERSIBLE",
      `${originalId} is a reversal: only a reversal of an original can be cancelled`,
    );
  }
  if (
    cancelled.kind !== "reversal" ||
    cancelled.reversesTransactionId !== originalId ||
    cancelled.amountMinor === null ||
    cancelled.currency === null
  ) {
    throw new LedgerError("NOT_REVERSIBLE", `${reversalId} is not a reversal of ${originalId}`);
  }
  if (cancelled.reversedMinor > 0n) {
    const earlier = await findCancellationOf(tx, reversalId);
    if (!earlier) throw new Error(`reversal ${reversalId} is marked offset, but nothing offsets it`);
    return { cancellation: earlier, cancelled, original };
  }

  const legs: PricedLeg[] = cancelled.entries.map((entry) => ({
    accountId: entry.accountId,
    direction: entry.direction === "debit" ? "credit" : "debit",
    amountMinor: entry.amountMinor,
    currency: entry.currency,
    expectedVersion: undefined,
  }));
  const { journal, reversal: cancellation } = await openOffsettingTransaction(tx, context, {
    reverses: cancelled,
    legs,
    amountMinor: cancelled.amountMinor,
    description: `cancels reversal ${cancelled.id} of ${originalId}`,
    reason,
  });
  const cancelledNow = { ...cancelled, reversedMinor: cancelled.amountMinor };
  const originalNow = { ...original, reversedMinor: original.reversedMinor - cancelled.amountMinor };
  journal.update(cancelledNow);
  journal.update(originalNow);
  journal.emit({ type: "reversal_cancelled", cancellation, cancelled: cancelledNow, original: originalNow });
  await journal.commit(tx);
  return { cancellation, cancelled: cancelledNow, original: originalNow };
}
