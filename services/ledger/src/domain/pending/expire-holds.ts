import { inTransaction, type DatabasePool } from "@money/db";
import type { Caller } from "@money/rpc";
import { findExpiredHolds } from "../../db/transactions-table.js";
import type { LedgerEventSink } from "../ledger-events.js";
import { LedgerError } from "../ledger-error.js";
import { voidPending } from "./void-pending.js";

/** The ledger itself, as the actor of what its timers do. */
export const HOLD_EXPIRY_CALLER: Caller = {
  principalId: "ledger.hold-expiry",
  role: "service",
  requestId: "",
};

/**
 * Voids every open hold past its timeout, each in its own transaction, at
 * most `limit` per call; returns how many it voided. A hold posted or voided
 * by a caller in the meantime is skipped (PENDING_NOT_OPEN under its lock).
 */
export async function expireHolds(pool: DatabasePool, events: LedgerEventSink, limit = 100): Promise<number> {
  const due = await findExpiredHolds(pool, limit);
  let voided = 0;
  for (const transactionId of due) {
    try {
      await inTransaction(pool, (tx) =>
        voidPending(
          tx,
          { caller: HOLD_EXPIRY_CALLER, events },
          { transactionId, reason: "expired", expired: true },
        ),
      );
      voided++;
    } catch (error) {
      if (!(error instanceof LedgerError && error.reason === "PENDING_NOT_OPEN")) throw error;
    }
  }
  return voided;
}
