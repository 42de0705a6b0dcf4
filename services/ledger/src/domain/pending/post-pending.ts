import type { DatabaseTransactionConnection } from "@money/db";
import { requireAmount } from "../input/amount.js";
import type { WriteContext } from "../ledger-events.js";
import { LedgerError } from "../ledger-error.js";
import { Book } from "../posting/book.js";
import { Journal } from "../posting/journal.js";
import { postEntries } from "../posting/post-entries.js";
import type { Posted } from "../posting/post-transaction.js";
import type { TransactionRecord } from "../transactions/transaction.js";
import { lockOpenHold } from "./open-hold.js";
import { releaseHold } from "./release-hold.js";

/**
 * Posts a hold in full (empty amount) or in part: the hold is released and
 * entries for the posted amount are written; the rest goes back. The
 * transaction becomes SETTLED with the posted amount.
 *
 * Errors: INVALID_ARGUMENT, TRANSACTION_NOT_FOUND, PENDING_NOT_OPEN, PENDING_EXPIRED,
 * INVALID_AMOUNT, AMOUNT_EXCEEDS_PENDING, ACCOUNT_FROZEN, ACCOUNT_CLOSED, INSUFFICIENT_FUNDS.
 */
export async function postPending(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: { transactionId: string; amount: string },
): Promise<Posted> {
  const { transaction, hold, expired } = await lockOpenHold(tx, input.transactionId);
  if (expired) {
    throw new LedgerError(
      "PENDING_EXPIRED",
      `pending transaction ${transaction.id} expired at ${hold.expiresAt.toISOString()}`,
    );
  }
  const book = await Book.lock(tx, [hold.debitAccountId, hold.creditAccountId]);
  const currency = transaction.currency!;
  const postedMinor =
    input.amount === "" ? hold.amountMinor : requireAmount(input.amount, currency, "amount");
  if (postedMinor > hold.amountMinor) {
    throw new LedgerError(
      "AMOUNT_EXCEEDS_PENDING",
      `cannot post more than the ${hold.amountMinor} minor units held by ${transaction.id}`,
    );
  }
  releaseHold(book, hold);
  const entries = postEntries(book, transaction.id, [
    {
      accountId: hold.debitAccountId,
      direction: "debit",
      amountMinor: postedMinor,
      currency,
      expectedVersion: undefined,
    },
    {
      accountId: hold.creditAccountId,
      direction: "credit",
      amountMinor: postedMinor,
      currency,
      expectedVersion: undefined,
    },
  ]);
  const journal = new Journal(book, context);
  const postedHold = { ...hold, status: "posted" as const, postedMinor };
  journal.addEntries(entries);
  journal.resolveHold(transaction.id, postedHold);
  const posted: TransactionRecord = journal.transition(
    { ...transaction, amountMinor: postedMinor, entries, hold: postedHold },
    "settled",
    postedMinor === hold.amountMinor ? "posted in full" : "posted in part",
  );
  journal.emit({ type: "transaction_posted", transaction: posted });
  await journal.commit(tx);
  return { transaction: posted, balances: book.touchedAccounts() };
}
