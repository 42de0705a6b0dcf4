import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack, timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { inTransaction } from "@money/db";
import { payloadAs } from "@money/kafka";
import { EventEnvelopeSchema, type EventEnvelope } from "@money/proto/events/v1/envelope_pb";
import { TransactionStatus } from "@money/proto/ledger/v1/ledger_pb";
import {
  ReasonCode,
  RefundStatus,
  Resolution,
  SagaStep,
  StepStatus,
} from "@money/proto/refunds/v1/refunds_pb";
import {
  RefundSagaCommandSchema,
  RefundSagaReplySchema,
  ReplyOutcome,
} from "@money/proto/refunds/v1/saga_pb";
import { cancelReversal } from "../../services/ledger/src/domain/reversal/cancel-reversal.js";
import { OutboxEventSink } from "../../services/ledger/src/events/outbox-event-sink.js";
import { commandId } from "../../services/refunds/src/saga-protocol/saga-messages.js";
import { expectRefusal, key, RefundPlatform } from "../../services/refunds/test/support/refund-platform.js";
import { waitUntil } from "@money/testkit";

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

describe("partial refunds", () => {
  it("reverse their share of the money and points, leave the transaction SETTLED, and add up to the whole", async () => {
    const payment = await platform.settledPayment("100.00");
    await platform.autoApproving(payment.merchantId);
    const { cardId, points } = await platform.earnedPoints(payment, "100.00");
    expect(points).toBe(100n);

    const first = await platform.request(payment, "60.00");
    const firstDone = await platform.waitForStatus(first.id, RefundStatus.SUCCEEDED);
    expect(firstDone.pointsReversed).toBe(60n);
    expect(await platform.balance(payment.customer.id)).toBe("60.00");
    expect(await platform.balance(payment.merchant.id)).toBe("40.00");
    expect(await platform.pointsBalance(payment, cardId)).toBe(40n);
    let original = await platform.transaction(payment.transaction.id);
    expect(original.status).toBe(TransactionStatus.SETTLED);
    expect(original.reversedAmount).toBe("60.00");

    await expectRefusal(platform.request(payment, "40.01"), Code.FailedPrecondition, "EXCEEDS_REFUNDABLE");

    const second = await platform.request(payment, "40.00");
    const secondDone = await platform.waitForStatus(second.id, RefundStatus.SUCCEEDED);
    expect(secondDone.pointsReversed).toBe(40n);
    expect(await platform.balance(payment.customer.id)).toBe("100.00");
    expect(await platform.balance(payment.merchant.id)).toBe("0.00");
    expect(await platform.pointsBalance(payment, cardId)).toBe(0n);
    original = await platform.transaction(payment.transaction.id);
    expect(original.status).toBe(TransactionStatus.REFUNDED);
    expect(original.reversedAmount).toBe("100.00");
    expect(await platform.reversalsOf(payment.transaction.id)).toHaveLength(2);

    await expectRefusal(platform.request(payment, "0.01"), Code.FailedPrecondition, "ORIGINAL_NOT_SETTLED");
  });

  it("leave an audit record for every request, transition and step, in every service", async () => {
    const payment = await platform.settledPayment("30.00");
    await platform.autoApproving(payment.merchantId);
    await platform.earnedPoints(payment, "30.00");
    const refund = await platform.waitForStatus(
      (await platform.request(payment, "10.00")).id,
      RefundStatus.SUCCEEDED,
    );

    const refunds = await platform.auditTrail("refunds", refund.id);
    expect(refunds.map((e) => e.action)).toEqual([
      "refund.requested",
      "refund.approved",
      "refund.processing",
      "refund.saga_step.succeeded",
      "refund.saga_step.succeeded",
      "refund.saga_step.succeeded",
      "refund.saga_step.succeeded",
      "refund.succeeded",
    ]);
    expect(refunds[0]!.actor).toMatchObject({ principalId: "clerk-1", principalRole: "staff" });
    expect(refunds.at(-1)!.actor).toMatchObject({ principalId: "refunds-saga", principalRole: "service" });
    expect(refunds.every((e) => e.correlationId === refund.id)).toBe(true);

    const ledger = await platform.auditTrail("ledger", payment.transaction.id);
    expect(ledger.map((e) => [e.action, e.after])).toEqual(
      expect.arrayContaining([
        ["transaction.status_changed", { status: "refund_initiated" }],
        ["transaction.status_changed", { status: "refund_processing" }],
        ["transaction.status_changed", { status: "settled" }],
      ]),
    );
    expect((await platform.auditTrail("ledger", refund.reversalTransactionId)).map((e) => e.action)).toEqual([
      "transaction.reversed",
    ]);
    const events = await platform.outbox("refunds", "refunds.events", refund.id);
    expect(events.map((e) => e.eventType)).toEqual(Array(4).fill("refunds.v1.RefundStatusChanged"));
  });
});

describe("a loyalty refusal", () => {
  it("compensates the ledger reversal in reverse order and leaves every balance as before", async () => {
    const payment = await platform.settledPayment("50.00");
    await platform.autoApproving(payment.merchantId);
    // The till recorded another amount for the order: loyalty refuses the refund's share.
    const { cardId } = await platform.earnedPoints(payment, "45.00");
    const before = {
      customer: await platform.balance(payment.customer.id),
      merchant: await platform.balance(payment.merchant.id),
      points: await platform.pointsBalance(payment, cardId),
    };

    const refund = await platform.request(payment, "20.00");
    const failed = await platform.waitForStatus(refund.id, RefundStatus.FAILED);

    expect(failed.failureReason).toBe("ORDER_AMOUNT_MISMATCH");
    expect(failed.steps.map((s) => [SagaStep[s.step], StepStatus[s.status], s.compensation])).toEqual([
      ["MARK_REFUND_PROCESSING", "SUCCEEDED", false],
      ["REVERSE_LEDGER_TRANSACTION", "SUCCEEDED", false],
      ["REVERSE_LOYALTY_POINTS", "REFUSED", false],
      ["COMPLETE_LEDGER_REFUND", "PENDING", false],
      ["CANCEL_LEDGER_REVERSAL", "SUCCEEDED", true],
      ["RESTORE_SETTLED", "SUCCEEDED", true],
    ]);
    const cancelStep = failed.steps.find((s) => s.step === SagaStep.CANCEL_LEDGER_REVERSAL)!;
    const restoreStep = failed.steps.find((s) => s.step === SagaStep.RESTORE_SETTLED)!;
    expect(timestampDate(cancelStep.completedAt!) <= timestampDate(restoreStep.startedAt!)).toBe(true);
    expect(failed.steps.find((s) => s.step === SagaStep.REVERSE_LOYALTY_POINTS)!.lastError).toMatch(
      /^ORDER_AMOUNT_MISMATCH: /,
    );

    expect({
      customer: await platform.balance(payment.customer.id),
      merchant: await platform.balance(payment.merchant.id),
      points: await platform.pointsBalance(payment, cardId),
    }).toEqual(before);
    const original = await platform.transaction(payment.transaction.id);
    expect(original.status).toBe(TransactionStatus.SETTLED);
    expect(original.reversedAmount).toBe("0.00");
    const reversals = await platform.reversalsOf(payment.transaction.id);
    expect(reversals).toEqual([{ id: failed.reversalTransactionId, amount: "2000", reversed: "2000" }]);

    // Its amount is refundable again: a new request is accepted (and waits for approval).
    await platform.policy(payment.merchantId, [{ minAmount: "0", approvalsRequired: 1 }]);
    expect((await platform.request(payment, "50.00")).status).toBe(RefundStatus.AWAITING_APPROVAL);
  });

  it("leaves the transaction refundable: a second refund after the compensated one succeeds", async () => {
    const payment = await platform.settledPayment("30.00");
    await platform.autoApproving(payment.merchantId);
    const { cardId } = await platform.earnedPoints(payment, "30.00");
    // The till already refunded 20.00 of the order's points by itself: loyalty refuses a refund of 30.00.
    await platform.loyaltyAs("service", "till-refunds").reverseForOrder({
      idempotencyKey: key(),
      merchantId: payment.merchantId,
      orderReference: payment.orderReference,
      refundedAmount: "20.00",
      originalPurchaseAmount: "30.00",
      currency: "EUR",
      sagaId: "till-refund-1",
    });

    const first = await platform.request(payment, "30.00");
    const failed = await platform.waitForStatus(first.id, RefundStatus.FAILED);
    expect(failed.failureReason).toBe("REFUND_EXCEEDS_PURCHASE");
    const [cancelled] = await platform.reversalsOf(payment.transaction.id);
    expect(cancelled).toEqual({ id: failed.reversalTransactionId, amount: "3000", reversed: "3000" });

    // The compensation is a reversal of the reversal, by the saga, with its reason, in the audit trail.
    const [cancellation] = await platform.reversalsOf(cancelled!.id);
    expect(cancellation).toMatchObject({ amount: "3000", reversed: "0" });
    const audit = (await platform.auditTrail("ledger", cancellation!.id)).find(
      (e) => e.action === "transaction.reversal_cancelled",
    );
    expect(audit).toMatchObject({ correlationId: cancelled!.id, actor: { principalId: "refunds-saga" } });
    expect(audit!.reason).not.toBe("");

    // Cancelling it again changes nothing and answers with the same cancellation.
    const again = await inTransaction(platform.ledger!.deps.pool, (tx) =>
      cancelReversal(
        tx,
        {
          caller: { principalId: "operator", role: "admin", requestId: "r" },
          events: new OutboxEventSink(platform.ledger!.deps.audit),
        },
        { transactionId: payment.transaction.id, reversalTransactionId: cancelled!.id, reason: "again" },
      ),
    );
    expect(again.cancellation.id).toBe(cancellation!.id);
    expect(await platform.reversalsOf(cancelled!.id)).toHaveLength(1);

    // The rest of the order is refundable, and the saga reverses it although the cancelled reversal took it all once.
    const second = await platform.request(payment, "10.00");
    const done = await platform.waitForStatus(second.id, RefundStatus.SUCCEEDED);
    expect(await platform.reversalsOf(payment.transaction.id)).toEqual([
      cancelled,
      { id: done.reversalTransactionId, amount: "1000", reversed: "0" },
    ]);
    const original = await platform.transaction(payment.transaction.id);
    expect(original.status).toBe(TransactionStatus.SETTLED);
    expect(original.reversedAmount).toBe("10.00");
    expect(await platform.balance(payment.customer.id)).toBe("10.00");
    expect(await platform.balance(payment.merchant.id)).toBe("20.00");
    expect(await platform.pointsBalance(payment, cardId)).toBe(0n);
    // 20.00 of the payment is left to refund, and no more.
    await expectRefusal(
      platform.refundsAs("staff", "clerk-1").requestRefund({
        idempotencyKey: key(),
        originalTransactionId: payment.transaction.id,
        amount: "20.01",
        currency: "EUR",
        reasonCode: ReasonCode.RETURN,
        note: "too much",
      }),
      Code.FailedPrecondition,
      "EXCEEDS_REFUNDABLE",
    );
  });
});

describe("duplicated commands", () => {
  it("are ignored: a copy of a command by the inbox, a later attempt by the step's record", async () => {
    const payment = await platform.settledPayment("25.00");
    await platform.autoApproving(payment.merchantId);
    const refund = await platform.waitForStatus(
      (await platform.request(payment, "25.00")).id,
      RefundStatus.SUCCEEDED,
    );
    const commands = await platform.outbox("refunds", "refunds.commands", refund.id);
    const reverse = commands.find(
      (e) => payloadAs(e, RefundSagaCommandSchema)?.step === SagaStep.REVERSE_LEDGER_TRANSACTION,
    )!;

    // The very same message again, as a relay that crashed before marking it would send it.
    const message = (envelope: EventEnvelope) => ({
      topic: "refunds.commands",
      key: refund.id,
      value: toBinary(EventEnvelopeSchema, envelope),
      headers: { "event-id": envelope.eventId, "event-type": envelope.eventType },
    });
    // And a second attempt of the same step, as the sweeper sends when a reply is late,
    // its id spelt in capitals, as another producer may: a uuid's spelling is not its identity.
    const command = payloadAs(reverse, RefundSagaCommandSchema)!;
    const secondAttempt = create(EventEnvelopeSchema, {
      ...reverse,
      eventId: commandId(refund.id, "reverse_ledger_transaction", 2).toUpperCase(),
      payload: anyPack(RefundSagaCommandSchema, create(RefundSagaCommandSchema, { ...command, attempt: 2 })),
    });
    await platform.bus.publish([message(reverse), message(secondAttempt)]);

    await waitUntil("the ledger to answer the second attempt", async () =>
      (await platform.outbox("ledger", "refunds.replies", refund.id)).some((e) => {
        const reply = payloadAs(e, RefundSagaReplySchema)!;
        return reply.step === SagaStep.REVERSE_LEDGER_TRANSACTION && reply.attempt === 2;
      }),
    );
    const replies = (await platform.outbox("ledger", "refunds.replies", refund.id))
      .map((e) => payloadAs(e, RefundSagaReplySchema)!)
      .filter((r) => r.step === SagaStep.REVERSE_LEDGER_TRANSACTION);
    expect(replies.map((r) => [r.attempt, ReplyOutcome[r.outcome], r.replayed])).toEqual([
      [1, "SUCCEEDED", false],
      [2, "SUCCEEDED", true],
    ]);
    expect(replies[1]!.result).toEqual(replies[0]!.result);
    expect(await platform.reversalsOf(payment.transaction.id)).toHaveLength(1);
    expect(await platform.balance(payment.customer.id)).toBe("25.00");
    expect(await platform.balance(payment.merchant.id)).toBe("0.00");
    expect((await platform.refund(refund.id)).status).toBe(RefundStatus.SUCCEEDED);
  });
});

describe("a compensation that fails", () => {
  /** A refund whose loyalty step is refused while the customer's account is frozen: its compensation is refused too. */
  async function parkedRefund() {
    const payment = await platform.settledPayment("30.00");
    await platform.autoApproving(payment.merchantId);
    await platform.earnedPoints(payment, "29.00");
    await platform.stopLoyalty();
    const refund = await platform.request(payment, "30.00");
    await waitUntil("the ledger reversal", async () =>
      (await platform.refund(refund.id)).steps.some(
        (s) => s.step === SagaStep.REVERSE_LOYALTY_POINTS && s.status === StepStatus.IN_FLIGHT,
      ),
    );
    await platform.ledgerAdmin.freezeAccount({
      idempotencyKey: key(),
      accountId: payment.customer.id,
      reason: "test",
    });
    await platform.startLoyalty();
    const parked = await platform.waitForStatus(refund.id, RefundStatus.REQUIRES_ATTENTION);
    return { payment, parked };
  }

  it("parks the saga; an admin retries it once the cause is fixed, and it compensates", async () => {
    const { payment, parked } = await parkedRefund();
    expect(parked.failureReason).toBe("COMPENSATION_REFUSED");
    const cancel = parked.steps.find((s) => s.step === SagaStep.CANCEL_LEDGER_REVERSAL)!;
    expect(cancel.status).toBe(StepStatus.FAILED);
    expect(cancel.lastError).toMatch(/^ACCOUNT_FROZEN: /);

    await expectRefusal(
      platform
        .refundsAs("approver", "boss")
        .retrySaga({ idempotencyKey: key(), refundId: parked.id, reason: "x" }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
    await platform.ledgerAdmin.unfreezeAccount({
      idempotencyKey: key(),
      accountId: payment.customer.id,
      reason: "test",
    });
    const retried = await platform
      .refundsAs("admin", "operator-1")
      .retrySaga({ idempotencyKey: key(), refundId: parked.id, reason: "customer account unfrozen" });
    expect(retried.refund!.status).toBe(RefundStatus.PROCESSING);
    const failed = await platform.waitForStatus(parked.id, RefundStatus.FAILED);
    expect(failed.failureReason).toBe("ORDER_AMOUNT_MISMATCH");
    expect(await platform.balance(payment.customer.id)).toBe("0.00");
    expect(await platform.balance(payment.merchant.id)).toBe("30.00");
    expect((await platform.transaction(payment.transaction.id)).status).toBe(TransactionStatus.SETTLED);
    const retry = (await platform.auditTrail("refunds", parked.id)).find(
      (e) => e.action === "refund.processing" && e.actor?.principalId === "operator-1",
    );
    expect(retry).toMatchObject({ reason: "operator retry: customer account unfrozen" });
    expect(retry!.actor).toMatchObject({ principalRole: "admin" });
  });

  it("parks the saga; an admin may resolve it by hand, with a reason", async () => {
    const { parked } = await parkedRefund();
    await expectRefusal(
      platform.refundsAs("admin", "operator-2").resolveSaga({
        idempotencyKey: key(),
        refundId: parked.id,
        resolution: Resolution.FAILED,
        reason: "",
      }),
      Code.InvalidArgument,
      "REASON_REQUIRED",
    );
    const { refund } = await platform.refundsAs("admin", "operator-2").resolveSaga({
      idempotencyKey: key(),
      refundId: parked.id,
      resolution: Resolution.FAILED,
      reason: "reversal offset by hand, ticket OPS-12",
    });
    expect(refund).toMatchObject({ status: RefundStatus.FAILED, failureReason: "RESOLVED_AS_FAILED" });
    expect(refund!.history.at(-1)).toMatchObject({
      toStatus: RefundStatus.FAILED,
      actorId: "operator-2",
      actorRole: "admin",
      reason: "resolved by an operator: reversal offset by hand, ticket OPS-12",
    });
    await expectRefusal(
      platform
        .refundsAs("admin", "operator-2")
        .retrySaga({ idempotencyKey: key(), refundId: parked.id, reason: "again" }),
      Code.FailedPrecondition,
      "NOT_PARKED",
    );
  });
});
