import type { CommonQueryMethods } from "@money/db";
import type { Caller } from "@money/rpc";
import { findAccount } from "../../db/accounts-table.js";
import { requireOwner } from "../access/require-owner.js";
import { requireUuid } from "../input/uuid.js";
import { LedgerError } from "../ledger-error.js";
import type { Account } from "./account.js";

/** Errors: INVALID_ARGUMENT (not a UUID), ACCOUNT_NOT_FOUND, NOT_OWNER (a user reading another's account). */
export async function getAccount(db: CommonQueryMethods, id: string, caller?: Caller): Promise<Account> {
  const accountId = requireUuid(id, "account_id");
  const account = await findAccount(db, accountId);
  if (!account) throw new LedgerError("ACCOUNT_NOT_FOUND", `no account ${accountId}`);
  if (caller) requireOwner(caller, account.ownerRef, `account ${accountId}`);
  return account;
}
