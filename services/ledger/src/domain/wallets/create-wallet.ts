import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import type { AuditRecorder } from "@money/kafka";
import { findCurrency } from "@money/money";
import { actorOf, type Caller } from "@money/rpc";
import { findWalletByMobile, insertWallet } from "../../db/wallets-table.js";
import { requireOwner } from "../access/require-owner.js";
import { openAccount } from "../accounts/open-account.js";
import { requireAmount } from "../input/amount.js";
import { LedgerError } from "../ledger-error.js";
import { requireMobileNumber, type WalletRecord } from "./wallet.js";

export interface CreateWalletInput {
  ownerRef: string;
  mobileNumber: string;
  currency: string;
  dailyLimit: string;
}

/**
 * Opens a wallet: its liability account (which cannot go below zero), its
 * mobile number and its daily limit. A user may open one for itself only.
 * The number is looked up first; under serializable isolation a concurrent
 * registration of the same number makes one of the two retry and see it.
 *
 * Errors: NOT_OWNER, INVALID_MOBILE_NUMBER, UNKNOWN_CURRENCY, INVALID_AMOUNT,
 * MOBILE_NUMBER_TAKEN, and openAccount's.
 */
export async function createWallet(
  tx: DatabaseTransactionConnection,
  audit: AuditRecorder,
  caller: Caller,
  input: CreateWalletInput,
): Promise<WalletRecord> {
  requireOwner(caller, input.ownerRef, "a wallet");
  const mobileNumber = requireMobileNumber(input.mobileNumber, "mobile_number");
  const currency = findCurrency(input.currency);
  if (!currency) {
    throw new LedgerError(
      "UNKNOWN_CURRENCY",
      `currency ${JSON.stringify(input.currency)} is not a supported ISO 4217 code`,
    );
  }
  const dailyLimitMinor = requireAmount(input.dailyLimit, currency, "daily_limit");
  if (await findWalletByMobile(tx, mobileNumber)) {
    throw new LedgerError("MOBILE_NUMBER_TAKEN", "this mobile number is registered to another wallet");
  }
  const account = await openAccount(
    tx,
    audit,
    {
      type: "liability",
      ownerRef: input.ownerRef,
      currency: currency.code,
      debitsMustNotExceedCredits: true,
      creditsMustNotExceedDebits: false,
      overdraftLimit: "",
      metadata: { purpose: "wallet" },
    },
    actorOf(caller),
  );
  const wallet = await insertWallet(tx, {
    id: randomUUID(),
    ownerRef: input.ownerRef,
    accountId: account.id,
    mobileNumber,
    dailyLimitMinor,
  });
  await audit.record(tx, {
    action: "wallet.created",
    objectType: "wallet",
    objectId: wallet.id,
    actor: actorOf(caller),
    after: {
      id: wallet.id,
      owner_ref: wallet.ownerRef,
      account_id: wallet.accountId,
      mobile_number: wallet.mobileNumber,
      currency: currency.code,
      daily_limit_minor: dailyLimitMinor.toString(),
    },
    occurredAt: wallet.createdAt,
  });
  return wallet;
}
