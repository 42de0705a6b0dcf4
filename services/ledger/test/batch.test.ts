import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { sql } from "@money/db";
import { AccountType } from "@money/proto/ledger/v1/ledger_pb";
import { key, leg, LedgerHarness } from "./support/ledger-harness.js";

let ledger: LedgerHarness;
beforeAll(async () => {
  ledger = await LedgerHarness.start("batch");
});
afterAll(async () => ledger?.stop());

describe("PostTransactions", () => {
  it("posts 1,000 transactions in one call, each seeing the balances the earlier ones left", async () => {
    const cash = await ledger.openAccount({ type: AccountType.ASSET, ownerRef: "bank" });
    const wallets = [];
    for (let i = 0; i < 10; i++) wallets.push(await ledger.openAccount({ debitsMustNotExceedCredits: true }));
    // Fund each wallet with 1.00, then move 0.01 around the ring 990 times.
    const transactions = wallets.map((w) => ({
      legs: [leg(cash.id, "debit", "1.00"), leg(w.id, "credit", "1.00")],
    }));
    for (let i = 0; i < 990; i++) {
      const a = wallets[i % 10]!;
      const b = wallets[(i + 1) % 10]!;
      transactions.push({ legs: [leg(a.id, "debit", "0.01"), leg(b.id, "credit", "0.01")] });
    }
    const response = await ledger.adminClient.postTransactions({
      idempotencyKey: key(),
      transactions,
      atomic: true,
    });
    expect(response.postedCount).toBe(1000);
    expect(response.failedCount).toBe(0);
    expect(response.results.map((r) => r.index)).toEqual([...Array(1000).keys()]);
    const last = response.results[999]!.outcome;
    expect(last.case).toBe("transactionId");
    const { transaction } = await ledger
      .as("auditor")
      .getTransaction({ transactionId: last.value as string });
    expect(transaction?.entries.map((e) => e.amount)).toEqual(["0.01", "0.01"]);
    const versions = await ledger.admin.anyFirst(sql.unsafe`
      SELECT version FROM ledger.balances WHERE account_id = ANY(${sql.array(
        wallets.map((w) => w.id),
        "uuid",
      )}) ORDER BY version`);
    expect(versions).toEqual(Array(10).fill("199"));
    await ledger.expectBooksBalance();
  });

  it("posts the good items and reports each bad one when not atomic", async () => {
    const from = await ledger.fundedAccount("3.00");
    const to = await ledger.openAccount();
    const response = await ledger.adminClient.postTransactions({
      idempotencyKey: key(),
      atomic: false,
      transactions: [
        { legs: [leg(from.id, "debit", "2.00"), leg(to.id, "credit", "2.00")] },
        { legs: [leg(from.id, "debit", "2.00"), leg(to.id, "credit", "2.00")] }, // only 1.00 left
        { legs: [leg(from.id, "debit", "1e3"), leg(to.id, "credit", "1e3")] },
        {
          legs: [
            leg(from.id, "debit", "1.00"),
            leg("00000000-0000-4000-8000-000000000000", "credit", "1.00"),
          ],
        },
        { legs: [leg(from.id, "debit", "1.00")] },
        { legs: [leg(from.id, "debit", "1.00"), leg(to.id, "credit", "1.00")] },
      ],
    });
    expect(
      response.results.map((r) => (r.outcome.case === "error" ? r.outcome.value.reason : "posted")),
    ).toEqual([
      "posted",
      "INSUFFICIENT_FUNDS",
      "INVALID_AMOUNT",
      "ACCOUNT_NOT_FOUND",
      "TOO_FEW_LEGS",
      "posted",
    ]);
    expect(response).toMatchObject({ postedCount: 2, failedCount: 4 });
    const balance = await ledger.adminClient.getBalance({ accountId: from.id });
    expect(balance.balance?.posted).toBe("0.00");
    await ledger.expectBooksBalance();
  });

  it("writes nothing at all when atomic and one item fails, naming the item", async () => {
    const from = await ledger.fundedAccount("3.00");
    const to = await ledger.openAccount();
    const error = await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.postTransactions({
          idempotencyKey: key(),
          atomic: true,
          transactions: [
            { legs: [leg(from.id, "debit", "2.00"), leg(to.id, "credit", "2.00")] },
            { legs: [leg(from.id, "debit", "2.00"), leg(to.id, "credit", "2.00")] },
          ],
        }),
      Code.FailedPrecondition,
      "INSUFFICIENT_FUNDS",
    );
    expect(error.rawMessage).toMatch(/^INSUFFICIENT_FUNDS: transactions\[1\]: /);
  });

  it("refuses an empty batch and one of more than 1,000", async () => {
    const from = await ledger.fundedAccount("1.00");
    const to = await ledger.openAccount();
    const one = { legs: [leg(from.id, "debit", "0.01"), leg(to.id, "credit", "0.01")] };
    await ledger.expectRefusedWithoutTrace(
      () => ledger.adminClient.postTransactions({ idempotencyKey: key(), transactions: [] }),
      Code.InvalidArgument,
      "TOO_MANY_ITEMS",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.postTransactions({ idempotencyKey: key(), transactions: Array(1001).fill(one) }),
      Code.InvalidArgument,
      "TOO_MANY_ITEMS",
    );
  });
});
