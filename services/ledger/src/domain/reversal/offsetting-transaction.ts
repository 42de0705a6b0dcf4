import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import type { WriteContext } from "../ledger-events.js";
import { Book } from "../posting/book.js";
import { Journal } from "../posting/journal.js";
import { postEntries, type PricedLeg } from "../posting/post-entries.js";
import type { TransactionRecord } from "../transactions/transaction.js";

export interface Offset {
  /** The transaction the new REVERSAL offsets: an original, or a reversal being cancelled. */
  reverses: TransactionRecord;
  legs: PricedLeg[];
  amountMinor: bigint;
  description: string;
  reason: string;
}

/**
 * Locks the legs' accounts and adds a settled REVERSAL of `offset.reverses`
 * with those legs to a new journal, which the caller completes with its own
 * updates and event and then commits: a reversal and a reversal's
 * cancellation post the same way and differ only in what they record.
 */
export async function openOffsettingTransaction(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  offset: Offset,
): Promise<{ book: Book; journal: Journal; reversal: TransactionRecord }> {
  const book = await Book.lock(
    tx,
    offset.legs.map((leg) => leg.accountId),
  );
  const journal = new Journal(book, context);
  const id = randomUUID();
  const reversal: TransactionRecord = {
    id,
    kind: "reversal",
    purpose: "reversal",
    status: "settled",
    currency: offset.reverses.currency,
    amountMinor: offset.amountMinor,
    reversedMinor: 0n,
    reversesTransactionId: offset.reverses.id,
    externalRef: offset.reverses.externalRef,
    description: offset.description,
    reason: offset.reason,
    metadata: {},
    effectiveAt: book.now,
    createdAt: book.now,
    ...journal.performer,
    entries: postEntries(book, id, offset.legs),
    hold: null,
  };
  journal.add(reversal);
  return { book, journal, reversal };
}
