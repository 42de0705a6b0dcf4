import type { CommonQueryMethods } from "@money/db";
import type { Caller } from "@money/rpc";
import { findBalance } from "../../db/balances-table.js";
import { lastEntryAsOf } from "../../db/entries-table.js";
import { requireOwner } from "../access/require-owner.js";
import type { Account } from "../accounts/account.js";
import { requireUuid } from "../input/uuid.js";
import { LedgerError } from "../ledger-error.js";
import type { BalanceFigures } from "./balance.js";

export type BalanceView =
  | { kind: "current"; account: Account; figures: BalanceFigures }
  /** Only the posted balance can be rebuilt for a past time: holds are not journaled. */
  | { kind: "historical"; account: Account; postedMinor: bigint; version: bigint; asOf: Date };

/**
 * The account's balance now, from its balance row (one key lookup, never a
 * sum of entries), or its posted balance as of a past posting time, from the
 * last entry before it (one index descent).
 *
 * Errors: INVALID_ARGUMENT, ACCOUNT_NOT_FOUND, NOT_OWNER.
 */
export async function getBalance(
  db: CommonQueryMethods,
  caller: Caller,
  input: { accountId: string; asOf: Date | null },
): Promise<BalanceView> {
  const id = requireUuid(input.accountId, "account_id");
  const found = await findBalance(db, id);
  if (!found) throw new LedgerError("ACCOUNT_NOT_FOUND", `no account ${id}`);
  requireOwner(caller, found.account.ownerRef, `account ${id}`);
  if (input.asOf === null) return { kind: "current", ...found };
  const last = await lastEntryAsOf(db, id, input.asOf);
  return {
    kind: "historical",
    account: found.account,
    postedMinor: last?.balanceAfterMinor ?? 0n,
    version: last?.version ?? 0n,
    asOf: input.asOf,
  };
}
