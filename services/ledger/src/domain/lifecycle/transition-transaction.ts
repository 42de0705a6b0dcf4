import type { DatabaseTransactionConnection } from "@money/db";
import { findTransaction } from "../../db/transactions-table.js";
import { requireReason } from "../input/text-fields.js";
import { requireUuid } from "../input/uuid.js";
import type { WriteContext } from "../ledger-events.js";
import { LedgerError } from "../ledger-error.js";
import { postPending } from "../pending/post-pending.js";
import { voidPending } from "../pending/void-pending.js";
import { Book } from "../posting/book.js";
import { Journal } from "../posting/journal.js";
import type { TransactionRecord, TransactionStatus } from "../transactions/transaction.js";
import { requireTransition } from "./transaction-lifecycle.js";

export interface TransitionInput {
  transactionId: string;
  to: TransactionStatus | null;
  reason: string;
}

/**
 * Moves a transaction along its lifecycle and records the step with who and
 * why. A pending transaction's PROCESSING → SETTLED posts it in full and
 * PROCESSING → FAILED voids it, so the status never disagrees with the money.
 * REFUNDED requires every minor unit reversed; REFUND_PROCESSING → SETTLED
 * requires some left (a partial refund).
 *
 * Errors: INVALID_ARGUMENT, REASON_REQUIRED, TRANSACTION_NOT_FOUND, INVALID_TRANSITION,
 * REFUND_INCOMPLETE, and those of postPending / voidPending for pending transactions.
 */
export async function transitionTransaction(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: TransitionInput,
): Promise<TransactionRecord> {
  const id = requireUuid(input.transactionId, "transaction_id");
  const reason = requireReason(input.reason);
  if (input.to === null) throw new LedgerError("INVALID_ARGUMENT", "to_status is required");
  const found = await findTransaction(tx, id, { forUpdate: true });
  if (!found) throw new LedgerError("TRANSACTION_NOT_FOUND", `no transaction ${id}`);
  const transaction = found.transaction;
  requireTransition(transaction.status, input.to);

  if (transaction.hold?.status === "open") {
    const moved =
      input.to === "settled"
        ? await postPending(tx, context, { transactionId: id, amount: "" })
        : await voidPending(tx, context, { transactionId: id, reason });
    return moved.transaction;
  }
  const amountMinor = transaction.amountMinor ?? 0n;
  if (input.to === "refunded" && transaction.reversedMinor < amountMinor) {
    throw new LedgerError(
      "REFUND_INCOMPLETE",
      `${id} is not fully reversed (${transaction.reversedMinor} of ${amountMinor} minor units); ` +
        "reverse the rest first or move it back to settled",
    );
  }
  if (
    input.to === "settled" &&
    transaction.status === "refund_processing" &&
    transaction.reversedMinor >= amountMinor
  ) {
    throw new LedgerError("INVALID_TRANSITION", `${id} is fully reversed; it can only become refunded`);
  }
  const journal = new Journal(await Book.lock(tx, []), context);
  const moved = journal.transition(transaction, input.to, reason);
  await journal.commit(tx);
  return moved;
}
