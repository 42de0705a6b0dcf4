import type { DatabaseTransactionConnection } from "@money/db";
import { requireUuid } from "../input/uuid.js";
import type { WriteContext } from "../ledger-events.js";
import { LedgerError } from "../ledger-error.js";
import type { TransactionPurpose, TransactionRecord } from "../transactions/transaction.js";
import { Book } from "./book.js";
import { Journal } from "./journal.js";
import { shapeTransaction, type ShapedTransaction } from "./new-transaction.js";
import { postJournalEntry } from "./post-journal-entry.js";
import type { Posted } from "./post-transaction.js";

export interface TransferInput {
  fromAccountId: string;
  toAccountId: string;
  amount: string;
  externalRef: string;
  description: string;
  metadata: Record<string, string>;
}

/**
 * Moves an amount from one account to another of the same currency: a
 * two-leg entry debiting `from` and crediting `to`. Payments (payer → payee)
 * and transfers differ only in the purpose they record.
 *
 * Errors: INVALID_ARGUMENT, DUPLICATE_LEG_ACCOUNT (from = to), ACCOUNT_NOT_FOUND,
 * CURRENCY_MISMATCH, then those of postJournalEntry.
 */
export async function postTransfer(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: TransferInput,
  purpose: TransactionPurpose,
): Promise<Posted> {
  const shaped = shapeTransfer(input);
  const book = await Book.lock(
    tx,
    shaped.legs.map((leg) => leg.accountId),
  );
  const journal = new Journal(book, context);
  const transaction = postShapedTransfer(journal, shaped, purpose);
  await journal.commit(tx);
  return { transaction, balances: book.touchedAccounts() };
}

/** Errors: INVALID_ARGUMENT, DUPLICATE_LEG_ACCOUNT. */
export function shapeTransfer(input: TransferInput): ShapedTransaction {
  const from = requireUuid(input.fromAccountId, "from_account_id");
  const to = requireUuid(input.toAccountId, "to_account_id");
  return shapeTransaction({
    legs: [
      { accountId: from, direction: "debit", amount: input.amount, currency: "", expectedVersion: undefined },
      { accountId: to, direction: "credit", amount: input.amount, currency: "", expectedVersion: undefined },
    ],
    externalRef: input.externalRef,
    description: input.description,
    metadata: input.metadata,
    effectiveAt: null,
    reason: "",
  });
}

/** Posts a shaped two-leg transfer whose accounts the book holds. Errors: CURRENCY_MISMATCH, then postJournalEntry's. */
export function postShapedTransfer(
  journal: Journal,
  shaped: ShapedTransaction,
  purpose: TransactionPurpose,
): TransactionRecord {
  const [from, to] = shaped.legs;
  requireSameCurrency(journal.book, from!.accountId, to!.accountId);
  return postJournalEntry(journal, shaped, purpose);
}

/** Errors: ACCOUNT_NOT_FOUND, CURRENCY_MISMATCH. */
export function requireSameCurrency(book: Book, fromId: string, toId: string): void {
  const from = book.get(fromId).account;
  const to = book.get(toId).account;
  if (from.currency.code !== to.currency.code) {
    throw new LedgerError(
      "CURRENCY_MISMATCH",
      `account ${from.id} is in ${from.currency.code} but account ${to.id} is in ${to.currency.code}`,
    );
  }
}
