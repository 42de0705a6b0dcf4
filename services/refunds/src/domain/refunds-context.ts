import type { DatabaseTransactionConnection } from "@money/db";
import type { Actor } from "@money/kafka";
import type { ApprovalPolicy } from "./approval-policy.js";
import type { Decision, RefundRecord, RefundStatus } from "./refund.js";
import type { SagaSettings, SagaStepName, StepRecord } from "./saga/saga-definition.js";

/** Where use cases read the time: once per attempt, so a retried transaction sees one instant. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Who the saga and the expiry job act as in the history and the audit trail. */
export const SAGA_ACTOR: Actor = { principalId: "refunds-saga", role: "service" };
export const EXPIRY_ACTOR: Actor = { principalId: "refunds-expiry", role: "service" };

/** The facts the refunds service publishes, each in the transaction that made it true. */
export type RefundEvent =
  | {
      type: "status_changed";
      refund: RefundRecord;
      from: RefundStatus | null;
      to: RefundStatus;
      actor: Actor;
      reason: string;
    }
  | { type: "decision_recorded"; refund: RefundRecord; decision: Decision; actor: Actor; approvals: number }
  /** A saga step changed state: audited, not published as a domain event. */
  | { type: "step_changed"; refund: RefundRecord; step: StepRecord; actor: Actor }
  /** A command to a participant: the saga's message on refunds.commands. */
  | { type: "command"; refund: RefundRecord; step: SagaStepName; attempt: number }
  | { type: "policy_set"; before: ApprovalPolicy; after: ApprovalPolicy; actor: Actor; reason: string };

export type StampedEvent = RefundEvent & { occurredAt: Date };

/** Where use cases put their events: the outbox, in the caller's transaction (see events/). */
export interface RefundEventSink {
  write(tx: DatabaseTransactionConnection, events: readonly StampedEvent[]): Promise<void>;
}

/** What every use case works with besides its database transaction. */
export interface RefundsContext {
  clock: Clock;
  events: RefundEventSink;
  saga: SagaSettings;
}
