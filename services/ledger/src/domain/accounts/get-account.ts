import type { CommonQueryMethods } from "@money/db";
import { findAccount } from "../../db/accounts-table.js";
import { LedgerError } from "../ledger-error.js";
import type { Account } from "./account.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Errors: INVALID_ARGUMENT (not a UUID), ACCOUNT_NOT_FOUND. */
export async function getAccount(db: CommonQueryMethods, id: string): Promise<Account> {
  if (!UUID.test(id))
    throw new LedgerError("INVALID_ARGUMENT", `account_id ${JSON.stringify(id)} is not a UUID`);
  const account = await findAccount(db, id);
  if (!account) throw new LedgerError("ACCOUNT_NOT_FOUND", `no account ${id}`);
  return account;
}
