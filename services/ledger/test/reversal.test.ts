import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { inTransaction, sql } from "@money/db";
import { AccountType, Direction, TransactionKind, TransactionStatus } from "@money/proto/ledger/v1/ledger_pb";
import { cancelReversal, type CancelReversalInput } from "../src/domain/reversal/cancel-reversal.js";
import { OutboxEventSink } from "../src/events/outbox-event-sink.js";
import { expectRefusal, key, leg, LedgerHarness } from "./support/ledger-harness.js";

let ledger: LedgerHarness;
beforeAll(async () => {
  ledger = await LedgerHarness.start("reversal");
});
afterAll(async () => ledger?.stop());

async function payment(amount: string) {
  const customer = await ledger.fundedAccount("100.00");
  const merchant = await ledger.openAccount({ ownerRef: "merchant" });
  const { transaction } = await ledger.adminClient.recordPayment({
    idempotencyKey: key(),
    payerAccountId: customer.id,
    payeeAccountId: merchant.id,
    amount,
  });
  return { customer, merchant, original: transaction! };
}

const posted = async (accountId: string) =>
  (await ledger.adminClient.getBalance({ accountId })).balance!.posted;

describe("ReverseTransaction", () => {
  it("reverses a whole transaction with a new, linked, offsetting transaction", async () => {
    const { customer, merchant, original } = await payment("40.00");
    const saga = ledger.as("service", "refunds-saga");
    const { reversal, original: after } = await saga.reverseTransaction({
      idempotencyKey: key(),
      transactionId: original.id,
      reason: "refund R-1",
    });
    expect(reversal).toMatchObject({
      kind: TransactionKind.REVERSAL,
      status: TransactionStatus.SETTLED,
      reversesTransactionId: original.id,
      amount: "40.00",
      reason: "refund R-1",
      performedBy: "refunds-saga",
    });
    expect(reversal?.entries.map((e) => [e.accountId, e.direction, e.amount])).toEqual([
      [merchant.id, Direction.DEBIT, "40.00"],
      [customer.id, Direction.CREDIT, "40.00"],
    ]);
    expect(after).toMatchObject({ reversedAmount: "40.00", status: TransactionStatus.SETTLED });
    expect(await posted(customer.id)).toBe("100.00");
    expect(await posted(merchant.id)).toBe("0.00");
    // The original's entries are untouched: corrections are new entries.
    const read = await ledger.as("auditor").getTransaction({ transactionId: original.id });
    expect(read.transaction?.entries).toEqual(original.entries);
    expect(read.transaction?.reversedAmount).toBe("40.00");
    await ledger.expectBooksBalance();
  });

  it("reverses in parts and never past the original", async () => {
    const { customer, original } = await payment("10.00");
    const reverse = (amount: string) =>
      ledger.adminClient.reverseTransaction({
        idempotencyKey: key(),
        transactionId: original.id,
        amount,
        reason: "partial",
      });
    await reverse("3.00");
    await reverse("6.99");
    await ledger.expectRefusedWithoutTrace(
      () => reverse("0.02"),
      Code.FailedPrecondition,
      "REVERSAL_EXCEEDS_ORIGINAL",
    );
    const last = await reverse("0.01");
    expect(last.original?.reversedAmount).toBe("10.00");
    await ledger.expectRefusedWithoutTrace(
      () => reverse("0.01"),
      Code.FailedPrecondition,
      "REVERSAL_EXCEEDS_ORIGINAL",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.reverseTransaction({
          idempotencyKey: key(),
          transactionId: original.id,
          reason: "rest",
        }),
      Code.FailedPrecondition,
      "REVERSAL_EXCEEDS_ORIGINAL",
    );
    expect(await posted(customer.id)).toBe("100.00");
    await ledger.expectBooksBalance();
  });

  it("spreads a partial reversal of a multi-leg transaction over its legs, never past any leg", async () => {
    const customer = await ledger.fundedAccount("100.00");
    const merchant = await ledger.openAccount();
    const fees = await ledger.openAccount({ type: AccountType.REVENUE });
    const tax = await ledger.openAccount({ type: AccountType.LIABILITY });
    const { transaction } = await ledger.adminClient.postTransaction({
      idempotencyKey: key(),
      transaction: {
        legs: [
          leg(customer.id, "debit", "0.03"),
          leg(merchant.id, "credit", "0.01"),
          leg(fees.id, "credit", "0.01"),
          leg(tax.id, "credit", "0.01"),
        ],
      },
    });
    for (let i = 0; i < 3; i++) {
      await ledger.adminClient.reverseTransaction({
        idempotencyKey: key(),
        transactionId: transaction!.id,
        amount: "0.01",
        reason: `part ${i}`,
      });
    }
    for (const account of [merchant, fees, tax]) expect(await posted(account.id)).toBe("0.00");
    expect(await posted(customer.id)).toBe("100.00");
    await ledger.expectBooksBalance();
  });

  it("holds the total under concurrent reversals", async () => {
    const { original } = await payment("10.00");
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        ledger.adminClient.reverseTransaction({
          idempotencyKey: key(),
          transactionId: original.id,
          amount: "3.00",
          reason: "race",
        }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    const reversed = await ledger.admin.oneFirst(
      sql.unsafe`SELECT reversed_minor FROM ledger.transactions WHERE id = ${original.id}`,
    );
    expect(reversed).toBe("900");
    await ledger.expectBooksBalance();
  });

  it("requires a reason, and refuses reversals of reversals, unknown transactions and users", async () => {
    const { original } = await payment("5.00");
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.reverseTransaction({
          idempotencyKey: key(),
          transactionId: original.id,
          reason: "",
        }),
      Code.InvalidArgument,
      "REASON_REQUIRED",
    );
    const { reversal } = await ledger.adminClient.reverseTransaction({
      idempotencyKey: key(),
      transactionId: original.id,
      amount: "1",
      reason: "r",
    });
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.reverseTransaction({
          idempotencyKey: key(),
          transactionId: reversal!.id,
          reason: "r",
        }),
      Code.FailedPrecondition,
      "NOT_REVERSIBLE",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.reverseTransaction({
          idempotencyKey: key(),
          transactionId: "00000000-0000-4000-8000-000000000000",
          reason: "r",
        }),
      Code.NotFound,
      "TRANSACTION_NOT_FOUND",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.reverseTransaction({
          idempotencyKey: key(),
          transactionId: original.id,
          amount: "0.001",
          reason: "r",
        }),
      Code.InvalidArgument,
      "INVALID_AMOUNT",
    );
    await expectRefusal(
      ledger
        .as("user")
        .reverseTransaction({ idempotencyKey: key(), transactionId: original.id, reason: "r" }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
  });

  it("refuses to reverse a pending transaction that posted nothing", async () => {
    const payer = await ledger.fundedAccount("5.00");
    const payee = await ledger.openAccount();
    const { transaction } = await ledger.adminClient.createPending({
      idempotencyKey: key(),
      debitAccountId: payer.id,
      creditAccountId: payee.id,
      amount: "1.00",
      timeoutSeconds: 60n,
    });
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.reverseTransaction({
          idempotencyKey: key(),
          transactionId: transaction!.id,
          reason: "r",
        }),
      Code.FailedPrecondition,
      "NOT_REVERSIBLE",
    );
  });

  it("records performed_by and the reason in the audit trail", async () => {
    const { original } = await payment("2.00");
    const { reversal } = await ledger.as("service", "refunds-saga").reverseTransaction({
      idempotencyKey: key(),
      transactionId: original.id,
      reason: "customer returned the goods",
    });
    const rows = await ledger.admin.any(sql.unsafe`
      SELECT performed_by, performed_by_role, reason, reverses_transaction_id
      FROM ledger.transactions WHERE id = ${reversal!.id}`);
    expect(rows).toEqual([
      {
        performed_by: "refunds-saga",
        performed_by_role: "service",
        reason: "customer returned the goods",
        reverses_transaction_id: original.id,
      },
    ]);
  });
});

// Cancelling a reversal is the refund saga's compensation; its participant calls the use case directly.
describe("cancelReversal", () => {
  const cancel = (input: CancelReversalInput) =>
    inTransaction(ledger.service.deps.pool, (tx) =>
      cancelReversal(
        tx,
        {
          caller: { principalId: "refunds-saga", role: "service", requestId: "test" },
          events: new OutboxEventSink(ledger.service.deps.audit),
        },
        input,
      ),
    );
  const reasonOf = (promise: Promise<unknown>) =>
    promise.then(
      () => "not refused",
      (error: { reason?: string }) => error.reason,
    );

  it("puts the money back, makes the original refundable again, and tells the topic under the original's key", async () => {
    const { customer, merchant, original } = await payment("30.00");
    const { reversal } = await ledger.as("service", "refunds-saga").reverseTransaction({
      idempotencyKey: key(),
      transactionId: original.id,
      amount: "30.00",
      reason: "refund R-9",
    });
    const { cancellation, original: after } = await cancel({
      transactionId: original.id,
      reversalTransactionId: reversal!.id,
      reason: "loyalty refused the refund",
    });
    expect(after.reversedMinor).toBe(0n);
    expect(cancellation.reversesTransactionId).toBe(reversal!.id);
    expect(await posted(customer.id)).toBe("70.00");
    expect(await posted(merchant.id)).toBe("30.00");
    const event = await ledger.admin.one(sql.unsafe`
      SELECT event_type, message_key FROM ledger.outbox_written WHERE topic = 'ledger.transactions' ORDER BY id DESC LIMIT 1`);
    expect(event).toEqual({ event_type: "ledger.v1.ReversalCancelled", message_key: original.id });
    // The whole amount can be refunded again.
    const { original: refundedAgain } = await ledger.as("service", "refunds-saga").reverseTransaction({
      idempotencyKey: key(),
      transactionId: original.id,
      reason: "refund R-10",
    });
    expect(refundedAgain?.reversedAmount).toBe("30.00");
    await ledger.expectBooksBalance();
  });

  it("refuses to cancel a cancellation, or a reversal of another transaction, and writes nothing", async () => {
    const { original } = await payment("5.00");
    const other = await payment("5.00");
    const { reversal } = await ledger.as("service", "refunds-saga").reverseTransaction({
      idempotencyKey: key(),
      transactionId: original.id,
      reason: "refund R-11",
    });
    const { cancellation } = await cancel({
      transactionId: original.id,
      reversalTransactionId: reversal!.id,
      reason: "compensate",
    });
    const before = await ledger.footprint();
    expect(
      await reasonOf(
        cancel({ transactionId: reversal!.id, reversalTransactionId: cancellation.id, reason: "again" }),
      ),
    ).toBe("NOT_REVERSIBLE");
    expect(
      await reasonOf(
        cancel({ transactionId: other.original.id, reversalTransactionId: reversal!.id, reason: "x" }),
      ),
    ).toBe("NOT_REVERSIBLE");
    expect(
      await reasonOf(
        cancel({
          transactionId: "00000000-0000-4000-8000-000000000000",
          reversalTransactionId: reversal!.id,
          reason: "x",
        }),
      ),
    ).toBe("TRANSACTION_NOT_FOUND");
    expect(
      await reasonOf(cancel({ transactionId: original.id, reversalTransactionId: reversal!.id, reason: "" })),
    ).toBe("REASON_REQUIRED");
    expect(await ledger.footprint()).toEqual(before);
  });
});
