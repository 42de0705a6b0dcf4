import { create } from "@bufbuild/protobuf";
import { LoyaltyReversalResultSchema, Participant } from "@money/proto/refunds/v1/saga_pb";
import { startRefundParticipant } from "@money/refunds/saga-participant";
import type { ServiceDeps } from "@money/runtime";
import type { Acting } from "../domain/acting.js";
import { systemClock } from "../domain/clock.js";
import type { LoyaltyDeps } from "../domain/loyalty-deps.js";
import { ProgramCache } from "../domain/programs/program-cache.js";
import { LoyaltyError } from "../domain/loyalty-error.js";
import { reverseForOrder } from "../domain/points/reverse-for-order.js";

/** The saga acts as the refunds service, for any merchant, from no store or device. */
const SAGA_ACTING: Acting = {
  actor: { principalId: "refunds-saga", role: "service" },
  merchantId: undefined,
  deviceId: null,
  staffId: null,
  store: null,
};

/**
 * Loyalty's part in the refund saga, in the loyalty process: consumes the
 * refunds service's commands addressed to loyalty (refunds.commands),
 * reverses the order's points in proportion to the refunded share with the
 * loyalty use case, in the inbox's transaction, and replies through the
 * loyalty outbox (refunds.replies). Each saga reverses an order's points at
 * most once, however often its command arrives. `loyalty` is the service's
 * own (its clock and program cache); the service starts this in its start().
 */
export async function startLoyaltyRefundParticipant(
  deps: ServiceDeps,
  loyalty: LoyaltyDeps = { audit: deps.audit, clock: systemClock, programs: new ProgramCache() },
): Promise<{ stop(): Promise<void> }> {
  return startRefundParticipant(deps, {
    participant: Participant.LOYALTY,
    consumer: "loyalty.refund-participant",
    openBatch: () => ({
      perform: async (tx, command) => {
        if (command.body.case !== "reverseLoyaltyPoints") {
          throw new LoyaltyError(
            "INVALID_ARGUMENT",
            `loyalty does not perform ${command.body.case ?? "an empty command"}`,
          );
        }
        const order = command.body.value;
        const reversed = await reverseForOrder(
          tx,
          loyalty,
          {
            merchantId: order.merchantId,
            orderReference: order.orderReference,
            refundedAmount: order.refundedAmount,
            originalPurchaseAmount: order.originalPurchaseAmount,
            currency: order.currency,
            sagaId: command.sagaId,
          },
          SAGA_ACTING,
        );
        return {
          case: "loyaltyReversal",
          value: create(LoyaltyReversalResultSchema, {
            outcome: reversed.outcome,
            loyaltyTransactionId: reversed.transaction?.id ?? "",
            pointsCancelled: reversed.pointsCancelled,
            pointsReversed: reversed.pointsReversed,
            pointsAlreadyExpired: reversed.pointsAlreadyExpired,
            pointsForgiven: reversed.pointsForgiven,
          }),
        };
      },
    }),
  });
}
