import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { TransactionStatus } from "@money/proto/ledger/v1/ledger_pb";
import { RefundStatus, SagaStep, StepStatus } from "@money/proto/refunds/v1/refunds_pb";
import { RefundPlatform } from "../../services/refunds/test/support/refund-platform.js";

/*
 * The refund saga across the ledger, loyalty and refunds services, each on
 * its own schema and role, over the real Kafka broker: commands and replies
 * through outboxes, the relay and inboxes.
 */

let platform: RefundPlatform;

beforeAll(async () => {
  platform = await RefundPlatform.start("saga");
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

describe("a full refund", () => {
  it("gives the money back, reverses the order's points, marks the transaction REFUNDED", async () => {
    const payment = await platform.settledPayment("40.00");
    await platform.autoApproving(payment.merchantId);
    const { cardId, points } = await platform.earnedPoints(payment, "40.00");
    expect(points).toBe(40n);
    expect(await platform.balance(payment.customer.id)).toBe("0.00");
    expect(await platform.balance(payment.merchant.id)).toBe("40.00");

    const requested = await platform.request(payment, "40.00");
    expect(requested.status).toBe(RefundStatus.PROCESSING);
    const done = await platform.waitForStatus(requested.id, RefundStatus.SUCCEEDED);

    expect(await platform.balance(payment.customer.id)).toBe("40.00");
    expect(await platform.balance(payment.merchant.id)).toBe("0.00");
    const original = await platform.transaction(payment.transaction.id);
    expect(original.status).toBe(TransactionStatus.REFUNDED);
    expect(original.reversedAmount).toBe("40.00");
    expect(await platform.pointsBalance(payment, cardId)).toBe(0n);
    expect(done.pointsReversed).toBe(40n);
    expect(done.reversalTransactionId).not.toBe("");
    expect(done.steps.map((s) => [SagaStep[s.step], StepStatus[s.status], s.attempts])).toEqual([
      ["MARK_REFUND_PROCESSING", "SUCCEEDED", 1],
      ["REVERSE_LEDGER_TRANSACTION", "SUCCEEDED", 1],
      ["REVERSE_LOYALTY_POINTS", "SUCCEEDED", 1],
      ["COMPLETE_LEDGER_REFUND", "SUCCEEDED", 1],
    ]);
    expect(done.history.map((h) => RefundStatus[h.toStatus])).toEqual([
      "REQUESTED",
      "APPROVED",
      "PROCESSING",
      "SUCCEEDED",
    ]);
  });
});
