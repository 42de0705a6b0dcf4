import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { setTimeout as sleep } from "node:timers/promises";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { sql } from "@money/db";
import { AccountType, ReportFormat } from "@money/proto/ledger/v1/ledger_pb";
import { expectRefusal, key, leg, LedgerHarness } from "./support/ledger-harness.js";

let ledger: LedgerHarness;
beforeAll(async () => {
  ledger = await LedgerHarness.start("reconciliation");
});
afterAll(async () => ledger?.stop());

const auditor = () => ledger.as("auditor", "kpmg");

describe("GetTrialBalance", () => {
  it("lists every account's balance as a debit or a credit, with totals that balance per currency, as JSON and CSV", async () => {
    const cash = await ledger.openAccount({ type: AccountType.ASSET, currency: "EUR" });
    const customer = await ledger.openAccount({ currency: "EUR" });
    const yenCash = await ledger.openAccount({ type: AccountType.ASSET, currency: "JPY" });
    const yenCustomer = await ledger.openAccount({ currency: "JPY" });
    await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: cash.id,
      toAccountId: customer.id,
      amount: "12.34",
    });
    await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: yenCash.id,
      toAccountId: yenCustomer.id,
      amount: "500",
    });

    const report = await auditor().getTrialBalance({ format: ReportFormat.JSON });
    expect(report.balanced).toBe(true);
    expect(report.totals).toEqual([
      expect.objectContaining({ currency: "EUR", debits: "12.34", credits: "12.34", balanced: true }),
      expect.objectContaining({ currency: "JPY", debits: "500", credits: "500", balanced: true }),
    ]);
    expect(report.lines.find((l) => l.accountId === cash.id)).toMatchObject({
      debit: "12.34",
      credit: "0.00",
    });
    expect(report.lines.find((l) => l.accountId === customer.id)).toMatchObject({
      debit: "0.00",
      credit: "12.34",
    });

    const csv = await auditor().getTrialBalance({ format: ReportFormat.CSV });
    const rows = csv.csv.trimEnd().split("\r\n");
    expect(rows[0]).toBe("account_id,type,currency,debit,credit");
    expect(rows).toContain(`${cash.id},asset,EUR,12.34,0.00`);
    expect(rows).toContain("TOTAL,,EUR,12.34,12.34");
    expect(rows).toContain("TOTAL,,JPY,500,500");
    expect(csv.lines).toEqual([]);
  });

  it("is for auditors and admins", async () => {
    await expectRefusal(ledger.as("user").getTrialBalance({}), Code.PermissionDenied, "PERMISSION_DENIED");
    await expectRefusal(ledger.as("service").checkBalances({}), Code.PermissionDenied, "PERMISSION_DENIED");
  });
});

describe("GetPeriodReport", () => {
  it("gives opening, debits, credits and closing per account over a period, as JSON and CSV", async () => {
    const cash = await ledger.openAccount({ type: AccountType.ASSET });
    const customer = await ledger.openAccount();
    const sink = await ledger.openAccount({ type: AccountType.EXPENSE });
    await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: cash.id,
      toAccountId: customer.id,
      amount: "100.00",
    });
    await sleep(5);
    const from = new Date();
    await sleep(5);
    await ledger.adminClient.postTransaction({
      idempotencyKey: key(),
      transaction: { legs: [leg(customer.id, "debit", "30.00"), leg(sink.id, "credit", "30.00")] },
    });
    await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: cash.id,
      toAccountId: customer.id,
      amount: "5.00",
    });
    await sleep(5);
    const to = new Date();
    await sleep(5);
    await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: cash.id,
      toAccountId: customer.id,
      amount: "1.00",
    });

    const period = { from: timestampFromDate(from), to: timestampFromDate(to) };
    const report = await auditor().getPeriodReport({ ...period, format: ReportFormat.JSON });
    expect(report.lines.find((l) => l.accountId === customer.id)).toMatchObject({
      opening: "100.00",
      debits: "30.00",
      credits: "5.00",
      closing: "75.00",
    });
    expect(report.lines.find((l) => l.accountId === cash.id)).toMatchObject({
      opening: "100.00",
      debits: "5.00",
      credits: "0.00",
      closing: "105.00",
    });
    expect(report.totals.find((t) => t.currency === "EUR")).toMatchObject({
      debits: "35.00",
      credits: "35.00",
      balanced: true,
    });

    const csv = await auditor().getPeriodReport({ ...period, format: ReportFormat.CSV });
    expect(csv.csv.split("\r\n")[0]).toBe("account_id,type,currency,opening,debits,credits,closing");
    expect(csv.csv).toContain(`${customer.id},liability,EUR,100.00,30.00,5.00,75.00\r\n`);
  });

  it("refuses a missing or backwards period", async () => {
    const now = timestampFromDate(new Date());
    await expectRefusal(auditor().getPeriodReport({ from: now }), Code.InvalidArgument, "INVALID_ARGUMENT");
    await expectRefusal(
      auditor().getPeriodReport({ from: now, to: now }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
  });
});

describe("CheckBalances", () => {
  it("finds no drift in books kept by the service", async () => {
    const check = await auditor().checkBalances({});
    expect(check).toMatchObject({ ok: true, drifts: [] });
    expect(check.accountsChecked).toBeGreaterThan(5n);
  });

  it("reports an entry slipped in behind the service's back, which GetBalance (reading the balance row) does not see", async () => {
    const victim = await ledger.fundedAccount("10.00");
    const { transaction } = await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: victim.id,
      toAccountId: (await ledger.openAccount()).id,
      amount: "1.00",
    });
    // A superuser bypasses the service: entries may be appended, never changed.
    await ledger.admin.query(sql.unsafe`
      INSERT INTO ledger.entries (account_id, account_version, transaction_id, direction, amount_minor,
                                  balance_before_minor, balance_after_minor, posted_at)
      VALUES (${victim.id}, 3, ${transaction!.id}, 'credit', 500, 900, 1400, now())`);
    expect((await auditor().getBalance({ accountId: victim.id })).balance?.posted).toBe("9.00");
    const check = await auditor().checkBalances({});
    expect(check.ok).toBe(false);
    expect(check.drifts.filter((d) => d.accountId === victim.id)).toEqual([
      expect.objectContaining({ field: "posted_credits", stored: "10.00", recomputed: "15.00" }),
      expect.objectContaining({ field: "version", stored: "2", recomputed: "3" }),
      expect.objectContaining({ field: "last_balance_after", stored: "9.00", recomputed: "14.00" }),
    ]);
    expect(check.totals.find((t) => t.currency === "EUR")?.balanced).toBe(false);
  });

  it("reports journal rows that name an account or a transaction that does not exist", async () => {
    const account = await ledger.fundedAccount("10.00");
    const { transaction } = await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: account.id,
      toAccountId: (await ledger.openAccount()).id,
      amount: "1.00",
    });
    const noAccount = randomUUID();
    const noTransaction = randomUUID();
    await ledger.admin.query(sql.unsafe`
      INSERT INTO ledger.entries (account_id, account_version, transaction_id, direction, amount_minor,
                                  balance_before_minor, balance_after_minor, posted_at)
      VALUES (${noAccount}, 1, ${transaction!.id}, 'debit', 100, 0, 100, now()),
             (${noAccount}, 2, ${transaction!.id}, 'debit', 100, 100, 200, now()),
             (${account.id}, 3, ${noTransaction}, 'credit', 100, 900, 1000, now())`);
    await ledger.admin.query(sql.unsafe`
      INSERT INTO ledger.transaction_status_history (transaction_id, from_status, to_status, performed_by,
                                                     performed_by_role, reason, changed_at)
      VALUES (${noTransaction}, 'processing', 'settled', 'mallory', 'admin', '', now())`);
    const check = await auditor().checkBalances({});
    expect(check.ok).toBe(false);
    const dangling = check.drifts.filter((d) => d.field.startsWith("dangling:"));
    expect(dangling).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: "dangling:entries.account_id",
          accountId: noAccount,
          stored: "2 rows",
        }),
        expect.objectContaining({
          field: "dangling:entries.transaction_id",
          accountId: noTransaction,
          stored: "1 rows",
        }),
        expect.objectContaining({
          field: "dangling:transaction_status_history.transaction_id",
          accountId: noTransaction,
          stored: "1 rows",
        }),
      ]),
    );
    expect(dangling).toHaveLength(3);
  });
});
