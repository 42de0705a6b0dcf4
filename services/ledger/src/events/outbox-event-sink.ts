import { create, type DescMessage, type Message } from "@bufbuild/protobuf";
import type { CommitScope, DatabaseTransactionConnection } from "@money/db";
import { TOPICS, type AuditEntry, type AuditRecorder, type NewEvent, type OutboxInsert } from "@money/kafka";
import { formatAmount } from "@money/money";
import {
  PendingCreatedSchema,
  PendingVoidedSchema,
  TransactionPostedSchema,
  ReversalCancelledSchema,
  TransactionReversedSchema,
  TransactionStatusChangedSchema,
} from "@money/proto/ledger/v1/ledger_pb";
import { actorOf, type Caller } from "@money/rpc";
import type { LedgerEventSink, StampedEvent } from "../domain/ledger-events.js";
import { transactionAuditView, type TransactionRecord } from "../domain/transactions/transaction.js";
import { statusChangeToWire, transactionToWire } from "../rpc/transaction-mapper.js";

/**
 * Writes the ledger's events to its outbox in the caller's transaction: per
 * fact, a domain event on `ledger.transactions` (keyed by transaction id, so
 * one transaction's events stay in order) and an audit event on
 * `audit.events`, all in one statement.
 */
export class OutboxEventSink implements LedgerEventSink {
  constructor(private readonly audit: AuditRecorder) {}

  async write(
    tx: DatabaseTransactionConnection,
    events: readonly StampedEvent[],
    caller: Caller,
  ): Promise<void> {
    if (events.length === 0) return;
    await this.audit.recordMany(tx, auditEntriesOf(events, caller), events.map(factOf));
  }

  insertFragment(tx: CommitScope, events: readonly StampedEvent[], caller: Caller): OutboxInsert["sql"] {
    return this.audit.insertFragment(tx, auditEntriesOf(events, caller), events.map(factOf)).sql;
  }
}

function auditEntriesOf(events: readonly StampedEvent[], caller: Caller): AuditEntry[] {
  const actor = actorOf(caller);
  return events.map((event): AuditEntry => ({ ...auditOf(event), actor, objectType: "transaction" }));
}

function factOf(event: StampedEvent): NewEvent<DescMessage> {
  switch (event.type) {
    case "transaction_posted":
      return fact(
        event,
        event.transaction.id,
        create(TransactionPostedSchema, { transaction: transactionToWire(event.transaction) }),
      );
    case "pending_created":
      return fact(
        event,
        event.transaction.id,
        create(PendingCreatedSchema, { transaction: transactionToWire(event.transaction) }),
      );
    case "pending_voided":
      return fact(
        event,
        event.transaction.id,
        create(PendingVoidedSchema, { transaction: transactionToWire(event.transaction) }),
      );
    case "transaction_reversed":
      return fact(
        event,
        event.original.id,
        create(TransactionReversedSchema, {
          reversal: transactionToWire(event.reversal),
          originalTransactionId: event.original.id,
          originalReversedAmount: formatAmount(event.original.reversedMinor, event.original.currency!),
        }),
      );
    case "reversal_cancelled":
      return fact(
        event,
        event.original.id,
        create(ReversalCancelledSchema, {
          cancellation: transactionToWire(event.cancellation),
          cancelledReversalId: event.cancelled.id,
          originalTransactionId: event.original.id,
          originalReversedAmount: formatAmount(event.original.reversedMinor, event.original.currency!),
        }),
      );
    case "status_changed":
      return fact(
        event,
        event.change.transactionId,
        create(TransactionStatusChangedSchema, {
          transactionId: event.change.transactionId,
          change: statusChangeToWire(event.change),
        }),
      );
  }
}

const SCHEMAS: Record<StampedEvent["type"], DescMessage> = {
  transaction_posted: TransactionPostedSchema,
  pending_created: PendingCreatedSchema,
  pending_voided: PendingVoidedSchema,
  transaction_reversed: TransactionReversedSchema,
  reversal_cancelled: ReversalCancelledSchema,
  status_changed: TransactionStatusChangedSchema,
};

/** Every event of a transaction is keyed by its id; a reversal by its original's, so they stay in order. */
function fact(event: StampedEvent, aggregateId: string, payload: Message): NewEvent<DescMessage> {
  return {
    topic: TOPICS.ledgerTransactions.topic,
    schema: SCHEMAS[event.type],
    payload,
    aggregateType: "transaction",
    aggregateId,
    occurredAt: event.occurredAt,
  };
}

function auditOf(event: StampedEvent): Omit<AuditEntry, "actor" | "objectType"> {
  const about = (action: string, transaction: TransactionRecord) => ({
    action,
    objectId: transaction.id,
    after: transactionAuditView(transaction),
    reason: transaction.reason,
    occurredAt: event.occurredAt,
  });
  switch (event.type) {
    case "transaction_posted":
      return about("transaction.posted", event.transaction);
    case "pending_created":
      return about("transaction.pending_created", event.transaction);
    case "pending_voided":
      return about("transaction.pending_voided", event.transaction);
    case "transaction_reversed":
      return { ...about("transaction.reversed", event.reversal), correlationId: event.original.id };
    case "reversal_cancelled":
      return {
        ...about("transaction.reversal_cancelled", event.cancellation),
        // The original's reversed total comes down: the trail shows by how much, and to what.
        after: {
          ...transactionAuditView(event.cancellation),
          original_transaction_id: event.original.id,
          original_reversed_amount: formatAmount(event.original.reversedMinor, event.original.currency!),
        },
        correlationId: event.cancelled.id,
      };
    case "status_changed":
      return {
        action: "transaction.status_changed",
        objectId: event.change.transactionId,
        before: { status: event.change.from ?? "" },
        after: { status: event.change.to },
        reason: event.change.reason,
        occurredAt: event.occurredAt,
      };
  }
}
