import { create } from "@bufbuild/protobuf";
import { TOPICS, type NewEvent } from "@money/kafka";
import { TransactionPostedSchema } from "@money/proto/loyalty/v1/events_pb";
import type { LoyaltyTransaction } from "../domain/transactions/loyalty-transaction.js";
import { transactionToWire } from "../rpc/transaction-mapper.js";

/**
 * `loyalty.v1.TransactionPosted` for one ledger row, for the outbox, keyed
 * by card: a card's events arrive in the order they were posted.
 */
export function transactionPosted(transaction: LoyaltyTransaction): NewEvent<typeof TransactionPostedSchema> {
  return {
    topic: TOPICS.loyaltyTransactions.topic,
    schema: TransactionPostedSchema,
    payload: create(TransactionPostedSchema, { transaction: transactionToWire(transaction) }),
    aggregateType: "loyalty_card",
    aggregateId: transaction.cardId,
    occurredAt: transaction.transactionAt,
    ...(transaction.sagaId ? { correlationId: transaction.sagaId } : {}),
  };
}
