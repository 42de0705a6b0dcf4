import { payloadAs, TOPICS, type Subscription } from "@money/kafka";
import { RefundSagaReplySchema, ReplyOutcome, type RefundSagaReply } from "@money/proto/refunds/v1/saga_pb";
import type { ServiceDeps } from "@money/runtime";
import type { RefundsContext } from "../domain/refunds-context.js";
import type { ReplyOutcome as Outcome, SagaInput } from "../domain/saga/saga-decision.js";
import { advanceSagas } from "../domain/saga/run-saga.js";
import { subscribeSagaInbox } from "../saga-protocol/saga-inbox.js";
import { sagaConsumerGroup, sagaStartsFromBeginning, stepFromWire } from "../saga-protocol/saga-messages.js";

/**
 * Consumes the participants' replies on refunds.replies through the refunds
 * inbox, a batch at a time, and moves each saga on, in the transaction that
 * records the reply:
 * a copy of a reply is dropped by the inbox, a stale one by the saga.
 */
export async function subscribeSagaReplies(
  deps: ServiceDeps,
  context: RefundsContext,
  namespace: string,
): Promise<Subscription> {
  return subscribeSagaInbox({
    bus: deps.bus,
    pool: deps.pool,
    consumer: await sagaConsumerGroup(deps.pool, "refunds.saga-orchestrator", namespace),
    topic: TOPICS.refundsReplies.topic,
    fromBeginning: sagaStartsFromBeginning(deps.env),
    eventType: RefundSagaReplySchema.typeName,
    keep: (envelope) => payloadAs(envelope, RefundSagaReplySchema)?.namespace === namespace,
    handle: async (tx, envelopes) => {
      const inputs: { refundId: string; input: Extract<SagaInput, { type: "reply" }> }[] = [];
      for (const envelope of envelopes) {
        const reply = payloadAs(envelope, RefundSagaReplySchema)!;
        const step = stepFromWire(reply.step);
        if (step === null) {
          deps.log.error(
            { sagaId: reply.sagaId, step: reply.step },
            "reply for a saga step this version does not know",
          );
          continue;
        }
        inputs.push({
          refundId: reply.sagaId,
          input: {
            type: "reply",
            step,
            attempt: reply.attempt,
            outcome: outcomeOf(reply.outcome),
            reason: reply.reason,
            message: reply.message,
            result: resultOf(reply),
          },
        });
      }
      const moved = await advanceSagas(tx, context, inputs);
      moved.forEach((m, i) => {
        if (m.outcome === "ignored") {
          const { refundId, input } = inputs[i]!;
          deps.log.debug(
            { sagaId: refundId, step: input.step, attempt: input.attempt },
            `reply ignored: ${m.why}`,
          );
        }
      });
    },
  });
}

function outcomeOf(outcome: ReplyOutcome): Outcome {
  switch (outcome) {
    case ReplyOutcome.SUCCEEDED:
      return "succeeded";
    case ReplyOutcome.REFUSED:
      return "refused";
    case ReplyOutcome.TRANSIENT_FAILURE:
      return "transient_failure";
    case ReplyOutcome.FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

/** The reply's result as the step's record keeps it: strings by snake_case name. */
function resultOf(reply: RefundSagaReply): Record<string, string> {
  const result: Record<string, string> = reply.replayed ? { replayed: "true" } : {};
  switch (reply.result.case) {
    case "ledgerStatus":
      return { ...result, status: reply.result.value.status };
    case "ledgerReversal":
      return {
        ...result,
        reversal_transaction_id: reply.result.value.reversalTransactionId,
        original_reversed_amount: reply.result.value.originalReversedAmount,
      };
    case "loyaltyReversal": {
      const v = reply.result.value;
      return {
        ...result,
        outcome: v.outcome,
        loyalty_transaction_id: v.loyaltyTransactionId,
        points_cancelled: v.pointsCancelled.toString(),
        points_reversed: v.pointsReversed.toString(),
        points_already_expired: v.pointsAlreadyExpired.toString(),
        points_forgiven: v.pointsForgiven.toString(),
      };
    }
    case undefined:
      return result;
  }
}
