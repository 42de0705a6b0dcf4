import type { DatabaseTransactionConnection } from "@money/db";
import { formatAmount } from "@money/money";
import { findTransaction, reversedPerAccount } from "../../db/transactions-table.js";
import { requireAmount } from "../input/amount.js";
import { requireReason } from "../input/text-fields.js";
import { requireUuid } from "../input/uuid.js";
import type { WriteContext } from "../ledger-events.js";
import { LedgerError } from "../ledger-error.js";
import type { BookAccount } from "../posting/book.js";
import type { PricedLeg } from "../posting/post-entries.js";
import { openOffsettingTransaction } from "./offsetting-transaction.js";
import type { TransactionRecord, TransactionStatus } from "../transactions/transaction.js";
import { shareOut } from "./share-out.js";

export interface ReverseInput {
  transactionId: string;
  /** Decimal text; empty for all that is not yet reversed. */
  amount: string;
  reason: string;
}

export interface Reversed {
  reversal: TransactionRecord;
  original: TransactionRecord;
  balances: BookAccount[];
}

/** A transaction in these states has settled money that a refund may give back. */
const REVERSIBLE_STATUSES: readonly TransactionStatus[] = [
  "settled",
  "refund_initiated",
  "refund_processing",
];

/**
 * Offsets a posted transaction, wholly or in part, with a new REVERSAL
 * transaction that names it: each of the original's entries gets an entry on
 * the other side, in proportion to what remains unreversed of it. The
 * original's status does not change (the refunds saga moves it); its
 * reversed total grows, and can never exceed its amount (checked here under
 * its row lock, and by a CHECK constraint).
 *
 * Errors: INVALID_ARGUMENT, REASON_REQUIRED, TRANSACTION_NOT_FOUND, NOT_REVERSIBLE,
 * INVALID_AMOUNT, REVERSAL_EXCEEDS_ORIGINAL, ACCOUNT_FROZEN, ACCOUNT_CLOSED,
 * INSUFFICIENT_FUNDS, EXCEEDS_DEBITS.
 */
export async function reverseTransaction(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: ReverseInput,
): Promise<Reversed> {
  const id = requireUuid(input.transactionId, "transaction_id");
  const reason = requireReason(input.reason);
  const found = await findTransaction(tx, id, { forUpdate: true });
  if (!found) throw new LedgerError("TRANSACTION_NOT_FOUND", `no transaction ${id}`);
  const original = found.transaction;
  const { currency, amountMinor } = original;
  if (original.kind === "reversal") throw new LedgerError("NOT_REVERSIBLE", `${id} is itself a reversal`);
  if (original.entries.length === 0 || currency === null || amountMinor === null) {
    throw new LedgerError(
      "NOT_REVERSIBLE",
      currency === null
        ? `${id} spans several currencies; post the offsetting legs with PostTransaction`
        : `${id} has posted nothing`,
    );
  }
  if (!REVERSIBLE_STATUSES.includes(original.status)) {
    throw new LedgerError("NOT_REVERSIBLE", `${id} is ${original.status}`);
  }
  const remainingMinor = amountMinor - original.reversedMinor;
  const requestedMinor =
    input.amount === "" ? remainingMinor : requireAmount(input.amount, currency, "amount");
  if (requestedMinor > remainingMinor || remainingMinor === 0n) {
    throw new LedgerError(
      "REVERSAL_EXCEEDS_ORIGINAL",
      `only ${formatAmount(remainingMinor, currency)} ${currency.code} of ${id} is left to reverse`,
    );
  }

  const reversed = await reversedPerAccount(tx, id);
  const legs: PricedLeg[] = [];
  // The original's credits become the reversal's debits, listed first as entries are.
  for (const direction of ["credit", "debit"] as const) {
    const side = original.entries.filter((e) => e.direction === direction);
    const shares = shareOut(
      requestedMinor,
      side.map((e) => e.amountMinor - (reversed.get(e.accountId) ?? 0n)),
    );
    side.forEach((entry, i) => {
      if (shares[i]! > 0n) {
        legs.push({
          accountId: entry.accountId,
          direction: direction === "debit" ? "credit" : "debit",
          amountMinor: shares[i]!,
          currency,
          expectedVersion: undefined,
        });
      }
    });
  }

  const { book, journal, reversal } = await openOffsettingTransaction(tx, context, {
    reverses: original,
    legs,
    amountMinor: requestedMinor,
    description: `reversal of ${id}`,
    reason,
  });
  const updatedOriginal = { ...original, reversedMinor: original.reversedMinor + requestedMinor };
  journal.update(updatedOriginal);
  journal.emit({ type: "transaction_reversed", reversal, original: updatedOriginal });
  await journal.commit(tx);
  return { reversal, original: updatedOriginal, balances: book.touchedAccounts() };
}
