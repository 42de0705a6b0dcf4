import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { HoldStatus, TransactionKind, TransactionStatus } from "@money/proto/ledger/v1/ledger_pb";
import { key, LedgerHarness } from "./support/ledger-harness.js";
import { waitUntil } from "@money/testkit";

let ledger: LedgerHarness;
beforeAll(async () => {
  // Sweep expired holds every 100 ms so the timeout test is quick.
  ledger = await LedgerHarness.start("two_phase", { LEDGER_HOLD_SWEEP_MS: "100" });
});
afterAll(async () => ledger?.stop());

async function holdBetween(amount: string, timeoutSeconds = 3600n, funded = "100.00") {
  const payer = await ledger.fundedAccount(funded);
  const payee = await ledger.openAccount({ ownerRef: "merchant" });
  const { transaction } = await ledger.adminClient.createPending({
    idempotencyKey: key(),
    debitAccountId: payer.id,
    creditAccountId: payee.id,
    amount,
    timeoutSeconds,
  });
  return { payer, payee, pending: transaction! };
}

const balanceOf = async (accountId: string) => (await ledger.adminClient.getBalance({ accountId })).balance!;

describe("CreatePending", () => {
  it("holds funds: posted stays, pending and available move", async () => {
    const { payer, payee, pending } = await holdBetween("30.00");
    expect(pending).toMatchObject({
      kind: TransactionKind.PENDING,
      status: TransactionStatus.PROCESSING,
      amount: "30.00",
      entries: [],
      hold: { amount: "30.00", postedAmount: "", status: HoldStatus.OPEN },
    });
    expect(await balanceOf(payer.id)).toMatchObject({
      posted: "100.00",
      pending: "-30.00",
      available: "70.00",
      pendingDebits: "30.00",
      version: 1n,
    });
    expect(await balanceOf(payee.id)).toMatchObject({ posted: "0.00", pending: "30.00", available: "0.00" });
  });

  it("counts holds against the limit: a second hold past the available balance is refused", async () => {
    const { payer, payee } = await holdBetween("70.00");
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.createPending({
          idempotencyKey: key(),
          debitAccountId: payer.id,
          creditAccountId: payee.id,
          amount: "30.01",
          timeoutSeconds: 60n,
        }),
      Code.FailedPrecondition,
      "INSUFFICIENT_FUNDS",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.transfer({
          idempotencyKey: key(),
          fromAccountId: payer.id,
          toAccountId: payee.id,
          amount: "30.01",
        }),
      Code.FailedPrecondition,
      "INSUFFICIENT_FUNDS",
    );
  });

  it("refuses a timeout outside 1 second to 30 days", async () => {
    const payer = await ledger.fundedAccount("1.00");
    const payee = await ledger.openAccount();
    for (const timeoutSeconds of [0n, 30n * 24n * 3600n + 1n]) {
      await ledger.expectRefusedWithoutTrace(
        () =>
          ledger.adminClient.createPending({
            idempotencyKey: key(),
            debitAccountId: payer.id,
            creditAccountId: payee.id,
            amount: "1.00",
            timeoutSeconds,
          }),
        Code.InvalidArgument,
        "INVALID_ARGUMENT",
      );
    }
  });
});

describe("PostPending", () => {
  it("posts the full amount: entries written, hold released, SETTLED", async () => {
    const { payer, payee, pending } = await holdBetween("30.00");
    const { transaction } = await ledger.adminClient.postPending({
      idempotencyKey: key(),
      transactionId: pending.id,
    });
    expect(transaction).toMatchObject({
      id: pending.id,
      status: TransactionStatus.SETTLED,
      amount: "30.00",
      hold: { status: HoldStatus.POSTED, postedAmount: "30.00" },
    });
    expect(transaction?.entries.map((e) => [e.accountId, e.amount, e.balanceAfter])).toEqual([
      [payer.id, "30.00", "70.00"],
      [payee.id, "30.00", "30.00"],
    ]);
    expect(await balanceOf(payer.id)).toMatchObject({ posted: "70.00", pending: "0.00", available: "70.00" });
    expect(await balanceOf(payee.id)).toMatchObject({ posted: "30.00", pending: "0.00", available: "30.00" });
    await ledger.expectBooksBalance();
  });

  it("posts part of the hold and releases the rest", async () => {
    const { payer, pending } = await holdBetween("30.00");
    const { transaction } = await ledger.adminClient.postPending({
      idempotencyKey: key(),
      transactionId: pending.id,
      amount: "12.5",
    });
    expect(transaction).toMatchObject({ amount: "12.50", hold: { amount: "30.00", postedAmount: "12.50" } });
    expect(await balanceOf(payer.id)).toMatchObject({ posted: "87.50", pending: "0.00", available: "87.50" });
    await ledger.expectBooksBalance();
  });

  it("refuses more than was held, a second post, and a post after a void", async () => {
    const { pending } = await holdBetween("30.00");
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.postPending({ idempotencyKey: key(), transactionId: pending.id, amount: "30.01" }),
      Code.InvalidArgument,
      "AMOUNT_EXCEEDS_PENDING",
    );
    await ledger.adminClient.postPending({
      idempotencyKey: key(),
      transactionId: pending.id,
      amount: "1.00",
    });
    await ledger.expectRefusedWithoutTrace(
      () => ledger.adminClient.postPending({ idempotencyKey: key(), transactionId: pending.id }),
      Code.FailedPrecondition,
      "PENDING_NOT_OPEN",
    );
    const other = await holdBetween("5.00");
    await ledger.adminClient.voidPending({
      idempotencyKey: key(),
      transactionId: other.pending.id,
      reason: "cancelled",
    });
    await ledger.expectRefusedWithoutTrace(
      () => ledger.adminClient.postPending({ idempotencyKey: key(), transactionId: other.pending.id }),
      Code.FailedPrecondition,
      "PENDING_NOT_OPEN",
    );
  });

  it("refuses an unknown pending transaction and a posted (non-pending) one", async () => {
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.postPending({
          idempotencyKey: key(),
          transactionId: "00000000-0000-4000-8000-000000000000",
        }),
      Code.NotFound,
      "TRANSACTION_NOT_FOUND",
    );
    const from = await ledger.fundedAccount("1.00");
    const to = await ledger.openAccount();
    const posted = await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: from.id,
      toAccountId: to.id,
      amount: "1",
    });
    await ledger.expectRefusedWithoutTrace(
      () => ledger.adminClient.postPending({ idempotencyKey: key(), transactionId: posted.transaction!.id }),
      Code.NotFound,
      "TRANSACTION_NOT_FOUND",
    );
  });
});

describe("VoidPending and expiry", () => {
  it("voids a hold: the funds come back, FAILED, with the reason in the history", async () => {
    const { payer, pending } = await holdBetween("30.00");
    const { transaction } = await ledger.adminClient.voidPending({
      idempotencyKey: key(),
      transactionId: pending.id,
      reason: "customer cancelled",
    });
    expect(transaction).toMatchObject({
      status: TransactionStatus.FAILED,
      hold: { status: HoldStatus.VOIDED },
    });
    expect(await balanceOf(payer.id)).toMatchObject({
      posted: "100.00",
      pending: "0.00",
      available: "100.00",
    });
    const { changes } = await ledger.as("auditor").listTransactionHistory({ transactionId: pending.id });
    expect(changes.map((c) => [c.fromStatus, c.toStatus, c.reason, c.performedBy])).toEqual([
      [TransactionStatus.UNSPECIFIED, TransactionStatus.PROCESSING, "funds held", "admin-1"],
      [TransactionStatus.PROCESSING, TransactionStatus.FAILED, "customer cancelled", "admin-1"],
    ]);
  });

  it("voids a hold on a frozen account, since that gives funds back", async () => {
    const { payer, pending } = await holdBetween("10.00");
    await ledger.adminClient.freezeAccount({ idempotencyKey: key(), accountId: payer.id, reason: "review" });
    await ledger.expectRefusedWithoutTrace(
      () => ledger.adminClient.postPending({ idempotencyKey: key(), transactionId: pending.id }),
      Code.FailedPrecondition,
      "ACCOUNT_FROZEN",
    );
    await ledger.adminClient.voidPending({
      idempotencyKey: key(),
      transactionId: pending.id,
      reason: "frozen",
    });
  });

  it("voids itself once past its timeout, and can no longer be posted", async () => {
    const { payer, pending } = await holdBetween("40.00", 1n);
    await waitUntil("the hold to expire", async () => {
      const { transaction } = await ledger.as("auditor").getTransaction({ transactionId: pending.id });
      return transaction?.status === TransactionStatus.FAILED;
    });
    const { transaction } = await ledger.as("auditor").getTransaction({ transactionId: pending.id });
    expect(transaction?.hold?.status).toBe(HoldStatus.EXPIRED);
    expect(await balanceOf(payer.id)).toMatchObject({ available: "100.00", pending: "0.00" });
    const { changes } = await ledger.as("auditor").listTransactionHistory({ transactionId: pending.id });
    expect(changes.at(-1)).toMatchObject({
      toStatus: TransactionStatus.FAILED,
      reason: "expired",
      performedBy: "ledger.hold-expiry",
    });
    await ledger.expectRefusedWithoutTrace(
      () => ledger.adminClient.postPending({ idempotencyKey: key(), transactionId: pending.id }),
      Code.FailedPrecondition,
      "PENDING_NOT_OPEN",
    );
  });
});
