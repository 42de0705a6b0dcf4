import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { sql } from "@money/db";
import {
  AccountType,
  Direction,
  TransactionKind,
  TransactionPurpose,
  TransactionStatus,
} from "@money/proto/ledger/v1/ledger_pb";
import { expectRefusal, key, leg, LedgerHarness } from "./support/ledger-harness.js";

let ledger: LedgerHarness;
beforeAll(async () => {
  ledger = await LedgerHarness.start("post");
});
afterAll(async () => ledger?.stop());

describe("PostTransaction", () => {
  it("posts a balanced multi-leg entry atomically, with balances before and after and versions", async () => {
    const customer = await ledger.fundedAccount("100.00");
    const merchant = await ledger.openAccount({ ownerRef: "merchant" });
    const fees = await ledger.openAccount({ type: AccountType.REVENUE, ownerRef: "platform" });
    const { transaction, balances } = await ledger.adminClient.postTransaction({
      idempotencyKey: key(),
      transaction: {
        legs: [
          leg(customer.id, "debit", "30.00", { expectedVersion: 1n, currency: "EUR" }),
          leg(merchant.id, "credit", "29.10"),
          leg(fees.id, "credit", "0.9"),
        ],
        externalRef: "order-17",
        description: "checkout",
        metadata: { order: "17", channel: "web" },
        effectiveAt: timestampFromDate(new Date("2026-01-31T23:59:59Z")),
      },
    });
    expect(transaction).toMatchObject({
      kind: TransactionKind.POSTED,
      purpose: TransactionPurpose.JOURNAL,
      status: TransactionStatus.SETTLED,
      currency: "EUR",
      amount: "30.00",
      reversedAmount: "0.00",
      externalRef: "order-17",
      metadata: { order: "17", channel: "web" },
      performedBy: "admin-1",
    });
    expect(transaction?.effectiveAt?.seconds).toBe(BigInt(Date.parse("2026-01-31T23:59:59Z") / 1000));
    expect(
      transaction?.entries.map((e) => [
        e.accountId,
        e.direction,
        e.amount,
        e.balanceBefore,
        e.balanceAfter,
        e.accountVersion,
      ]),
    ).toEqual([
      [customer.id, Direction.DEBIT, "30.00", "100.00", "70.00", 2n],
      [merchant.id, Direction.CREDIT, "29.10", "0.00", "29.10", 1n],
      [fees.id, Direction.CREDIT, "0.90", "0.00", "0.90", 1n],
    ]);
    expect(
      Object.fromEntries(balances.map((b) => [b.accountId, [b.posted, b.available, b.version]])),
    ).toEqual({
      [customer.id]: ["70.00", "70.00", 2n],
      [merchant.id]: ["29.10", "29.10", 1n],
      [fees.id]: ["0.90", "0.90", 1n],
    });
    const read = await ledger.as("auditor").getTransaction({ transactionId: transaction!.id });
    expect(read.transaction?.entries).toHaveLength(3);
    expect(read.transaction?.amount).toBe("30.00");
    await ledger.expectBooksBalance();
  });

  it("balances each currency on its own in a multi-currency entry", async () => {
    const eurCash = await ledger.openAccount({ type: AccountType.ASSET, currency: "EUR" });
    const usdCash = await ledger.openAccount({ type: AccountType.ASSET, currency: "USD" });
    const eurFx = await ledger.openAccount({ type: AccountType.EQUITY, currency: "EUR" });
    const usdFx = await ledger.openAccount({ type: AccountType.EQUITY, currency: "USD" });
    const { transaction } = await ledger.adminClient.postTransaction({
      idempotencyKey: key(),
      transaction: {
        legs: [
          leg(eurCash.id, "credit", "100.00"),
          leg(eurFx.id, "debit", "100.00"),
          leg(usdFx.id, "credit", "108.25"),
          leg(usdCash.id, "debit", "108.25"),
        ],
      },
    });
    expect(transaction).toMatchObject({ currency: "", amount: "" });
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.postTransaction({
          idempotencyKey: key(),
          transaction: { legs: [leg(eurCash.id, "credit", "100.00"), leg(usdCash.id, "debit", "100.00")] },
        }),
      Code.InvalidArgument,
      "UNBALANCED_TRANSACTION",
    );
  });

  it("fails with ABORTED and writes nothing when an expected account version is stale", async () => {
    const from = await ledger.fundedAccount("10.00");
    const to = await ledger.openAccount();
    const post = (expectedVersion: bigint) =>
      ledger.adminClient.postTransaction({
        idempotencyKey: key(),
        transaction: {
          legs: [leg(from.id, "debit", "1.00", { expectedVersion }), leg(to.id, "credit", "1.00")],
        },
      });
    await post(1n);
    await ledger.expectRefusedWithoutTrace(() => post(1n), Code.Aborted, "ACCOUNT_VERSION_MISMATCH");
    await post(2n);
  });

  it("replays the same response for the same key and refuses the key for another request", async () => {
    const from = await ledger.fundedAccount("10.00");
    const to = await ledger.openAccount();
    const request = {
      idempotencyKey: key(),
      transaction: { legs: [leg(from.id, "debit", "2.00"), leg(to.id, "credit", "2.00")] },
    };
    const first = await ledger.adminClient.postTransaction(request);
    const again = await ledger.adminClient.postTransaction(request);
    expect(again).toEqual(first);
    const count = await ledger.admin.oneFirst(
      sql.unsafe`SELECT count(*) FROM ledger.entries WHERE account_id = ${to.id}`,
    );
    expect(count).toBe("1");
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.postTransaction({
          ...request,
          transaction: { legs: [leg(from.id, "debit", "3.00"), leg(to.id, "credit", "3.00")] },
        }),
      Code.AlreadyExists,
      "IDEMPOTENCY_KEY_REUSED",
    );
  });

  it("may not be called by users or auditors", async () => {
    for (const role of ["user", "auditor"] as const) {
      await expectRefusal(
        ledger.as(role).postTransaction({ idempotencyKey: key(), transaction: { legs: [] } }),
        Code.PermissionDenied,
        "PERMISSION_DENIED",
      );
    }
  });
});

describe("RecordPayment and Transfer", () => {
  it("records a payment as a debit of the payer and a credit of the payee", async () => {
    const payer = await ledger.fundedAccount("20.00");
    const payee = await ledger.openAccount({ ownerRef: "shop" });
    const paid = await ledger.as("service", "checkout").recordPayment({
      idempotencyKey: key(),
      payerAccountId: payer.id,
      payeeAccountId: payee.id,
      amount: "12.34",
      externalRef: "pay-1",
    });
    expect(paid.transaction).toMatchObject({
      purpose: TransactionPurpose.PAYMENT,
      amount: "12.34",
      performedBy: "checkout",
    });
    expect(paid.transaction?.entries.map((e) => [e.accountId, e.direction])).toEqual([
      [payer.id, Direction.DEBIT],
      [payee.id, Direction.CREDIT],
    ]);
    expect(paid.balances.map((b) => b.posted).sort()).toEqual(["12.34", "7.66"]);
  });

  it("transfers between accounts of one currency and refuses across currencies", async () => {
    const from = await ledger.fundedAccount("5.00");
    const to = await ledger.openAccount();
    const moved = await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: from.id,
      toAccountId: to.id,
      amount: "5",
    });
    expect(moved.transaction).toMatchObject({ purpose: TransactionPurpose.TRANSFER, amount: "5.00" });
    const dollars = await ledger.openAccount({ currency: "USD" });
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.transfer({
          idempotencyKey: key(),
          fromAccountId: to.id,
          toAccountId: dollars.id,
          amount: "1",
        }),
      Code.FailedPrecondition,
      "CURRENCY_MISMATCH",
    );
  });
});
