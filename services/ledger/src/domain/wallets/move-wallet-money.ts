import type { DatabaseTransactionConnection } from "@money/db";
import { findWalletByMobile, spendFromDailyLimit } from "../../db/wallets-table.js";
import { requireOwner } from "../access/require-owner.js";
import { requireAmount } from "../input/amount.js";
import { MAX_TEXT_LENGTH, requireAtMost } from "../input/text-fields.js";
import type { WriteContext } from "../ledger-events.js";
import { LedgerError } from "../ledger-error.js";
import { Book } from "../posting/book.js";
import { Journal } from "../posting/journal.js";
import {
  postShapedTransfer,
  postTransfer,
  requireSameCurrency,
  shapeTransfer,
} from "../posting/post-transfer.js";
import type { TransactionRecord } from "../transactions/transaction.js";
import { requireMobileNumber, utcDay, type WalletRecord } from "./wallet.js";
import { requireWallet, walletView, type WalletView } from "./wallet-view.js";

export interface WalletMove {
  transaction: TransactionRecord;
  /** The wallet money left (or, for a top-up, arrived in), after the move. */
  wallet: WalletView;
}

/**
 * Adds money to a wallet from a funding account (a bank or card clearing
 * asset): debit funding, credit the wallet. Not counted against the limit.
 *
 * Errors: INVALID_ARGUMENT, WALLET_NOT_FOUND, and postTransfer's.
 */
export async function topUpWallet(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: { walletId: string; fundingAccountId: string; amount: string; externalRef: string },
): Promise<WalletMove> {
  const wallet = await requireWallet(tx, input.walletId);
  const { transaction } = await postTransfer(
    tx,
    context,
    {
      fromAccountId: input.fundingAccountId,
      toAccountId: wallet.accountId,
      amount: input.amount,
      externalRef: input.externalRef,
      description: "wallet top-up",
      metadata: { wallet_id: wallet.id },
    },
    "wallet_top_up",
  );
  return { transaction, wallet: await walletView(tx, wallet, transaction.createdAt) };
}

/**
 * Moves money from one wallet to another, counting it against the sender's
 * limit for the UTC day. The sender must be the caller's own wallet when the
 * caller is a user.
 *
 * Errors: INVALID_ARGUMENT, WALLET_NOT_FOUND, NOT_OWNER, DUPLICATE_LEG_ACCOUNT,
 * CURRENCY_MISMATCH, INVALID_AMOUNT, DAILY_LIMIT_EXCEEDED, and postJournalEntry's.
 */
export async function transferBetweenWallets(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: { fromWalletId: string; toWalletId: string; amount: string; description: string },
): Promise<WalletMove> {
  const from = await requireWallet(tx, input.fromWalletId, "from_wallet_id");
  requireOwner(context.caller, from.ownerRef, `wallet ${from.id}`);
  const to = await requireWallet(tx, input.toWalletId, "to_wallet_id");
  return moveBetween(tx, context, from, to, input);
}

/**
 * As transferBetweenWallets, to the wallet registered under a mobile number.
 * An unknown number moves nothing.
 *
 * Errors: INVALID_MOBILE_NUMBER, MOBILE_NUMBER_NOT_FOUND, and transferBetweenWallets'.
 */
export async function transferByMobile(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  input: { fromWalletId: string; toMobileNumber: string; amount: string; description: string },
): Promise<WalletMove> {
  const from = await requireWallet(tx, input.fromWalletId, "from_wallet_id");
  requireOwner(context.caller, from.ownerRef, `wallet ${from.id}`);
  const mobile = requireMobileNumber(input.toMobileNumber, "to_mobile_number");
  const to = await findWalletByMobile(tx, mobile);
  if (!to)
    throw new LedgerError("MOBILE_NUMBER_NOT_FOUND", "no wallet is registered under this mobile number");
  return moveBetween(tx, context, from, to, input);
}

async function moveBetween(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  from: WalletRecord,
  to: WalletRecord,
  input: { amount: string; description: string },
): Promise<WalletMove> {
  const shaped = shapeTransfer({
    fromAccountId: from.accountId,
    toAccountId: to.accountId,
    amount: input.amount,
    externalRef: "",
    description: requireAtMost(input.description, MAX_TEXT_LENGTH, "description"),
    metadata: { from_wallet_id: from.id, to_wallet_id: to.id },
  });
  const book = await Book.lock(tx, [from.accountId, to.accountId]);
  requireSameCurrency(book, from.accountId, to.accountId);
  const { account } = book.get(from.accountId);
  const amountMinor = requireAmount(input.amount, account.currency, "amount");
  // The day's usage row is locked after the balance rows, as every wallet transfer does.
  if (!(await spendFromDailyLimit(tx, from.id, utcDay(book.now), amountMinor, from.dailyLimitMinor))) {
    throw new LedgerError(
      "DAILY_LIMIT_EXCEEDED",
      `wallet ${from.id} would pass its daily limit of ${from.dailyLimitMinor} minor units (UTC day ${utcDay(book.now)})`,
    );
  }
  const journal = new Journal(book, context);
  const transaction = postShapedTransfer(journal, shaped, "wallet_transfer");
  await journal.commit(tx);
  return { transaction, wallet: await walletView(tx, from, book.now) };
}
