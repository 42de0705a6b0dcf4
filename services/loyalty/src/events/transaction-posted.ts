import { create } from "@bufbuild/protobuf";
import type { DatabaseTransactionConnection } from "@money/db";
import { TOPICS, type OutboxWriter } from "@money/kafka";
import { TransactionPostedSchema } from "@money/proto/loyalty/v1/events_pb";
import type { LoyaltyTransaction } from "../domain/transactions/loyalty-transaction.js";
import { transactionToWire } from "../rpc/transaction-mapper.js";

/**
 * Publishes `loyalty.v1.TransactionPosted` for one ledger row, through the
 * outbox, keyed by card: a card's events arrive in the order they were posted.
 */
export async function publishTransactionPosted(
  tx: DatabaseTransactionConnection,
  outbox: OutboxWriter,
  transaction: LoyaltyTransaction,
): Promise<void> {
  await outbox.write(tx, {
    topic: TOPICS.loyaltyTransactions.topic,
    schema: TransactionPostedSchema,
    payload: create(TransactionPostedSchema, { transaction: transactionToWire(transaction) }),
    aggregateType: "loyalty_card",
    aggregateId: transaction.cardId,
    occurredAt: transaction.transactionAt,
    ...(transaction.sagaId ? { correlationId: transaction.sagaId } : {}),
  });
}
