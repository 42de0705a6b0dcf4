import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { DatabaseTransactionConnection } from "@money/db";
import { formatAmount } from "@money/money";
import {
  LedgerReversalResultSchema,
  LedgerStatusResultSchema,
  Participant,
  type RefundSagaCommand,
} from "@money/proto/refunds/v1/saga_pb";
import { startRefundParticipant, type StepResult } from "@money/refunds/saga-participant";
import type { Caller } from "@money/rpc";
import type { ServiceDeps } from "@money/runtime";
import { findTransaction } from "../db/transactions-table.js";
import { requireReason } from "../domain/input/text-fields.js";
import { requireUuid } from "../domain/input/uuid.js";
import type { WriteContext } from "../domain/ledger-events.js";
import { LedgerError } from "../domain/ledger-error.js";
import { transitionTransaction } from "../domain/lifecycle/transition-transaction.js";
import { Book } from "../domain/posting/book.js";
import { Journal } from "../domain/posting/journal.js";
import { postEntries, type PricedLeg } from "../domain/posting/post-entries.js";
import { reverseTransaction } from "../domain/reversal/reverse-transaction.js";
import { getTransaction } from "../domain/transactions/get-transaction.js";
import type { TransactionRecord } from "../domain/transactions/transaction.js";
import { OutboxEventSink } from "./outbox-event-sink.js";

/**
 * The ledger's part in the refund saga, in the ledger's process: consumes the
 * refunds service's commands addressed to the ledger (refunds.commands),
 * performs each with the ledger's own use cases in the inbox's transaction,
 * and replies through the ledger's outbox (refunds.replies). Each step takes
 * effect at most once per saga, however often its command arrives.
 *
 * Steps: mark the original REFUND_PROCESSING (from SETTLED, through
 * REFUND_INITIATED); post the reversal; complete (REFUNDED when all of it is
 * reversed, SETTLED when some is left); and the compensations: cancel the
 * reversal, and put the original back to SETTLED.
 */
export async function startLedgerRefundParticipant(deps: ServiceDeps): Promise<{ stop(): Promise<void> }> {
  const events = new OutboxEventSink(deps.audit);
  return startRefundParticipant(deps, {
    participant: Participant.LEDGER,
    consumer: "ledger.refund-participant",
    // Optimistic locks are not used by the saga's postings; a conflict is still "later", never "no".
    transientReasons: ["ACCOUNT_VERSION_MISMATCH"],
    perform: (tx, command) => performStep(tx, { caller: sagaCaller(command), events }, command),
  });
}

/** The saga acts as the refunds service; the command names the saga, step and attempt. */
function sagaCaller(command: RefundSagaCommand): Caller {
  return {
    principalId: "refunds-saga",
    role: "service",
    requestId: `${command.sagaId}/${command.step}/${command.attempt}`,
  };
}

async function performStep(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  command: RefundSagaCommand,
): Promise<StepResult> {
  const body = command.body;
  switch (body.case) {
    case "markRefundProcessing": {
      const { transactionId, reason } = body.value;
      const current = await getTransaction(tx, transactionId);
      if (current.status !== "refund_initiated") {
        await transitionTransaction(tx, context, { transactionId, to: "refund_initiated", reason });
      }
      return statusResult(
        await transitionTransaction(tx, context, { transactionId, to: "refund_processing", reason }),
      );
    }
    case "reverseLedgerTransaction": {
      const { transactionId, amount, reason } = body.value;
      const { reversal, original } = await reverseTransaction(tx, context, { transactionId, amount, reason });
      return {
        case: "ledgerReversal",
        value: create(LedgerReversalResultSchema, {
          reversalTransactionId: reversal.id,
          originalReversedAmount: formatAmount(original.reversedMinor, original.currency!),
        }),
      };
    }
    case "completeLedgerRefund": {
      const { transactionId, reason } = body.value;
      const original = await getTransaction(tx, transactionId);
      const fullyReversed = original.amountMinor !== null && original.reversedMinor >= original.amountMinor;
      return statusResult(
        await transitionTransaction(tx, context, {
          transactionId,
          to: fullyReversed ? "refunded" : "settled",
          reason,
        }),
      );
    }
    case "cancelLedgerReversal": {
      const { transactionId, reversalTransactionId, reason } = body.value;
      const { reversal } = await cancelReversal(tx, context, {
        transactionId,
        reversalTransactionId,
        reason,
      });
      return {
        case: "ledgerReversal",
        value: create(LedgerReversalResultSchema, { reversalTransactionId: reversal.id }),
      };
    }
    case "restoreSettled": {
      const { transactionId, reason } = body.value;
      return statusResult(await transitionTransaction(tx, context, { transactionId, to: "settled", reason }));
    }
    case "reverseLoyaltyPoints":
    case undefined:
      throw new LedgerError(
        "INVALID_ARGUMENT",
        `the ledger does not perform ${body.case ?? "an empty command"}`,
      );
  }
}

function statusResult(transaction: TransactionRecord): StepResult {
  return { case: "ledgerStatus", value: create(LedgerStatusResultSchema, { status: transaction.status }) };
}

// ---------------------------------------------------------------------------
// INTERIM USE CASE, to move into domain/reversal/ (the ledger's to own).
//
// The saga's compensation of a reversal. reverseTransaction refuses to
// reverse a REVERSAL (NOT_REVERSIBLE), and a plain posting of the opposite
// legs would leave the original's reversed total raised for good, so the
// original could never be refunded in full again. Until the ledger has its
// own use case, this one is written here from the ledger's building blocks
// (Book, Journal, postEntries), following reverseTransaction.
//
// Known gap, which the ledger's own version must close: reversedPerAccount
// (db/transactions-table.ts) still counts a cancelled reversal's entries, so
// a later *partial* reversal of a multi-leg original spreads its amount as if
// the cancelled one stood. It must leave out reversals whose reversed_minor
// equals their amount (cancelled ones).
// ---------------------------------------------------------------------------

interface CancelReversalInput {
  /** The original the reversal offset. */
  transactionId: string;
  reversalTransactionId: string;
  reason: string;
}

/**
 * Offsets a REVERSAL in full with a new REVERSAL transaction naming it (each
 * of its entries on the other side), marks it reversed, and lowers its
 * original's reversed total by its amount: the original is as refundable as
 * before the reversal. The original's status does not change.
 *
 * Errors: INVALID_ARGUMENT, REASON_REQUIRED, TRANSACTION_NOT_FOUND,
 * NOT_REVERSIBLE (not a reversal of that original, or already cancelled),
 * ACCOUNT_FROZEN, ACCOUNT_CLOSED, INSUFFICIENT_FUNDS, EXCEEDS_DEBITS.
 */
async function cancelReversal(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: CancelReversalInput,
): Promise<{ reversal: TransactionRecord; cancelled: TransactionRecord; original: TransactionRecord }> {
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
  if (cancelled.kind !== "reversal" || cancelled.reversesTransactionId !== originalId) {
    throw new LedgerError("NOT_REVERSIBLE", `${reversalId} is not a reversal of ${originalId}`);
  }
  if (cancelled.amountMinor === null || cancelled.currency === null || cancelled.reversedMinor > 0n) {
    throw new LedgerError("NOT_REVERSIBLE", `reversal ${reversalId} is already cancelled`);
  }
  const legs: PricedLeg[] = cancelled.entries.map((entry) => ({
    accountId: entry.accountId,
    direction: entry.direction === "debit" ? "credit" : "debit",
    amountMinor: entry.amountMinor,
    currency: entry.currency,
    expectedVersion: undefined,
  }));
  const book = await Book.lock(
    tx,
    legs.map((leg) => leg.accountId),
  );
  const journal = new Journal(book, context);
  const id = randomUUID();
  const entries = postEntries(book, id, legs);
  const reversal: TransactionRecord = {
    id,
    kind: "reversal",
    purpose: "reversal",
    status: "settled",
    currency: cancelled.currency,
    amountMinor: cancelled.amountMinor,
    reversedMinor: 0n,
    reversesTransactionId: cancelled.id,
    externalRef: cancelled.externalRef,
    description: `cancels reversal ${cancelled.id} of ${originalId}`,
    reason,
    metadata: {},
    effectiveAt: book.now,
    createdAt: book.now,
    ...journal.performer,
    entries,
    hold: null,
  };
  const cancelledNow = { ...cancelled, reversedMinor: cancelled.amountMinor };
  const originalNow = { ...original, reversedMinor: original.reversedMinor - cancelled.amountMinor };
  journal.add(reversal);
  journal.update(cancelledNow);
  journal.update(originalNow);
  journal.emit({ type: "transaction_reversed", reversal, original: cancelledNow });
  await journal.commit(tx);
  return { reversal, cancelled: cancelledNow, original: originalNow };
}
