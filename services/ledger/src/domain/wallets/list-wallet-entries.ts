import type { CommonQueryMethods } from "@money/db";
import type { Caller } from "@money/rpc";
import { requireOwner } from "../access/require-owner.js";
import { listEntries, type EntryPage } from "../balances/list-entries.js";
import { requireWallet } from "./wallet-view.js";

/**
 * A wallet's history: the statement of its account, oldest first.
 * Errors: INVALID_ARGUMENT, WALLET_NOT_FOUND, NOT_OWNER, INVALID_PAGE_TOKEN.
 */
export async function listWalletEntries(
  db: CommonQueryMethods,
  caller: Caller,
  input: { walletId: string; pageSize: number; pageToken: string },
): Promise<EntryPage> {
  const wallet = await requireWallet(db, input.walletId);
  requireOwner(caller, wallet.ownerRef, `wallet ${wallet.id}`);
  return listEntries(db, caller, {
    accountId: wallet.accountId,
    from: null,
    to: null,
    pageSize: input.pageSize,
    pageToken: input.pageToken,
  });
}
