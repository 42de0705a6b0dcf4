import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { AccountStatus, AccountType } from "@money/proto/ledger/v1/ledger_pb";
import { expectRefusal, key, LedgerHarness } from "./support/ledger-harness.js";

let ledger: LedgerHarness;
beforeAll(async () => {
  ledger = await LedgerHarness.start("accounts");
});
afterAll(async () => ledger?.stop());

describe("CreateAccount and GetAccount", () => {
  it("opens an account of each type with its currency's minor units", async () => {
    for (const [type, currency, overdraft, shown] of [
      [AccountType.ASSET, "EUR", "10.5", "10.50"],
      [AccountType.LIABILITY, "JPY", "1000", "1000"],
      [AccountType.EQUITY, "KWD", "0.125", "0.125"],
      [AccountType.REVENUE, "USD", "", ""],
      [AccountType.EXPENSE, "GBP", "0", "0.00"],
    ] as const) {
      const account = await ledger.openAccount({
        type,
        currency,
        overdraftLimit: overdraft,
        metadata: { k: "v" },
      });
      expect(account).toMatchObject({
        type,
        currency,
        overdraftLimit: shown,
        status: AccountStatus.ACTIVE,
        metadata: { k: "v" },
        version: 0n,
      });
      const read = await ledger.as("auditor").getAccount({ accountId: account.id });
      expect(read.account).toEqual(account);
    }
  });

  it("refuses both balance flags at once, an unknown currency and an unspecified type", async () => {
    const admin = ledger.adminClient;
    const base = { idempotencyKey: key(), ownerRef: "o", currency: "EUR", type: AccountType.ASSET };
    await ledger.expectRefusedWithoutTrace(
      () =>
        admin.createAccount({ ...base, debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: true }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    await ledger.expectRefusedWithoutTrace(
      () => admin.createAccount({ ...base, idempotencyKey: key(), currency: "EURO" }),
      Code.InvalidArgument,
      "UNKNOWN_CURRENCY",
    );
    await ledger.expectRefusedWithoutTrace(
      () => admin.createAccount({ ...base, idempotencyKey: key(), type: AccountType.UNSPECIFIED }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
  });

  it("lets a user read its own account only", async () => {
    const mine = await ledger.openAccount({ ownerRef: "alice" });
    expect((await ledger.as("user", "alice").getAccount({ accountId: mine.id })).account?.id).toBe(mine.id);
    await expectRefusal(
      ledger.as("user", "mallory").getAccount({ accountId: mine.id }),
      Code.PermissionDenied,
      "NOT_OWNER",
    );
  });

  it("refuses a user creating accounts (admin and service only)", async () => {
    await expectRefusal(
      ledger.as("user", "alice").createAccount({
        idempotencyKey: key(),
        ownerRef: "alice",
        currency: "EUR",
        type: AccountType.LIABILITY,
      }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
  });
});

describe("ListAccounts", () => {
  it("pages through an owner's accounts, oldest first, with page tokens", async () => {
    const opened = [];
    for (let i = 0; i < 7; i++) opened.push((await ledger.openAccount({ ownerRef: "paged-owner" })).id);
    await ledger.openAccount({ ownerRef: "someone-else" });
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await ledger
        .as("auditor")
        .listAccounts({ ownerRef: "paged-owner", pageSize: 3, pageToken });
      seen.push(...page.accounts.map((a) => a.id));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    expect(seen).toEqual(opened);
    expect(pages).toBe(3);
  });

  it("refuses a forged page token", async () => {
    await expectRefusal(
      ledger.as("auditor").listAccounts({ ownerRef: "paged-owner", pageToken: "bm9wZQ" }),
      Code.InvalidArgument,
      "INVALID_PAGE_TOKEN",
    );
  });

  it("lets a user list its own accounts only", async () => {
    await ledger.openAccount({ ownerRef: "bob" });
    expect((await ledger.as("user", "bob").listAccounts({ ownerRef: "bob" })).accounts).toHaveLength(1);
    await expectRefusal(
      ledger.as("user", "bob").listAccounts({ ownerRef: "alice" }),
      Code.PermissionDenied,
      "NOT_OWNER",
    );
  });
});

describe("FreezeAccount, UnfreezeAccount, CloseAccount, SetOverdraftLimit", () => {
  it("freezes with a reason, refuses movements while frozen, and unfreezes", async () => {
    const account = await ledger.fundedAccount("50.00");
    const other = await ledger.openAccount();
    const frozen = await ledger.adminClient.freezeAccount({
      idempotencyKey: key(),
      accountId: account.id,
      reason: "fraud review",
    });
    expect(frozen.account?.status).toBe(AccountStatus.FROZEN);
    for (const [from, to] of [
      [account.id, other.id],
      [other.id, account.id],
    ] as const) {
      await ledger.expectRefusedWithoutTrace(
        () =>
          ledger.adminClient.transfer({
            idempotencyKey: key(),
            fromAccountId: from,
            toAccountId: to,
            amount: "1.00",
          }),
        Code.FailedPrecondition,
        "ACCOUNT_FROZEN",
      );
    }
    await ledger.adminClient.unfreezeAccount({
      idempotencyKey: key(),
      accountId: account.id,
      reason: "cleared",
    });
    await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: account.id,
      toAccountId: other.id,
      amount: "1.00",
    });
  });

  it("requires a reason, and only admins may freeze", async () => {
    const account = await ledger.openAccount();
    await ledger.expectRefusedWithoutTrace(
      () => ledger.adminClient.freezeAccount({ idempotencyKey: key(), accountId: account.id, reason: " " }),
      Code.InvalidArgument,
      "REASON_REQUIRED",
    );
    await expectRefusal(
      ledger.as("service").freezeAccount({ idempotencyKey: key(), accountId: account.id, reason: "x" }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
  });

  it("closes only an empty account, and a closed account takes nothing and stays closed", async () => {
    const account = await ledger.fundedAccount("5.00");
    const sink = await ledger.openAccount();
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.closeAccount({
          idempotencyKey: key(),
          accountId: account.id,
          reason: "customer left",
        }),
      Code.FailedPrecondition,
      "ACCOUNT_NOT_EMPTY",
    );
    await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: account.id,
      toAccountId: sink.id,
      amount: "5.00",
    });
    const closed = await ledger.adminClient.closeAccount({
      idempotencyKey: key(),
      accountId: account.id,
      reason: "customer left",
    });
    expect(closed.account?.status).toBe(AccountStatus.CLOSED);
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.transfer({
          idempotencyKey: key(),
          fromAccountId: sink.id,
          toAccountId: account.id,
          amount: "1.00",
        }),
      Code.FailedPrecondition,
      "ACCOUNT_CLOSED",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.unfreezeAccount({ idempotencyKey: key(), accountId: account.id, reason: "oops" }),
      Code.FailedPrecondition,
      "INVALID_ACCOUNT_TRANSITION",
    );
  });

  it("lets an admin change the overdraft limit, which the next posting obeys", async () => {
    const account = await ledger.fundedAccount("10.00");
    const sink = await ledger.openAccount();
    const move = (amount: string) =>
      ledger.adminClient.transfer({
        idempotencyKey: key(),
        fromAccountId: account.id,
        toAccountId: sink.id,
        amount,
      });
    await ledger.expectRefusedWithoutTrace(
      () => move("15.00"),
      Code.FailedPrecondition,
      "INSUFFICIENT_FUNDS",
    );
    const changed = await ledger.adminClient.setOverdraftLimit({
      idempotencyKey: key(),
      accountId: account.id,
      overdraftLimit: "5",
      reason: "credit line approved",
    });
    expect(changed.account?.overdraftLimit).toBe("5.00");
    const moved = await move("15.00");
    expect(moved.balances.find((b) => b.accountId === account.id)?.posted).toBe("-5.00");
    await ledger.expectRefusedWithoutTrace(() => move("0.01"), Code.FailedPrecondition, "INSUFFICIENT_FUNDS");
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.setOverdraftLimit({
          idempotencyKey: key(),
          accountId: account.id,
          overdraftLimit: "1.001",
          reason: "x",
        }),
      Code.InvalidArgument,
      "INVALID_AMOUNT",
    );
    await expectRefusal(
      ledger.as("service").setOverdraftLimit({
        idempotencyKey: key(),
        accountId: account.id,
        overdraftLimit: "1",
        reason: "x",
      }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
  });
});
