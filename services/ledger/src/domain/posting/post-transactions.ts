import type { DatabaseTransactionConnection } from "@money/db";
import type { WriteContext } from "../ledger-events.js";
import { LedgerError } from "../ledger-error.js";
import type { TransactionRecord } from "../transactions/transaction.js";
import { Book } from "./book.js";
import { Journal } from "./journal.js";
import { shapeTransaction, type NewTransactionInput } from "./new-transaction.js";
import { postJournalEntry } from "./post-journal-entry.js";

export const MAX_BATCH_SIZE = 1_000;

export type BatchOutcome = { ok: true; transaction: TransactionRecord } | { ok: false; error: LedgerError };

/**
 * Posts up to a thousand journal entries in one database transaction. The
 * accounts of all items are locked once, in id order; items are then posted
 * in request order, each seeing the balances the earlier ones left. With
 * `atomic`, the first refusal refuses the whole batch (its message names the
 * item); without, a refused item is reported and the others post.
 *
 * Errors: TOO_MANY_ITEMS; when atomic, any error of postTransaction, prefixed with the item.
 */
export async function postTransactions(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  inputs: readonly NewTransactionInput[],
  atomic: boolean,
): Promise<BatchOutcome[]> {
  if (inputs.length === 0 || inputs.length > MAX_BATCH_SIZE) {
    throw new LedgerError("TOO_MANY_ITEMS", `a batch takes 1 to ${MAX_BATCH_SIZE} transactions`);
  }
  const shaped = inputs.map((input) => attempt(() => shapeTransaction(input)));
  const accountIds = shaped.flatMap((s) => (s.ok ? s.value.legs.map((leg) => leg.accountId) : []));
  const book = await Book.lock(tx, accountIds);
  const journal = new Journal(book, context);
  const outcomes = shaped.map((s, index): BatchOutcome => {
    const outcome = s.ok ? attempt(() => postJournalEntry(journal, s.value, "journal")) : s;
    if (!outcome.ok && atomic) {
      throw new LedgerError(outcome.error.reason, `transactions[${index}]: ${outcome.error.message}`);
    }
    return outcome.ok ? { ok: true, transaction: outcome.value } : outcome;
  });
  await journal.commit(tx);
  return outcomes;
}

function attempt<T>(run: () => T): { ok: true; value: T } | { ok: false; error: LedgerError } {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    if (error instanceof LedgerError) return { ok: false, error };
    throw error;
  }
}
