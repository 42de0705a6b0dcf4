import type { CommitScope } from "@money/db";
import type { IdempotencyRecord } from "../../db/idempotency-keys-table.js";
import { writeJournal } from "../../db/journal-writes.js";
import type { LedgerEvent, StampedEvent, WriteContext } from "../ledger-events.js";
import type {
  EntryRecord,
  HoldRecord,
  StatusChangeRecord,
  TransactionRecord,
  TransactionStatus,
} from "../transactions/transaction.js";
import type { Book } from "./book.js";

/**
 * The unit of work of one database transaction: what the use cases decided,
 * gathered in memory and written in one statement (transactions, entries,
 * history, holds, balance rows, and its events in the outbox). A batch of a
 * thousand postings costs the same one round trip as one.
 */
export class Journal {
  readonly created: TransactionRecord[] = [];
  readonly updated = new Map<string, TransactionRecord>();
  readonly entries: EntryRecord[] = [];
  readonly statusChanges: StatusChangeRecord[] = [];
  readonly holdsOpened: { transactionId: string; hold: HoldRecord; createdAt: Date }[] = [];
  readonly holdsResolved = new Map<string, { hold: HoldRecord; resolvedAt: Date }>();
  readonly events: StampedEvent[] = [];

  constructor(
    readonly book: Book,
    readonly context: WriteContext,
  ) {}

  /** The caller as recorded on what it does. */
  get performer(): { performedBy: string; performedByRole: string } {
    return { performedBy: this.context.caller.principalId, performedByRole: this.context.caller.role };
  }

  /** A new transaction, with its entries and hold, created in its status. */
  add(transaction: TransactionRecord, reason = transaction.reason): void {
    this.created.push(transaction);
    this.entries.push(...transaction.entries);
    if (transaction.hold) {
      this.holdsOpened.push({
        transactionId: transaction.id,
        hold: transaction.hold,
        createdAt: this.book.now,
      });
    }
    this.statusChanges.push({
      transactionId: transaction.id,
      from: null,
      to: transaction.status,
      ...this.performer,
      reason,
      changedAt: this.book.now,
    });
  }

  /** A new status, amount or reversed total of a transaction that already exists. */
  update(transaction: TransactionRecord): void {
    this.updated.set(transaction.id, transaction);
  }

  /** Moves an existing transaction to `to` and records the step; returns it as it now is. */
  transition(transaction: TransactionRecord, to: TransactionStatus, reason: string): TransactionRecord {
    const change: StatusChangeRecord = {
      transactionId: transaction.id,
      from: transaction.status,
      to,
      ...this.performer,
      reason,
      changedAt: this.book.now,
    };
    this.statusChanges.push(change);
    this.emit({ type: "status_changed", change });
    const moved = { ...transaction, status: to };
    this.update(moved);
    return moved;
  }

  addEntries(entries: readonly EntryRecord[]): void {
    this.entries.push(...entries);
  }

  resolveHold(transactionId: string, hold: HoldRecord): void {
    this.holdsResolved.set(transactionId, { hold, resolvedAt: this.book.now });
  }

  emit(event: LedgerEvent): void {
    this.events.push({ ...event, occurredAt: this.book.now });
  }

  /**
   * Writes the unit of work and its events in one statement; with `idempotencyKeys`, records
   * them in it too (see writeJournal: it fails with KEYS_TAKEN when one was taken). With
   * `andCommit`, in a pipelined transaction, commits in the same round trip.
   */
  async commit(
    tx: CommitScope,
    options: { idempotencyKeys?: readonly IdempotencyRecord[]; andCommit?: boolean } = {},
  ): Promise<void> {
    await writeJournal(
      tx,
      {
        created: this.created,
        updated: [...this.updated.values()],
        entries: this.entries,
        statusChanges: this.statusChanges,
        holdsOpened: this.holdsOpened,
        holdsResolved: [...this.holdsResolved].map(([transactionId, r]) => ({ transactionId, ...r })),
        balances: this.book
          .touchedAccounts()
          .map(({ account, figures }) => ({ accountId: account.id, figures })),
        outbox:
          this.events.length > 0
            ? this.context.events.insertFragment(tx, this.events, this.context.caller)
            : null,
        idempotencyKeys: options.idempotencyKeys ?? [],
      },
      { andCommit: options.andCommit ?? false },
    );
  }
}
