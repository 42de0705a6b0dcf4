import type { CommonQueryMethods } from "@money/db";
import type { Caller } from "@money/rpc";
import { listEntriesOfAccount } from "../../db/entries-table.js";
import { getAccount } from "../accounts/get-account.js";
import { decodePageToken, encodePageToken, pageSizeOf } from "../input/page-token.js";
import { LedgerError } from "../ledger-error.js";
import type { EntryRecord } from "../transactions/transaction.js";

export interface EntryPage {
  entries: EntryRecord[];
  nextPageToken: string;
}

/**
 * An account statement: its entries in posting order, each with the balance
 * before and after and the account's version, optionally within [from, to).
 *
 * Errors: INVALID_ARGUMENT, ACCOUNT_NOT_FOUND, NOT_OWNER, INVALID_PAGE_TOKEN.
 */
export async function listEntries(
  db: CommonQueryMethods,
  caller: Caller,
  input: { accountId: string; from: Date | null; to: Date | null; pageSize: number; pageToken: string },
): Promise<EntryPage> {
  const account = await getAccount(db, input.accountId, caller);
  const size = pageSizeOf(input.pageSize, { max: 1_000, fallback: 100 });
  if (input.from && input.to && input.from >= input.to) {
    throw new LedgerError("INVALID_ARGUMENT", "posted_from must be before posted_to");
  }
  const position = decodePageToken(input.pageToken, 1);
  if (position && !/^\d{1,18}$/.test(position[0]!)) {
    throw new LedgerError("INVALID_PAGE_TOKEN", "page_token is not a token this service issued");
  }
  const afterVersion = position ? BigInt(position[0]!) : 0n;
  const rows = await listEntriesOfAccount(
    db,
    account.id,
    { from: input.from, to: input.to, afterVersion },
    size + 1,
  );
  const entries = rows.slice(0, size);
  const last = entries.at(-1);
  return {
    entries,
    nextPageToken: rows.length > size && last ? encodePageToken([last.accountVersion.toString()]) : "",
  };
}
