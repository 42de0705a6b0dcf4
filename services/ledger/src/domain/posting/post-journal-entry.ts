import { randomUUID } from "node:crypto";
import type { TransactionPurpose, TransactionRecord } from "../transactions/transaction.js";
import type { Journal } from "./journal.js";
import type { ShapedTransaction } from "./new-transaction.js";
import { amountOf, postEntries, priceLegs, requireBalanced } from "./post-entries.js";

/**
 * Posts one shaped journal entry into the journal, SETTLED at once, and
 * emits TransactionPosted. The book must hold the legs' accounts.
 *
 * Errors, in this order: ACCOUNT_NOT_FOUND, CURRENCY_MISMATCH, INVALID_AMOUNT,
 * UNBALANCED_TRANSACTION, ACCOUNT_FROZEN, ACCOUNT_CLOSED, ACCOUNT_VERSION_MISMATCH,
 * INSUFFICIENT_FUNDS, EXCEEDS_DEBITS. A refusal leaves the journal and book as they were.
 */
export function postJournalEntry(
  journal: Journal,
  input: ShapedTransaction,
  purpose: TransactionPurpose,
): TransactionRecord {
  const legs = priceLegs(journal.book, input.legs);
  requireBalanced(legs);
  const id = randomUUID();
  const entries = postEntries(journal.book, id, legs);
  const transaction: TransactionRecord = {
    id,
    kind: "posted",
    purpose,
    status: "settled",
    ...amountOf(legs),
    reversedMinor: 0n,
    reversesTransactionId: null,
    externalRef: input.externalRef,
    description: input.description,
    reason: input.reason,
    metadata: input.metadata,
    effectiveAt: input.effectiveAt ?? journal.book.now,
    createdAt: journal.book.now,
    ...journal.performer,
    entries,
    hold: null,
  };
  journal.add(transaction);
  journal.emit({ type: "transaction_posted", transaction });
  return transaction;
}
