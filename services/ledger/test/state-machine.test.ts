import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { setTimeout as sleep } from "node:timers/promises";
import { Code } from "@connectrpc/connect";
import { TransactionStatus as S } from "@money/proto/ledger/v1/ledger_pb";
import { key, LedgerHarness } from "./support/ledger-harness.js";

let ledger: LedgerHarness;
beforeAll(async () => {
  // No sweeping: a hold past its timeout stays open until someone touches it.
  ledger = await LedgerHarness.start("lifecycle", { LEDGER_HOLD_SWEEP_MS: "3600000" });
});
afterAll(async () => ledger?.stop());

async function settledPayment(amount = "10.00") {
  const payer = await ledger.fundedAccount("100.00");
  const payee = await ledger.openAccount();
  const { transaction } = await ledger.adminClient.recordPayment({
    idempotencyKey: key(),
    payerAccountId: payer.id,
    payeeAccountId: payee.id,
    amount,
  });
  return transaction!;
}

const saga = () => ledger.as("service", "refunds-saga");
const move = (transactionId: string, toStatus: S, reason = "saga step") =>
  saga().transitionTransaction({ idempotencyKey: key(), transactionId, toStatus, reason });
const history = async (transactionId: string) =>
  (await ledger.as("auditor").listTransactionHistory({ transactionId })).changes.map((c) => [
    c.fromStatus,
    c.toStatus,
  ]);

describe("the transaction lifecycle", () => {
  it("walks a full refund: SETTLED → REFUND_INITIATED → REFUND_PROCESSING → REFUNDED, with who and why", async () => {
    const t = await settledPayment();
    await move(t.id, S.REFUND_INITIATED, "customer asked");
    await move(t.id, S.REFUND_PROCESSING, "approved by ops");
    await saga().reverseTransaction({ idempotencyKey: key(), transactionId: t.id, reason: "refund" });
    const done = await move(t.id, S.REFUNDED, "reversal posted");
    expect(done.transaction).toMatchObject({ status: S.REFUNDED, reversedAmount: "10.00" });
    expect(await history(t.id)).toEqual([
      [S.UNSPECIFIED, S.SETTLED],
      [S.SETTLED, S.REFUND_INITIATED],
      [S.REFUND_INITIATED, S.REFUND_PROCESSING],
      [S.REFUND_PROCESSING, S.REFUNDED],
    ]);
    const { changes } = await ledger.as("auditor").listTransactionHistory({ transactionId: t.id });
    expect(changes[2]).toMatchObject({
      performedBy: "refunds-saga",
      performedByRole: "service",
      reason: "approved by ops",
    });
  });

  it("returns a partly refunded transaction to SETTLED with its refunded amount, and refunds again later", async () => {
    const t = await settledPayment();
    await move(t.id, S.REFUND_INITIATED);
    await move(t.id, S.REFUND_PROCESSING);
    await saga().reverseTransaction({
      idempotencyKey: key(),
      transactionId: t.id,
      amount: "4.00",
      reason: "part",
    });
    await ledger.expectRefusedWithoutTrace(
      () => move(t.id, S.REFUNDED),
      Code.FailedPrecondition,
      "REFUND_INCOMPLETE",
    );
    const back = await move(t.id, S.SETTLED, "partial refund done");
    expect(back.transaction).toMatchObject({ status: S.SETTLED, reversedAmount: "4.00", amount: "10.00" });
    await move(t.id, S.REFUND_INITIATED);
    await move(t.id, S.REFUND_PROCESSING);
    await saga().reverseTransaction({ idempotencyKey: key(), transactionId: t.id, reason: "the rest" });
    await ledger.expectRefusedWithoutTrace(
      () => move(t.id, S.SETTLED),
      Code.FailedPrecondition,
      "INVALID_TRANSITION",
    );
    expect((await move(t.id, S.REFUNDED)).transaction?.status).toBe(S.REFUNDED);
  });

  it("records a failed refund and lets it be tried again", async () => {
    const t = await settledPayment();
    await move(t.id, S.REFUND_INITIATED);
    await move(t.id, S.REFUND_PROCESSING);
    await move(t.id, S.REFUND_FAILED, "card network declined");
    await move(t.id, S.REFUND_INITIATED, "retry");
    expect((await ledger.as("auditor").getTransaction({ transactionId: t.id })).transaction?.status).toBe(
      S.REFUND_INITIATED,
    );
  });

  it.each([
    [S.SETTLED, S.FAILED],
    [S.SETTLED, S.REFUNDED],
    [S.SETTLED, S.PROCESSING],
    [S.SETTLED, S.REFUND_PROCESSING],
  ])("refuses %p → %p with FAILED_PRECONDITION and writes nothing", async (_from, to) => {
    const t = await settledPayment();
    await ledger.expectRefusedWithoutTrace(
      () => move(t.id, to),
      Code.FailedPrecondition,
      "INVALID_TRANSITION",
    );
  });

  it("refuses to leave FAILED (FAILED → SETTLED) and REFUNDED", async () => {
    const payer = await ledger.fundedAccount("5.00");
    const payee = await ledger.openAccount();
    const { transaction } = await ledger.adminClient.createPending({
      idempotencyKey: key(),
      debitAccountId: payer.id,
      creditAccountId: payee.id,
      amount: "5.00",
      timeoutSeconds: 60n,
    });
    await move(transaction!.id, S.FAILED, "declined");
    await ledger.expectRefusedWithoutTrace(
      () => move(transaction!.id, S.SETTLED),
      Code.FailedPrecondition,
      "INVALID_TRANSITION",
    );
    const t = await settledPayment();
    await move(t.id, S.REFUND_INITIATED);
    await move(t.id, S.REFUND_PROCESSING);
    await saga().reverseTransaction({ idempotencyKey: key(), transactionId: t.id, reason: "all" });
    await move(t.id, S.REFUNDED);
    await ledger.expectRefusedWithoutTrace(
      () => move(t.id, S.REFUND_INITIATED),
      Code.FailedPrecondition,
      "INVALID_TRANSITION",
    );
  });

  it("posts a pending transaction when it moves PROCESSING → SETTLED, so status and money agree", async () => {
    const payer = await ledger.fundedAccount("5.00");
    const payee = await ledger.openAccount();
    const { transaction } = await ledger.adminClient.createPending({
      idempotencyKey: key(),
      debitAccountId: payer.id,
      creditAccountId: payee.id,
      amount: "5.00",
      timeoutSeconds: 60n,
    });
    const settled = await move(transaction!.id, S.SETTLED, "captured");
    expect(settled.transaction?.entries).toHaveLength(2);
    expect((await ledger.adminClient.getBalance({ accountId: payee.id })).balance?.posted).toBe("5.00");
  });

  it("refuses to post a pending transaction past its timeout even before the sweeper voids it", async () => {
    const payer = await ledger.fundedAccount("5.00");
    const payee = await ledger.openAccount();
    const { transaction } = await ledger.adminClient.createPending({
      idempotencyKey: key(),
      debitAccountId: payer.id,
      creditAccountId: payee.id,
      amount: "5.00",
      timeoutSeconds: 1n,
    });
    await sleep(1_100);
    await ledger.expectRefusedWithoutTrace(
      () => ledger.adminClient.postPending({ idempotencyKey: key(), transactionId: transaction!.id }),
      Code.FailedPrecondition,
      "PENDING_EXPIRED",
    );
    await ledger.adminClient.voidPending({
      idempotencyKey: key(),
      transactionId: transaction!.id,
      reason: "expired",
    });
  });

  it("requires a reason and a target status, and is for admins and services only", async () => {
    const t = await settledPayment();
    await ledger.expectRefusedWithoutTrace(
      () => move(t.id, S.REFUND_INITIATED, ""),
      Code.InvalidArgument,
      "REASON_REQUIRED",
    );
    await ledger.expectRefusedWithoutTrace(
      () => move(t.id, S.UNSPECIFIED),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.as("auditor").transitionTransaction({
          idempotencyKey: key(),
          transactionId: t.id,
          toStatus: S.REFUND_INITIATED,
          reason: "x",
        }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
  });
});
