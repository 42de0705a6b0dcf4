import type { CommitScope, DatabaseTransactionConnection } from "@money/db";
import type { OutboxInsert } from "@money/kafka";
import type { Caller } from "@money/rpc";
import type { StatusChangeRecord, TransactionRecord } from "./transactions/transaction.js";

/** The facts the ledger publishes, each with its audit record, in the transaction that made them true. */
export type LedgerEvent =
  | { type: "transaction_posted"; transaction: TransactionRecord }
  | { type: "pending_created"; transaction: TransactionRecord }
  | { type: "pending_voided"; transaction: TransactionRecord }
  | { type: "transaction_reversed"; reversal: TransactionRecord; original: TransactionRecord }
  | {
      type: "reversal_cancelled";
      cancellation: TransactionRecord;
      cancelled: TransactionRecord;
      original: TransactionRecord;
    }
  | { type: "status_changed"; change: StatusChangeRecord };

/** An event with the time it became true. */
export type StampedEvent = LedgerEvent & { occurredAt: Date };

/** Where use cases put their events: the outbox, in the caller's transaction (see events/). */
export interface LedgerEventSink {
  write(tx: DatabaseTransactionConnection, events: readonly StampedEvent[], caller: Caller): Promise<void>;
  /**
   * The outbox INSERT of `events`, for the caller to run inside a statement of its own in `tx`
   * (one round trip fewer than write); null when the sink keeps them to write later itself.
   */
  insertFragment(
    tx: CommitScope,
    events: readonly StampedEvent[],
    caller: Caller,
  ): OutboxInsert["sql"] | null;
}

/** What every writing use case works with besides its database transaction. */
export interface WriteContext {
  caller: Caller;
  events: LedgerEventSink;
}
