import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import type { BalanceFigures } from "../balances/balance.js";
import { requireAmount } from "../input/amount.js";
import {
  MAX_EXTERNAL_REF_LENGTH,
  MAX_TEXT_LENGTH,
  requireAtMost,
  requireMetadata,
} from "../input/text-fields.js";
import { requireUuid } from "../input/uuid.js";
import type { WriteContext } from "../ledger-events.js";
import { LedgerError } from "../ledger-error.js";
import { Book } from "../posting/book.js";
import { Journal } from "../posting/journal.js";
import { checkLimits, requireMovable } from "../posting/limits.js";
import type { Posted } from "../posting/post-transaction.js";
import { requireSameCurrency } from "../posting/post-transfer.js";
import type { TransactionRecord } from "../transactions/transaction.js";

export interface CreatePendingInput {
  debitAccountId: string;
  creditAccountId: string;
  amount: string;
  timeoutSeconds: bigint;
  externalRef: string;
  description: string;
  metadata: Record<string, string>;
}

const MAX_TIMEOUT_SECONDS = 30n * 24n * 3600n;

/**
 * Holds an amount: a pending debit on one account and a pending credit on
 * another. The hold counts against the accounts' limits (available balance)
 * but posts no entry until PostPending. The transaction is PROCESSING.
 *
 * Errors: INVALID_ARGUMENT (ids, timeout, text), DUPLICATE_LEG_ACCOUNT, ACCOUNT_NOT_FOUND,
 * CURRENCY_MISMATCH, INVALID_AMOUNT, ACCOUNT_FROZEN, ACCOUNT_CLOSED, INSUFFICIENT_FUNDS, EXCEEDS_DEBITS.
 */
export async function createPending(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: CreatePendingInput,
): Promise<Posted> {
  const debitId = requireUuid(input.debitAccountId, "debit_account_id");
  const creditId = requireUuid(input.creditAccountId, "credit_account_id");
  if (debitId === creditId) {
    throw new LedgerError("DUPLICATE_LEG_ACCOUNT", "the debit and credit accounts of a hold must differ");
  }
  if (input.timeoutSeconds < 1n || input.timeoutSeconds > MAX_TIMEOUT_SECONDS) {
    throw new LedgerError("INVALID_ARGUMENT", `timeout_seconds must be 1 to ${MAX_TIMEOUT_SECONDS}`);
  }
  requireAtMost(input.externalRef, MAX_EXTERNAL_REF_LENGTH, "external_ref");
  requireAtMost(input.description, MAX_TEXT_LENGTH, "description");
  requireMetadata(input.metadata);

  const book = await Book.lock(tx, [debitId, creditId]);
  requireSameCurrency(book, debitId, creditId);
  const debit = book.get(debitId);
  const credit = book.get(creditId);
  const amountMinor = requireAmount(input.amount, debit.account.currency, "amount");
  requireMovable(debit.account);
  requireMovable(credit.account);
  const debitAfter: BalanceFigures = {
    ...debit.figures,
    pendingDebitsMinor: debit.figures.pendingDebitsMinor + amountMinor,
  };
  const creditAfter: BalanceFigures = {
    ...credit.figures,
    pendingCreditsMinor: credit.figures.pendingCreditsMinor + amountMinor,
  };
  checkLimits(debit.account, debit.figures, debitAfter);
  checkLimits(credit.account, credit.figures, creditAfter);
  book.set(debitId, debitAfter);
  book.set(creditId, creditAfter);

  const journal = new Journal(book, context);
  const transaction: TransactionRecord = {
    id: randomUUID(),
    kind: "pending",
    purpose: "transfer",
    status: "processing",
    currency: debit.account.currency,
    amountMinor,
    reversedMinor: 0n,
    reversesTransactionId: null,
    externalRef: input.externalRef,
    description: input.description,
    reason: "",
    metadata: input.metadata,
    effectiveAt: book.now,
    createdAt: book.now,
    ...journal.performer,
    entries: [],
    hold: {
      debitAccountId: debitId,
      creditAccountId: creditId,
      amountMinor,
      postedMinor: null,
      status: "open",
      expiresAt: new Date(book.now.getTime() + Number(input.timeoutSeconds) * 1000),
    },
  };
  journal.add(transaction, "funds held");
  journal.emit({ type: "pending_created", transaction });
  await journal.commit(tx);
  return { transaction, balances: book.touchedAccounts() };
}
