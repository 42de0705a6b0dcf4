import type { DatabaseTransactionConnection } from "@money/db";
import { requireReason } from "../input/text-fields.js";
import type { WriteContext } from "../ledger-events.js";
import { Book } from "../posting/book.js";
import { Journal } from "../posting/journal.js";
import type { Posted } from "../posting/post-transaction.js";
import { lockOpenHold } from "./open-hold.js";
import { releaseHold } from "./release-hold.js";

/**
 * Releases a hold without posting: the transaction becomes FAILED. Voiding
 * works on frozen accounts too (it gives funds back rather than moving them),
 * and is how a hold past its timeout ends (`expired`).
 *
 * Errors: INVALID_ARGUMENT, REASON_REQUIRED, TRANSACTION_NOT_FOUND, PENDING_NOT_OPEN.
 */
export async function voidPending(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: { transactionId: string; reason: string; expired?: boolean },
): Promise<Posted> {
  const reason = requireReason(input.reason);
  const { transaction, hold } = await lockOpenHold(tx, input.transactionId);
  const book = await Book.lock(tx, [hold.debitAccountId, hold.creditAccountId]);
  releaseHold(book, hold);
  const journal = new Journal(book, context);
  const voidedHold = { ...hold, status: input.expired ? ("expired" as const) : ("voided" as const) };
  journal.resolveHold(transaction.id, voidedHold);
  const voided = journal.transition({ ...transaction, hold: voidedHold }, "failed", reason);
  journal.emit({ type: "pending_voided", transaction: voided });
  await journal.commit(tx);
  return { transaction: voided, balances: book.touchedAccounts() };
}
