import type { DatabaseTransactionConnection } from "@money/db";
import { findTransaction } from "../../db/transactions-table.js";
import { requireUuid } from "../input/uuid.js";
import { LedgerError } from "../ledger-error.js";
import type { HoldRecord, TransactionRecord } from "../transactions/transaction.js";

export interface LockedHold {
  transaction: TransactionRecord;
  hold: HoldRecord;
  expired: boolean;
}

/**
 * Locks a pending transaction's row (before any balance row, the order every
 * hold operation keeps) and returns it with its open hold.
 *
 * Errors: INVALID_ARGUMENT, TRANSACTION_NOT_FOUND (none, or not a pending one), PENDING_NOT_OPEN.
 */
export async function lockOpenHold(
  tx: DatabaseTransactionConnection,
  transactionId: string,
): Promise<LockedHold> {
  const id = requireUuid(transactionId, "transaction_id");
  const found = await findTransaction(tx, id, { forUpdate: true });
  if (!found?.transaction.hold)
    throw new LedgerError("TRANSACTION_NOT_FOUND", `no pending transaction ${id}`);
  const { transaction, holdExpired } = found;
  const hold = found.transaction.hold;
  if (hold.status !== "open") {
    throw new LedgerError("PENDING_NOT_OPEN", `pending transaction ${id} is already ${hold.status}`);
  }
  return { transaction, hold, expired: holdExpired };
}
