import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { sql } from "@money/db";
import { ReasonCode, RefundStatus } from "@money/proto/refunds/v1/refunds_pb";
import { expectRefusal, key, RefundPlatform, type Payment } from "../support/refund-platform.js";
import { TestClock } from "../support/test-clock.js";

/*
 * RequestRefund on the real ledger (the original read over RPC) and real
 * Postgres: every refusal with its code and reason and nothing written, the
 * idempotency key, and the refundable remainder under concurrency.
 */

const clock = new TestClock();
let platform: RefundPlatform;

beforeAll(async () => {
  platform = await RefundPlatform.start("requests", { loyalty: false, refunds: { clock } });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

/** Everything a refused request must leave untouched. */
async function written(): Promise<Record<string, number>> {
  return {
    refunds: await platform.count("refunds.refunds"),
    originals: Number(
      await platform.admin.oneFirst(
        sql.unsafe`SELECT coalesce(sum(committed_minor), 0) FROM refunds.refund_originals`,
      ),
    ),
    transitions: await platform.count("refunds.refund_transitions"),
    outbox: await platform.count("refunds.outbox_written"),
    keys: await platform.count("refunds.idempotency_keys"),
  };
}

function ask(
  payment: Payment,
  init: Partial<{
    amount: string;
    currency: string;
    reasonCode: ReasonCode;
    originalTransactionId: string;
    note: string;
  }> = {},
) {
  return {
    idempotencyKey: key(),
    originalTransactionId: payment.transaction.id,
    amount: "10.00",
    currency: "EUR",
    reasonCode: ReasonCode.REQUESTED_BY_CUSTOMER,
    note: "",
    ...init,
  };
}

describe("RequestRefund refuses", () => {
  let payment: Payment;
  beforeAll(async () => {
    payment = await platform.settledPayment("100.00");
    await platform.policy(payment.merchantId, [{ minAmount: "0", approvalsRequired: 1 }]);
  });

  const cases: [string, () => Partial<Parameters<typeof ask>[1]>, Code, string][] = [
    ["a zero amount", () => ({ amount: "0.00" }), Code.InvalidArgument, "AMOUNT_NOT_POSITIVE"],
    ["a negative amount", () => ({ amount: "-5.00" }), Code.InvalidArgument, "AMOUNT_NOT_POSITIVE"],
    ["an amount in exponent notation", () => ({ amount: "1e3" }), Code.InvalidArgument, "INVALID_AMOUNT"],
    [
      "more decimals than the currency has",
      () => ({ amount: "1.001" }),
      Code.InvalidArgument,
      "INVALID_AMOUNT",
    ],
    ["an unknown currency", () => ({ currency: "XXX" }), Code.InvalidArgument, "UNKNOWN_CURRENCY"],
    [
      "no reason code",
      () => ({ reasonCode: ReasonCode.UNSPECIFIED }),
      Code.InvalidArgument,
      "REASON_CODE_REQUIRED",
    ],
    [
      "a malformed transaction id",
      () => ({ originalTransactionId: "tx-1" }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    ],
    [
      "a note over 500 characters",
      () => ({ note: "x".repeat(501) }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    ],
    [
      "a transaction the ledger does not have",
      () => ({ originalTransactionId: "00000000-0000-4000-8000-000000000000" }),
      Code.NotFound,
      "ORIGINAL_NOT_FOUND",
    ],
    [
      "another currency than the original's",
      () => ({ currency: "USD" }),
      Code.FailedPrecondition,
      "CURRENCY_MISMATCH",
    ],
    ["more than the original", () => ({ amount: "100.01" }), Code.FailedPrecondition, "EXCEEDS_REFUNDABLE"],
  ];
  it.each(cases)("%s, and writes nothing", async (_what, init, code, reason) => {
    const before = await written();
    await expectRefusal(
      platform.refundsAs("staff", "clerk-1").requestRefund(ask(payment, init())),
      code,
      reason,
    );
    expect(await written()).toEqual(before);
  });

  it("a transaction that is not settled (a pending one), and writes nothing", async () => {
    const pending = await platform.settledPayment("5.00");
    const { transaction } = await platform.ledgerAdmin.createPending({
      idempotencyKey: key(),
      debitAccountId: pending.customer.id,
      creditAccountId: pending.merchant.id,
      amount: "5.00",
      timeoutSeconds: 3600n,
    });
    const before = await written();
    await expectRefusal(
      platform
        .refundsAs("admin")
        .requestRefund(ask(pending, { originalTransactionId: transaction!.id, amount: "1.00" })),
      Code.FailedPrecondition,
      "ORIGINAL_NOT_SETTLED",
    );
    expect(await written()).toEqual(before);
  });

  it("a reversal as the original, and writes nothing", async () => {
    const paid = await platform.settledPayment("5.00");
    const { reversal } = await platform.ledgerAdmin.reverseTransaction({
      idempotencyKey: key(),
      transactionId: paid.transaction.id,
      amount: "1.00",
      reason: "correction",
    });
    const before = await written();
    await expectRefusal(
      platform
        .refundsAs("admin")
        .requestRefund(ask(paid, { originalTransactionId: reversal!.id, amount: "1.00" })),
      Code.FailedPrecondition,
      "ORIGINAL_NOT_REFUNDABLE",
    );
    expect(await written()).toEqual(before);
  });

  it("what the ledger already reversed outside the refunds service", async () => {
    const paid = await platform.settledPayment("5.00");
    await platform.ledgerAdmin.reverseTransaction({
      idempotencyKey: key(),
      transactionId: paid.transaction.id,
      amount: "4.00",
      reason: "chargeback",
    });
    await expectRefusal(
      platform.refundsAs("admin").requestRefund(ask(paid, { amount: "1.01" })),
      Code.FailedPrecondition,
      "EXCEEDS_REFUNDABLE",
    );
  });

  it("a second refund while one is in progress, and writes nothing", async () => {
    const paid = await platform.settledPayment("50.00");
    await platform.policy(paid.merchantId, [{ minAmount: "0", approvalsRequired: 1 }]);
    const first = await platform.request(paid, "10.00");
    expect(first.status).toBe(RefundStatus.AWAITING_APPROVAL);
    const before = await written();
    await expectRefusal(
      platform.refundsAs("staff", "clerk-1").requestRefund(ask(paid, { amount: "5.00" })),
      Code.FailedPrecondition,
      "REFUND_IN_PROGRESS",
    );
    expect(await written()).toEqual(before);
  });

  it("a user's refund of a payment that is not theirs, and a clerk's of another merchant", async () => {
    const before = await written();
    await expectRefusal(
      platform.refundsAs("user", "someone-else").requestRefund(ask(payment)),
      Code.PermissionDenied,
      "NOT_YOUR_TRANSACTION",
    );
    await expectRefusal(
      platform.refundsAs("staff", "clerk-9", "m-other").requestRefund(ask(payment)),
      Code.PermissionDenied,
      "NOT_YOUR_TRANSACTION",
    );
    await expectRefusal(
      platform.refundsAs("approver", "boss").requestRefund(ask(payment)),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
    expect(await written()).toEqual(before);
  });
});

describe("RequestRefund", () => {
  it("lets a customer refund their own payment, and a clerk of its merchant", async () => {
    const paid = await platform.settledPayment("20.00");
    await platform.policy(paid.merchantId, [{ minAmount: "0", approvalsRequired: 1 }]);
    const mine = await platform.request(paid, "5.00", platform.refundsAs("user", paid.customerId));
    expect(mine).toMatchObject({
      status: RefundStatus.AWAITING_APPROVAL,
      requestedBy: paid.customerId,
      requestedByRole: "user",
      merchantId: paid.merchantId,
      orderReference: paid.orderReference,
      amount: "5.00",
      originalAmount: "20.00",
      approvalsRequired: 1,
    });
    await platform
      .refundsAs("user", paid.customerId)
      .cancelRefund({ idempotencyKey: key(), refundId: mine.id, reason: "changed my mind" });
    const clerks = await platform.request(
      paid,
      "5.00",
      platform.refundsAs("staff", "clerk-2", paid.merchantId),
    );
    expect(clerks.requestedBy).toBe("clerk-2");
  });

  it("replays the first response for the same key and request, and refuses the key for another request", async () => {
    const paid = await platform.settledPayment("20.00");
    await platform.policy(paid.merchantId, [{ minAmount: "0", approvalsRequired: 1 }]);
    const request = ask(paid, { amount: "3.00" });
    const clerk = platform.refundsAs("staff", "clerk-3");
    const first = await clerk.requestRefund(request);
    const again = await clerk.requestRefund(request);
    expect(again.refund!.id).toBe(first.refund!.id);
    await expectRefusal(
      clerk.requestRefund({ ...request, amount: "4.00" }),
      Code.AlreadyExists,
      "IDEMPOTENCY_KEY_REUSED",
    );
    expect(
      await platform.count("refunds.refunds", sql.fragment`original_transaction_id = ${paid.transaction.id}`),
    ).toBe(1);
  });

  it("never lets concurrent requests for one transaction add up to more than its amount", async () => {
    const paid = await platform.settledPayment("100.00");
    await platform.policy(paid.merchantId, [{ minAmount: "0", approvalsRequired: 1 }]);
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        platform.refundsAs("staff", `clerk-${i}`).requestRefund(ask(paid, { amount: "60.00" })),
      ),
    );
    const accepted = attempts.filter((a) => a.status === "fulfilled");
    expect(accepted).toHaveLength(1);
    for (const refused of attempts.filter((a): a is PromiseRejectedResult => a.status === "rejected")) {
      expect(String(refused.reason)).toMatch(/REFUND_IN_PROGRESS/);
    }
    const committed = await platform.admin.oneFirst(sql.unsafe`
      SELECT committed_minor FROM refunds.refund_originals WHERE transaction_id = ${paid.transaction.id}
    `);
    expect(committed).toBe("6000");
  });

  it("gives a rejected refund's amount back to the remainder", async () => {
    const paid = await platform.settledPayment("100.00");
    await platform.policy(paid.merchantId, [{ minAmount: "0", approvalsRequired: 1 }]);
    const first = await platform.request(paid, "70.00");
    await platform
      .refundsAs("approver", "boss-1")
      .rejectRefund({ idempotencyKey: key(), refundId: first.id, reason: "no receipt" });
    // Rejected: its 70.00 is refundable again.
    const second = await platform.request(paid, "100.00");
    expect(second.status).toBe(RefundStatus.AWAITING_APPROVAL);
  });
});
