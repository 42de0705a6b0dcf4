import type { CommonQueryMethods } from "@money/db";
import type { Caller } from "@money/rpc";
import { listAccountsOfOwner } from "../../db/accounts-table.js";
import { requireOwner } from "../access/require-owner.js";
import { decodeTimeIdToken, encodePageToken, pageSizeOf } from "../input/page-token.js";
import { LedgerError } from "../ledger-error.js";
import type { Account } from "./account.js";

export interface AccountPage {
  accounts: Account[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/**
 * An owner's accounts, oldest first, a page at a time.
 * Errors: INVALID_ARGUMENT (owner, page size), INVALID_PAGE_TOKEN, NOT_OWNER.
 */
export async function listAccounts(
  db: CommonQueryMethods,
  caller: Caller,
  request: { ownerRef: string; pageSize: number; pageToken: string },
): Promise<AccountPage> {
  if (request.ownerRef === "") throw new LedgerError("INVALID_ARGUMENT", "owner_ref is required");
  requireOwner(caller, request.ownerRef, "these accounts");
  const size = pageSizeOf(request.pageSize, { max: 500, fallback: 100 });
  const after = decodeTimeIdToken(request.pageToken);
  // One more than asked says whether another page follows.
  const rows = await listAccountsOfOwner(db, request.ownerRef, after, size + 1);
  const accounts = rows.slice(0, size);
  const last = accounts.at(-1);
  return {
    accounts,
    nextPageToken: rows.length > size && last ? encodePageToken([last.createdAt.toISOString(), last.id]) : "",
  };
}
