import type { CommonQueryMethods } from "@money/db";
import type { Caller } from "@money/rpc";
import { findBalance } from "../../db/balances-table.js";
import { findWallet, spentOn } from "../../db/wallets-table.js";
import { requireOwner } from "../access/require-owner.js";
import type { Account } from "../accounts/account.js";
import { availableBalance } from "../balances/balance.js";
import { requireUuid } from "../input/uuid.js";
import { LedgerError } from "../ledger-error.js";
import { utcDay, type WalletRecord } from "./wallet.js";

export interface WalletView {
  wallet: WalletRecord;
  account: Account;
  /** Available balance, minor units. */
  balanceMinor: bigint;
  spentTodayMinor: bigint;
}

/** Errors: INVALID_ARGUMENT, WALLET_NOT_FOUND. */
export async function requireWallet(
  db: CommonQueryMethods,
  walletId: string,
  field = "wallet_id",
): Promise<WalletRecord> {
  const id = requireUuid(walletId, field);
  const wallet = await findWallet(db, id);
  if (!wallet) throw new LedgerError("WALLET_NOT_FOUND", `no wallet ${id}`);
  return wallet;
}

/** The wallet with its balance and what it spent today (UTC). Errors: INVALID_ARGUMENT, WALLET_NOT_FOUND, NOT_OWNER. */
export async function getWallet(
  db: CommonQueryMethods,
  caller: Caller,
  walletId: string,
  now: Date,
): Promise<WalletView> {
  const wallet = await requireWallet(db, walletId);
  requireOwner(caller, wallet.ownerRef, `wallet ${wallet.id}`);
  return walletView(db, wallet, now);
}

export async function walletView(
  db: CommonQueryMethods,
  wallet: WalletRecord,
  now: Date,
): Promise<WalletView> {
  const { account, figures } = (await findBalance(db, wallet.accountId))!;
  return {
    wallet,
    account,
    balanceMinor: availableBalance(account.type, figures),
    spentTodayMinor: await spentOn(db, wallet.id, utcDay(now)),
  };
}
