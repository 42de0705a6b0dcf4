import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { setTimeout as sleep } from "node:timers/promises";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { TransactionStatus } from "@money/proto/ledger/v1/ledger_pb";
import { expectRefusal, key, leg, LedgerHarness } from "./support/ledger-harness.js";

let ledger: LedgerHarness;
beforeAll(async () => {
  ledger = await LedgerHarness.start("balances");
});
afterAll(async () => ledger?.stop());

const auditor = () => ledger.as("auditor");

describe("GetBalance", () => {
  it("reports posted, pending and available, and the balance as of past times", async () => {
    const account = await ledger.fundedAccount("10.00", { ownerRef: "carol" });
    const sink = await ledger.openAccount();
    const firstAt = (await auditor().listEntries({ accountId: account.id })).entries[0]!.postedAt!;
    await sleep(15);
    const second = await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: account.id,
      toAccountId: sink.id,
      amount: "2.50",
    });
    const secondAt = second.transaction!.createdAt!;
    await ledger.adminClient.createPending({
      idempotencyKey: key(),
      debitAccountId: account.id,
      creditAccountId: sink.id,
      amount: "1.25",
      timeoutSeconds: 600n,
    });

    expect((await auditor().getBalance({ accountId: account.id })).balance).toMatchObject({
      posted: "7.50",
      pending: "-1.25",
      available: "6.25",
      postedDebits: "2.50",
      postedCredits: "10.00",
      pendingDebits: "1.25",
      pendingCredits: "0.00",
      version: 2n,
    });
    const asOf = async (at: Date) =>
      (await auditor().getBalance({ accountId: account.id, asOf: timestampFromDate(at) })).balance!;
    expect(await asOf(new Date(timestampDate(firstAt).getTime() - 1))).toMatchObject({
      posted: "0.00",
      version: 0n,
    });
    expect(await asOf(timestampDate(firstAt))).toMatchObject({ posted: "10.00", version: 1n, pending: "" });
    expect(await asOf(new Date(timestampDate(secondAt).getTime() - 1))).toMatchObject({
      posted: "10.00",
      version: 1n,
    });
    expect(await asOf(timestampDate(secondAt))).toMatchObject({ posted: "7.50", version: 2n });
    expect(await asOf(new Date())).toMatchObject({ posted: "7.50", version: 2n });
  });

  it("lets a user read its own balance only", async () => {
    const account = await ledger.fundedAccount("1.00", { ownerRef: "dave" });
    expect((await ledger.as("user", "dave").getBalance({ accountId: account.id })).balance?.posted).toBe(
      "1.00",
    );
    await expectRefusal(
      ledger.as("user", "eve").getBalance({ accountId: account.id }),
      Code.PermissionDenied,
      "NOT_OWNER",
    );
    await expectRefusal(
      auditor().getBalance({ accountId: "00000000-0000-4000-8000-000000000000" }),
      Code.NotFound,
      "ACCOUNT_NOT_FOUND",
    );
  });
});

describe("ListEntries", () => {
  it("is a statement: entries in order with balance before and after and the version, paged, by time range", async () => {
    const account = await ledger.fundedAccount("100.00");
    const sink = await ledger.openAccount();
    const stamps: Date[] = [];
    for (let i = 1; i <= 6; i++) {
      const { transaction } = await ledger.adminClient.transfer({
        idempotencyKey: key(),
        fromAccountId: account.id,
        toAccountId: sink.id,
        amount: `${i}.00`,
      });
      stamps.push(timestampDate(transaction!.createdAt!));
      await sleep(3);
    }
    const all = [];
    let pageToken = "";
    do {
      const page = await auditor().listEntries({ accountId: account.id, pageSize: 3, pageToken });
      all.push(...page.entries);
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(all.map((e) => [e.accountVersion, e.amount, e.balanceBefore, e.balanceAfter])).toEqual([
      [1n, "100.00", "0.00", "100.00"],
      [2n, "1.00", "100.00", "99.00"],
      [3n, "2.00", "99.00", "97.00"],
      [4n, "3.00", "97.00", "94.00"],
      [5n, "4.00", "94.00", "90.00"],
      [6n, "5.00", "90.00", "85.00"],
      [7n, "6.00", "85.00", "79.00"],
    ]);
    // Each entry starts where the previous one ended.
    for (let i = 1; i < all.length; i++) expect(all[i]!.balanceBefore).toBe(all[i - 1]!.balanceAfter);

    const window = await auditor().listEntries({
      accountId: account.id,
      postedFrom: timestampFromDate(stamps[1]!),
      postedTo: timestampFromDate(stamps[4]!),
    });
    expect(window.entries.map((e) => e.amount)).toEqual(["2.00", "3.00", "4.00"]);
  });

  it("refuses a bad page token or an empty time range", async () => {
    const account = await ledger.openAccount();
    await expectRefusal(
      auditor().listEntries({ accountId: account.id, pageToken: "x" }),
      Code.InvalidArgument,
      "INVALID_PAGE_TOKEN",
    );
    const now = timestampFromDate(new Date());
    await expectRefusal(
      auditor().listEntries({ accountId: account.id, postedFrom: now, postedTo: now }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
  });
});

describe("ListTransactions", () => {
  it("filters by account, reference, metadata, status and time range, newest first, paged", async () => {
    const a = await ledger.fundedAccount("50.00");
    const b = await ledger.openAccount();
    const start = new Date();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { transaction } = await ledger.adminClient.postTransaction({
        idempotencyKey: key(),
        transaction: {
          legs: [leg(a.id, "debit", "1.00"), leg(b.id, "credit", "1.00")],
          externalRef: i % 2 === 0 ? "even-ref" : "odd-ref",
          metadata: { parity: i % 2 === 0 ? "even" : "odd", n: String(i) },
        },
      });
      ids.push(transaction!.id);
    }
    const { transaction: pending } = await ledger.adminClient.createPending({
      idempotencyKey: key(),
      debitAccountId: a.id,
      creditAccountId: b.id,
      amount: "1.00",
      timeoutSeconds: 60n,
    });
    const list = async (filter: Parameters<ReturnType<typeof auditor>["listTransactions"]>[0]) =>
      (await auditor().listTransactions(filter)).transactions.map((t) => t.id);

    expect(await list({ accountId: b.id })).toEqual([pending!.id, ...[...ids].reverse()]);
    expect(await list({ externalRef: "even-ref" })).toEqual([ids[4], ids[2], ids[0]]);
    expect(await list({ metadataKey: "parity", metadataValue: "odd" })).toEqual([ids[3], ids[1]]);
    expect(await list({ accountId: b.id, status: TransactionStatus.PROCESSING })).toEqual([pending!.id]);
    expect(
      await list({
        accountId: b.id,
        createdFrom: timestampFromDate(start),
        status: TransactionStatus.SETTLED,
      }),
    ).toEqual([...ids].reverse());
    expect(await list({ accountId: b.id, createdTo: timestampFromDate(start) })).toEqual([]);

    const paged: string[] = [];
    let pageToken = "";
    do {
      const page = await auditor().listTransactions({ accountId: b.id, pageSize: 2, pageToken });
      paged.push(...page.transactions.map((t) => t.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(paged).toEqual([pending!.id, ...[...ids].reverse()]);
  });

  it("refuses half a metadata filter", async () => {
    await expectRefusal(
      auditor().listTransactions({ metadataKey: "parity" }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
  });
});
