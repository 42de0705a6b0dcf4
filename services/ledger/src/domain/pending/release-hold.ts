import type { HoldRecord } from "../transactions/transaction.js";
import type { Book } from "../posting/book.js";

/** Takes a hold's amount off its accounts' pending figures in the book. */
export function releaseHold(book: Book, hold: HoldRecord): void {
  const debit = book.get(hold.debitAccountId).figures;
  const credit = book.get(hold.creditAccountId).figures;
  book.set(hold.debitAccountId, {
    ...debit,
    pendingDebitsMinor: debit.pendingDebitsMinor - hold.amountMinor,
  });
  book.set(hold.creditAccountId, {
    ...credit,
    pendingCreditsMinor: credit.pendingCreditsMinor - hold.amountMinor,
  });
}
