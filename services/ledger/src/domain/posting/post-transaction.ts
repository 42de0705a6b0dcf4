import type { DatabaseTransactionConnection } from "@money/db";
import type { WriteContext } from "../ledger-events.js";
import type { TransactionPurpose, TransactionRecord } from "../transactions/transaction.js";
import { Book, type BookAccount } from "./book.js";
import { Journal } from "./journal.js";
import { shapeTransaction, type NewTransactionInput } from "./new-transaction.js";
import { postJournalEntry } from "./post-journal-entry.js";

export interface Posted {
  transaction: TransactionRecord;
  /** Each touched account with its balance after, in id order. */
  balances: BookAccount[];
}

/**
 * Posts one balanced multi-leg journal entry, all or nothing, with its
 * domain and audit events.
 *
 * Errors: TOO_FEW_LEGS, INVALID_ARGUMENT, DUPLICATE_LEG_ACCOUNT, then those of postJournalEntry.
 */
export async function postTransaction(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: NewTransactionInput,
  purpose: TransactionPurpose = "journal",
): Promise<Posted> {
  const shaped = shapeTransaction(input);
  const book = await Book.lock(
    tx,
    shaped.legs.map((leg) => leg.accountId),
  );
  const journal = new Journal(book, context);
  const transaction = postJournalEntry(journal, shaped, purpose);
  await journal.commit(tx);
  return { transaction, balances: book.touchedAccounts() };
}
