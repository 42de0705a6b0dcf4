import type { CommonQueryMethods } from "@money/db";
import { findTransaction, listStatusHistory } from "../../db/transactions-table.js";
import { requireUuid } from "../input/uuid.js";
import { LedgerError } from "../ledger-error.js";
import type { StatusChangeRecord, TransactionRecord } from "./transaction.js";

/** Errors: INVALID_ARGUMENT, TRANSACTION_NOT_FOUND. */
export async function getTransaction(
  db: CommonQueryMethods,
  transactionId: string,
): Promise<TransactionRecord> {
  const id = requireUuid(transactionId, "transaction_id");
  const found = await findTransaction(db, id);
  if (!found) throw new LedgerError("TRANSACTION_NOT_FOUND", `no transaction ${id}`);
  return found.transaction;
}

/** Every status the transaction entered, oldest first. Errors: INVALID_ARGUMENT, TRANSACTION_NOT_FOUND. */
export async function getTransactionHistory(
  db: CommonQueryMethods,
  transactionId: string,
): Promise<StatusChangeRecord[]> {
  const id = requireUuid(transactionId, "transaction_id");
  const changes = await listStatusHistory(db, id);
  if (changes.length === 0) throw new LedgerError("TRANSACTION_NOT_FOUND", `no transaction ${id}`);
  return changes;
}
