import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { sql } from "@money/db";
import { RefundStatus } from "@money/proto/refunds/v1/refunds_pb";
import { expectRefusal, key, RefundPlatform, type Payment } from "../support/refund-platform.js";
import { TestClock } from "../support/test-clock.js";

/*
 * Maker-checker: the merchant's amount bands, approvals bound to the amount,
 * self-approval refused, rejection, cancellation and expiry, each decision
 * recorded with who, when and why.
 */

const clock = new TestClock();
let platform: RefundPlatform;

beforeAll(async () => {
  platform = await RefundPlatform.start("approvals", { loyalty: false, refunds: { clock } });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

/** A payment of a merchant whose refunds under 100 approve themselves, need one approver to 1000, two above. */
async function bandedPayment(amount: string): Promise<Payment> {
  const payment = await platform.settledPayment(amount);
  await platform.policy(
    payment.merchantId,
    [
      { minAmount: "0", approvalsRequired: 0 },
      { minAmount: "100.00", approvalsRequired: 1 },
      { minAmount: "1000.00", approvalsRequired: 2 },
    ],
    3600n,
  );
  return payment;
}

const approve = (as: string, refundId: string, amount: string, merchantId?: string) =>
  platform
    .refundsAs("approver", as, merchantId)
    .approveRefund({ idempotencyKey: key(), refundId, amount, reason: "receipt checked" });

describe("the merchant's bands", () => {
  it("approve a refund under the threshold by themselves and start its saga", async () => {
    const payment = await bandedPayment("500.00");
    const refund = await platform.request(payment, "99.99");
    expect(refund).toMatchObject({ status: RefundStatus.PROCESSING, approvalsRequired: 0, approvals: [] });
    expect(refund.history.map((h) => [RefundStatus[h.toStatus], h.actorId, h.reason])).toEqual([
      ["REQUESTED", "clerk-1", "customer returned the goods"],
      ["APPROVED", "clerk-1", "within the merchant's automatic approval band"],
      ["PROCESSING", "clerk-1", "approved: saga started"],
    ]);
  });

  it("hold a refund above it for one approver, who approves the exact amount", async () => {
    const payment = await bandedPayment("500.00");
    const refund = await platform.request(payment, "100.00");
    expect(refund).toMatchObject({ status: RefundStatus.AWAITING_APPROVAL, approvalsRequired: 1 });
    expect(refund.approvalExpiresAt).toBeDefined();

    await expectRefusal(
      approve("boss-1", refund.id, "99.00"),
      Code.InvalidArgument,
      "APPROVAL_AMOUNT_MISMATCH",
    );
    await expectRefusal(
      approve("boss-1", refund.id, "100.001"),
      Code.InvalidArgument,
      "APPROVAL_AMOUNT_MISMATCH",
    );
    const { refund: approved } = await approve("boss-1", refund.id, "100.00");
    expect(approved).toMatchObject({ status: RefundStatus.PROCESSING });
    expect(approved!.approvals).toEqual([
      expect.objectContaining({
        approverId: "boss-1",
        approverRole: "approver",
        approved: true,
        amount: "100.00",
        reason: "receipt checked",
      }),
    ]);
    expect(approved!.history.map((h) => [RefundStatus[h.toStatus], h.actorId])).toEqual([
      ["REQUESTED", "clerk-1"],
      ["AWAITING_APPROVAL", "clerk-1"],
      ["APPROVED", "boss-1"],
      ["PROCESSING", "boss-1"],
    ]);
    await expectRefusal(
      approve("boss-2", refund.id, "100.00"),
      Code.FailedPrecondition,
      "NOT_AWAITING_APPROVAL",
    );
    const audit = await platform.auditTrail("refunds", refund.id);
    expect(audit.find((e) => e.action === "refund.approval_recorded")).toMatchObject({
      actor: expect.objectContaining({ principalId: "boss-1", principalRole: "approver" }),
      reason: "receipt checked",
      approvalReference: `${refund.id}/boss-1`,
    });
  });

  it("need two different approvers for the top band", async () => {
    const payment = await bandedPayment("5000.00");
    const refund = await platform.request(payment, "1000.00");
    expect(refund.approvalsRequired).toBe(2);
    const { refund: once } = await approve("boss-1", refund.id, "1000.00");
    expect(once).toMatchObject({ status: RefundStatus.AWAITING_APPROVAL });
    await expectRefusal(approve("boss-1", refund.id, "1000.00"), Code.FailedPrecondition, "ALREADY_DECIDED");
    const { refund: twice } = await approve("boss-2", refund.id, "1000.00");
    expect(twice).toMatchObject({ status: RefundStatus.PROCESSING });
    expect(twice!.approvals.map((a) => a.approverId)).toEqual(["boss-1", "boss-2"]);
  });
});

describe("maker-checker", () => {
  it("refuses the requester's own approval, whatever role it holds now", async () => {
    const payment = await bandedPayment("500.00");
    const refund = await platform.request(payment, "200.00", platform.refundsAs("admin", "alice"));
    const before = await platform.count("refunds.refund_decisions");
    await expectRefusal(approve("alice", refund.id, "200.00"), Code.PermissionDenied, "SELF_APPROVAL");
    await expectRefusal(
      platform
        .refundsAs("staff", "clerk-1")
        .approveRefund({ idempotencyKey: key(), refundId: refund.id, amount: "200.00", reason: "" }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
    await expectRefusal(
      platform
        .refundsAs("admin", "root")
        .approveRefund({ idempotencyKey: key(), refundId: refund.id, amount: "200.00", reason: "" }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
    expect(await platform.count("refunds.refund_decisions")).toBe(before);
    expect((await platform.refund(refund.id)).status).toBe(RefundStatus.AWAITING_APPROVAL);
  });

  it("refuses an approver of another merchant", async () => {
    const payment = await bandedPayment("500.00");
    const refund = await platform.request(payment, "200.00");
    await expectRefusal(
      approve("boss-x", refund.id, "200.00", "m-other"),
      Code.PermissionDenied,
      "NOT_YOUR_MERCHANT",
    );
    const { refund: approved } = await approve("boss-y", refund.id, "200.00", payment.merchantId);
    expect(approved!.status).toBe(RefundStatus.PROCESSING);
  });

  it("rejects with a reason; the amount is refundable again", async () => {
    const payment = await bandedPayment("500.00");
    const refund = await platform.request(payment, "500.00");
    const boss = platform.refundsAs("approver", "boss-1");
    await expectRefusal(
      boss.rejectRefund({ idempotencyKey: key(), refundId: refund.id, reason: " " }),
      Code.InvalidArgument,
      "REASON_REQUIRED",
    );
    const { refund: rejected } = await boss.rejectRefund({
      idempotencyKey: key(),
      refundId: refund.id,
      reason: "goods not returned",
    });
    expect(rejected).toMatchObject({
      status: RefundStatus.REJECTED,
      failureReason: "REJECTED",
      failureMessage: "goods not returned",
    });
    expect(rejected!.approvals).toEqual([
      expect.objectContaining({ approverId: "boss-1", approved: false, reason: "goods not returned" }),
    ]);
    expect((await platform.request(payment, "500.00")).status).toBe(RefundStatus.AWAITING_APPROVAL);
  });

  it("lets the requester (or an admin) cancel a refund awaiting approval, nobody else", async () => {
    const payment = await bandedPayment("500.00");
    const refund = await platform.request(payment, "150.00");
    await expectRefusal(
      platform
        .refundsAs("staff", "clerk-2")
        .cancelRefund({ idempotencyKey: key(), refundId: refund.id, reason: "oops" }),
      Code.PermissionDenied,
      "NOT_YOUR_REFUND",
    );
    const { refund: canceled } = await platform
      .refundsAs("staff", "clerk-1")
      .cancelRefund({ idempotencyKey: key(), refundId: refund.id, reason: "wrong order" });
    expect(canceled!.status).toBe(RefundStatus.CANCELED);
    const auto = await platform.request(payment, "10.00");
    await expectRefusal(
      platform
        .refundsAs("admin")
        .cancelRefund({ idempotencyKey: key(), refundId: auto.id, reason: "too late" }),
      Code.FailedPrecondition,
      "NOT_CANCELABLE",
    );
  });

  it("expires a refund nobody decided on in time; approving it afterwards is refused", async () => {
    const payment = await bandedPayment("500.00");
    const refund = await platform.request(payment, "300.00");
    clock.advance(3601_000);
    const expired = await platform.waitForStatus(refund.id, RefundStatus.EXPIRED, 10_000);
    expect(expired).toMatchObject({ failureReason: "APPROVAL_EXPIRED" });
    expect(expired.history.at(-1)).toMatchObject({ actorId: "refunds-expiry", actorRole: "service" });
    await expectRefusal(
      approve("boss-1", refund.id, "300.00"),
      Code.FailedPrecondition,
      "NOT_AWAITING_APPROVAL",
    );
    expect((await platform.request(payment, "500.00")).status).toBe(RefundStatus.AWAITING_APPROVAL);
  });
});

describe("the decision tables", () => {
  it("are append-only for the service's own role", async () => {
    const payment = await bandedPayment("500.00");
    const refund = await platform.request(payment, "120.00");
    await approve("boss-1", refund.id, "120.00");
    const asService = (statement: ReturnType<typeof sql.unsafe>) =>
      platform.admin.transaction(async (tx) => {
        await tx.query(sql.unsafe`SET LOCAL ROLE refunds_service`);
        await tx.query(statement);
      });
    await expect(
      asService(sql.unsafe`UPDATE refunds.refund_decisions SET amount_minor = 1`),
    ).rejects.toThrow();
    await expect(asService(sql.unsafe`DELETE FROM refunds.refund_transitions`)).rejects.toThrow();
    await expect(
      platform.admin.query(sql.unsafe`UPDATE refunds.refund_transitions SET reason = 'x'`),
    ).rejects.toThrow(/append-only/);
  });
});

describe("approval policies", () => {
  it("are set by admins only, checked, audited, and the default applies to a merchant without one", async () => {
    const admin = platform.refundsAs("admin", "policy-admin");
    const { policy, merchantSpecific } = await admin.getApprovalPolicy({
      merchantId: "m-none",
      currency: "EUR",
    });
    expect(merchantSpecific).toBe(false);
    expect(policy!.bands).toEqual([expect.objectContaining({ minAmount: "0.00", approvalsRequired: 1 })]);

    const bad: [{ minAmount: string; approvalsRequired: number }[], string][] = [
      [[{ minAmount: "1.00", approvalsRequired: 0 }], "INVALID_POLICY"],
      [[{ minAmount: "0", approvalsRequired: 3 }], "INVALID_POLICY"],
      [
        [
          { minAmount: "0", approvalsRequired: 1 },
          { minAmount: "50", approvalsRequired: 0 },
        ],
        "INVALID_POLICY",
      ],
      [
        [
          { minAmount: "0", approvalsRequired: 0 },
          { minAmount: "0.001", approvalsRequired: 1 },
        ],
        "INVALID_AMOUNT",
      ],
    ];
    for (const [bands, reason] of bad) {
      await expectRefusal(
        admin.setApprovalPolicy({
          idempotencyKey: key(),
          policy: { merchantId: "m-p", currency: "EUR", bands, approvalTtlSeconds: 3600n },
          reason: "x",
        }),
        Code.InvalidArgument,
        reason,
      );
    }
    await expectRefusal(
      platform.refundsAs("approver", "boss").setApprovalPolicy({
        idempotencyKey: key(),
        policy: { merchantId: "m-p", currency: "EUR" },
        reason: "x",
      }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
    await admin.setApprovalPolicy({
      idempotencyKey: key(),
      policy: {
        merchantId: "m-p",
        currency: "EUR",
        bands: [
          { minAmount: "0", approvalsRequired: 0 },
          { minAmount: "250", approvalsRequired: 2 },
        ],
        approvalTtlSeconds: 7200n,
      },
      reason: "seasonal returns",
    });
    const set = await admin.getApprovalPolicy({ merchantId: "m-p", currency: "EUR" });
    expect(set.merchantSpecific).toBe(true);
    expect(set.policy!.bands.map((b) => [b.minAmount, b.approvalsRequired])).toEqual([
      ["0.00", 0],
      ["250.00", 2],
    ]);
    const [audit] = await platform.auditTrail("refunds", "m-p/EUR");
    expect(audit).toMatchObject({ action: "refund_policy.set", reason: "seasonal returns" });
    expect(audit!.before).toMatchObject({ merchant_id: "" });
    expect(audit!.after).toMatchObject({ merchant_id: "m-p", approval_ttl_seconds: "7200" });
  });
});

describe("queries", () => {
  it("list refunds by transaction, merchant, status, requester and time, page by page", async () => {
    const merchantId = `m-list-${key().slice(0, 6)}`;
    const payments = [];
    for (let i = 0; i < 5; i++) payments.push(await platform.settledPayment("300.00", { merchantId }));
    await platform.policy(merchantId, [
      { minAmount: "0", approvalsRequired: 0 },
      { minAmount: "100.00", approvalsRequired: 1 },
    ]);
    const start = clock.now();
    const refunds = [];
    for (const [i, p] of payments.entries()) {
      refunds.push(
        await platform.request(
          p,
          i % 2 === 0 ? "150.00" : "50.00",
          platform.refundsAs("staff", i < 3 ? "clerk-a" : "clerk-b"),
        ),
      );
    }
    const auditor = platform.refundsAs("auditor", "auditor-1");

    const byMerchant = [];
    let pageToken = "";
    do {
      const page = await auditor.listRefunds({ merchantId, pageSize: 2, pageToken });
      expect(page.refunds.length).toBeLessThanOrEqual(2);
      byMerchant.push(...page.refunds);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(byMerchant.map((r) => r.id)).toEqual(refunds.map((r) => r.id).reverse());

    const awaiting = await auditor.listRefunds({ merchantId, status: RefundStatus.AWAITING_APPROVAL });
    expect(awaiting.refunds.map((r) => r.id).sort()).toEqual(
      [refunds[0]!.id, refunds[2]!.id, refunds[4]!.id].sort(),
    );
    const byClerk = await auditor.listRefunds({ merchantId, requestedBy: "clerk-b" });
    expect(byClerk.refunds.map((r) => r.id).sort()).toEqual([refunds[3]!.id, refunds[4]!.id].sort());
    const byTransaction = await auditor.listRefunds({ originalTransactionId: payments[1]!.transaction.id });
    expect(byTransaction.refunds.map((r) => r.id)).toEqual([refunds[1]!.id]);
    const none = await auditor.listRefunds({
      merchantId,
      createdTo: { seconds: BigInt(Math.floor(start.getTime() / 1000) - 60) },
    });
    expect(none.refunds).toEqual([]);
    await expectRefusal(
      auditor.listRefunds({ pageToken: "not-a-token" }),
      Code.InvalidArgument,
      "INVALID_PAGE_TOKEN",
    );

    // A clerk sees only its own requests, whatever it asks for.
    const own = await platform
      .refundsAs("staff", "clerk-b")
      .listRefunds({ merchantId, requestedBy: "clerk-a" });
    expect(own.refunds.map((r) => r.requestedBy)).toEqual(["clerk-b", "clerk-b"]);

    const pending = await platform.refundsAs("approver", "boss-q", merchantId).listPendingApprovals({});
    expect(pending.refunds.map((r) => r.id)).toEqual([refunds[0]!.id, refunds[2]!.id, refunds[4]!.id]);
    const otherMerchant = await platform
      .refundsAs("approver", "boss-q", "m-elsewhere")
      .listPendingApprovals({});
    expect(otherMerchant.refunds).toEqual([]);
  });

  it("show a refund to the overseers and its requester, to nobody else", async () => {
    const payment = await platform.settledPayment("40.00");
    await platform.policy(payment.merchantId, [{ minAmount: "0", approvalsRequired: 1 }]);
    const refund = await platform.request(payment, "40.00", platform.refundsAs("user", payment.customerId));
    for (const [role, sub] of [
      ["user", payment.customerId],
      ["auditor", "a"],
      ["admin", "b"],
      ["approver", "c"],
    ] as const) {
      expect((await platform.refundsAs(role, sub).getRefund({ refundId: refund.id })).refund!.id).toBe(
        refund.id,
      );
    }
    await expectRefusal(
      platform.refundsAs("user", "another-customer").getRefund({ refundId: refund.id }),
      Code.NotFound,
      "REFUND_NOT_FOUND",
    );
    await expectRefusal(
      platform.refundsAs("auditor").getRefund({ refundId: "nope" }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
  });
});
