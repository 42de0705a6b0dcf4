import type { CommonQueryMethods } from "@money/db";
import { listTransactions as selectTransactions } from "../../db/transactions-table.js";
import { decodeTimeIdToken, encodePageToken, pageSizeOf } from "../input/page-token.js";
import { requireUuid } from "../input/uuid.js";
import { LedgerError } from "../ledger-error.js";
import type { TransactionRecord, TransactionStatus } from "./transaction.js";

export interface TransactionQuery {
  accountId: string;
  externalRef: string;
  metadataKey: string;
  metadataValue: string;
  status: TransactionStatus | null;
  createdFrom: Date | null;
  createdTo: Date | null;
  pageSize: number;
  pageToken: string;
}

/**
 * Transactions matching every filter given, newest first, a page at a time.
 * Errors: INVALID_ARGUMENT, INVALID_PAGE_TOKEN.
 */
export async function listTransactions(
  db: CommonQueryMethods,
  query: TransactionQuery,
): Promise<{ transactions: TransactionRecord[]; nextPageToken: string }> {
  if ((query.metadataKey === "") !== (query.metadataValue === "")) {
    throw new LedgerError("INVALID_ARGUMENT", "metadata_key and metadata_value go together");
  }
  if (query.createdFrom && query.createdTo && query.createdFrom >= query.createdTo) {
    throw new LedgerError("INVALID_ARGUMENT", "created_from must be before created_to");
  }
  const size = pageSizeOf(query.pageSize, { max: 500, fallback: 100 });
  const before = decodeTimeIdToken(query.pageToken);
  const rows = await selectTransactions(
    db,
    {
      accountId: query.accountId === "" ? null : requireUuid(query.accountId, "account_id"),
      externalRef: query.externalRef,
      metadata: query.metadataKey === "" ? null : { [query.metadataKey]: query.metadataValue },
      status: query.status,
      createdFrom: query.createdFrom,
      createdTo: query.createdTo,
    },
    before,
    size + 1,
  );
  const transactions = rows.slice(0, size);
  const last = transactions.at(-1);
  return {
    transactions,
    nextPageToken: rows.length > size && last ? encodePageToken([last.createdAt.toISOString(), last.id]) : "",
  };
}
