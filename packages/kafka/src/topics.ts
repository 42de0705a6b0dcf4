import type { TopicSpec } from "./bus/event-bus.js";

/**
 * Every topic of the platform with its partition count, created explicitly
 * at start (the broker does not auto-create). Partitions bound how many
 * consumers of one group work in parallel; keys keep per-aggregate order.
 */
export const TOPICS = {
  auditEvents: { topic: "audit.events", partitions: 6 },
  auditCheckpoints: { topic: "audit.checkpoints", partitions: 1 },
  ledgerTransactions: { topic: "ledger.transactions", partitions: 6 },
  loyaltyTransactions: { topic: "loyalty.transactions", partitions: 6 },
  refundsEvents: { topic: "refunds.events", partitions: 6 },
  refundsCommands: { topic: "refunds.commands", partitions: 6 },
  refundsReplies: { topic: "refunds.replies", partitions: 6 },
} as const satisfies Record<string, TopicSpec>;

export const ALL_TOPICS: readonly TopicSpec[] = Object.values(TOPICS);
