import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "@money/db";
import { AccountType, TransactionPurpose, type Wallet } from "@money/proto/ledger/v1/ledger_pb";
import { expectRefusal, key, LedgerHarness } from "./support/ledger-harness.js";

let ledger: LedgerHarness;
let funding: string;
let phone = 447700900000;

beforeAll(async () => {
  ledger = await LedgerHarness.start("wallets");
  funding = (await ledger.openAccount({ type: AccountType.ASSET, ownerRef: "card-clearing" })).id;
});
afterAll(async () => ledger?.stop());

const nextMobile = () => `+${++phone}`;

async function walletOf(owner: string, { dailyLimit = "100.00", topUp = "0" } = {}): Promise<Wallet> {
  const { wallet } = await ledger.as("user", owner).createWallet({
    idempotencyKey: key(),
    ownerRef: owner,
    mobileNumber: nextMobile(),
    currency: "EUR",
    dailyLimit,
  });
  if (topUp !== "0") {
    await ledger
      .as("service", "payments")
      .topUpWallet({ idempotencyKey: key(), walletId: wallet!.id, fundingAccountId: funding, amount: topUp });
  }
  return (await ledger.as("user", owner).getWallet({ walletId: wallet!.id })).wallet!;
}

describe("CreateWallet and GetWallet", () => {
  it("opens a wallet for its owner: a liability account, the number, the limit", async () => {
    const wallet = await walletOf("ann");
    expect(wallet).toMatchObject({
      ownerRef: "ann",
      currency: "EUR",
      dailyLimit: "100.00",
      spentToday: "0.00",
      balance: "0.00",
    });
    const { account } = await ledger.as("user", "ann").getAccount({ accountId: wallet.accountId });
    expect(account).toMatchObject({
      type: AccountType.LIABILITY,
      ownerRef: "ann",
      debitsMustNotExceedCredits: true,
    });
  });

  it.each([
    "447700900123",
    "+44 7700 900123",
    "+0447700900",
    "+1234567",
    "+1234567890123456",
    "tel:+447700900123",
    "",
  ])("refuses the mobile number %j", async (mobileNumber) => {
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.as("user", "ann").createWallet({
          idempotencyKey: key(),
          ownerRef: "ann",
          mobileNumber,
          currency: "EUR",
          dailyLimit: "10",
        }),
      Code.InvalidArgument,
      "INVALID_MOBILE_NUMBER",
    );
  });

  it("refuses a number already registered, a bad limit, and a wallet for someone else", async () => {
    const taken = await walletOf("ben");
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.as("user", "bea").createWallet({
          idempotencyKey: key(),
          ownerRef: "bea",
          mobileNumber: taken.mobileNumber,
          currency: "EUR",
          dailyLimit: "10",
        }),
      Code.AlreadyExists,
      "MOBILE_NUMBER_TAKEN",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.as("user", "bea").createWallet({
          idempotencyKey: key(),
          ownerRef: "bea",
          mobileNumber: nextMobile(),
          currency: "EUR",
          dailyLimit: "0",
        }),
      Code.InvalidArgument,
      "INVALID_AMOUNT",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.as("user", "bea").createWallet({
          idempotencyKey: key(),
          ownerRef: "ben",
          mobileNumber: nextMobile(),
          currency: "EUR",
          dailyLimit: "10",
        }),
      Code.PermissionDenied,
      "NOT_OWNER",
    );
  });

  it("registers a number once even when two registrations race", async () => {
    const mobileNumber = nextMobile();
    const results = await Promise.allSettled(
      ["cat", "cy"].map((owner) =>
        ledger.as("user", owner).createWallet({
          idempotencyKey: key(),
          ownerRef: owner,
          mobileNumber,
          currency: "EUR",
          dailyLimit: "10",
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((refused.reason as ConnectError).code).toBe(Code.AlreadyExists);
  });

  it("shows a wallet to its owner only", async () => {
    const wallet = await walletOf("dan");
    await expectRefusal(
      ledger.as("user", "dora").getWallet({ walletId: wallet.id }),
      Code.PermissionDenied,
      "NOT_OWNER",
    );
    await expectRefusal(
      ledger.as("user", "dan").getWallet({ walletId: "00000000-0000-4000-8000-000000000000" }),
      Code.NotFound,
      "WALLET_NOT_FOUND",
    );
    expect((await ledger.as("auditor").getWallet({ walletId: wallet.id })).wallet?.id).toBe(wallet.id);
  });
});

describe("TopUpWallet", () => {
  it("adds money from a funding account; users may not top themselves up", async () => {
    const wallet = await walletOf("eli");
    const { transaction, wallet: after } = await ledger.as("service", "payments").topUpWallet({
      idempotencyKey: key(),
      walletId: wallet.id,
      fundingAccountId: funding,
      amount: "25.00",
      externalRef: "card-auth-1",
    });
    expect(transaction).toMatchObject({ purpose: TransactionPurpose.WALLET_TOP_UP, amount: "25.00" });
    expect(after).toMatchObject({ balance: "25.00", spentToday: "0.00" });
    await expectRefusal(
      ledger
        .as("user", "eli")
        .topUpWallet({ idempotencyKey: key(), walletId: wallet.id, fundingAccountId: funding, amount: "1" }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
  });
});

describe("transfers between wallets", () => {
  it("moves money by wallet id and by mobile number, from the caller's own wallet", async () => {
    const fay = await walletOf("fay", { topUp: "50.00" });
    const gus = await walletOf("gus");
    const byId = await ledger.as("user", "fay").transferBetweenWallets({
      idempotencyKey: key(),
      fromWalletId: fay.id,
      toWalletId: gus.id,
      amount: "10.00",
    });
    expect(byId.transaction?.purpose).toBe(TransactionPurpose.WALLET_TRANSFER);
    expect(byId.fromWallet).toMatchObject({ balance: "40.00", spentToday: "10.00" });
    const byMobile = await ledger.as("user", "fay").transferByMobile({
      idempotencyKey: key(),
      fromWalletId: fay.id,
      toMobileNumber: gus.mobileNumber,
      amount: "5.00",
    });
    expect(byMobile.fromWallet).toMatchObject({ balance: "35.00", spentToday: "15.00" });
    expect((await ledger.as("user", "gus").getWallet({ walletId: gus.id })).wallet?.balance).toBe("15.00");
    const history = await ledger.as("user", "fay").listWalletTransactions({ walletId: fay.id });
    expect(history.entries.map((e) => [e.amount, e.balanceAfter])).toEqual([
      ["50.00", "50.00"],
      ["10.00", "40.00"],
      ["5.00", "35.00"],
    ]);
    await expectRefusal(
      ledger.as("user", "gus").listWalletTransactions({ walletId: fay.id }),
      Code.PermissionDenied,
      "NOT_OWNER",
    );
  });

  it("moves nothing to an unknown number, and refuses malformed numbers, others' wallets and empty wallets", async () => {
    const hal = await walletOf("hal", { topUp: "5.00" });
    const ida = await walletOf("ida");
    const hals = ledger.as("user", "hal");
    await ledger.expectRefusedWithoutTrace(
      () =>
        hals.transferByMobile({
          idempotencyKey: key(),
          fromWalletId: hal.id,
          toMobileNumber: "+15005550006",
          amount: "1.00",
        }),
      Code.NotFound,
      "MOBILE_NUMBER_NOT_FOUND",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        hals.transferByMobile({
          idempotencyKey: key(),
          fromWalletId: hal.id,
          toMobileNumber: "07700 900123",
          amount: "1.00",
        }),
      Code.InvalidArgument,
      "INVALID_MOBILE_NUMBER",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.as("user", "ida").transferBetweenWallets({
          idempotencyKey: key(),
          fromWalletId: hal.id,
          toWalletId: ida.id,
          amount: "1.00",
        }),
      Code.PermissionDenied,
      "NOT_OWNER",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        hals.transferBetweenWallets({
          idempotencyKey: key(),
          fromWalletId: hal.id,
          toWalletId: ida.id,
          amount: "5.01",
        }),
      Code.FailedPrecondition,
      "INSUFFICIENT_FUNDS",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        hals.transferBetweenWallets({
          idempotencyKey: key(),
          fromWalletId: hal.id,
          toWalletId: "00000000-0000-4000-8000-000000000000",
          amount: "1",
        }),
      Code.NotFound,
      "WALLET_NOT_FOUND",
    );
  });
});

describe("the daily limit", () => {
  it("counts what left the wallet today (UTC) and refuses what would pass the limit", async () => {
    const jo = await walletOf("jo", { dailyLimit: "100.00", topUp: "500.00" });
    const kim = await walletOf("kim");
    const send = (amount: string) =>
      ledger
        .as("user", "jo")
        .transferBetweenWallets({ idempotencyKey: key(), fromWalletId: jo.id, toWalletId: kim.id, amount });
    await send("60.00");
    await send("40.00");
    await ledger.expectRefusedWithoutTrace(
      () => send("0.01"),
      Code.FailedPrecondition,
      "DAILY_LIMIT_EXCEEDED",
    );
    expect((await ledger.as("user", "jo").getWallet({ walletId: jo.id })).wallet).toMatchObject({
      spentToday: "100.00",
      balance: "400.00",
    });
  });

  it("starts afresh each UTC day: yesterday's spending does not count", async () => {
    const lu = await walletOf("lu", { dailyLimit: "10.00", topUp: "50.00" });
    const mo = await walletOf("mo");
    await ledger.admin.query(sql.unsafe`
      INSERT INTO ledger.wallet_daily_usage (wallet_id, day, spent_minor)
      VALUES (${lu.id}, (now() AT TIME ZONE 'UTC')::date - 1, 1000)`);
    await ledger.as("user", "lu").transferBetweenWallets({
      idempotencyKey: key(),
      fromWalletId: lu.id,
      toWalletId: mo.id,
      amount: "10.00",
    });
  });

  it("holds under concurrency: 30 racing transfers of 5.00 against a 50.00 limit, exactly 10 pass", async () => {
    const ned = await walletOf("ned", { dailyLimit: "50.00", topUp: "1000.00" });
    const ola = await walletOf("ola");
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () =>
        ledger.as("user", "ned").transferBetweenWallets({
          idempotencyKey: key(),
          fromWalletId: ned.id,
          toWalletId: ola.id,
          amount: "5.00",
        }),
      ),
    );
    const reasons = results.map((r) =>
      r.status === "fulfilled" ? "ok" : (r.reason as ConnectError).metadata.get("error-reason"),
    );
    expect(reasons.filter((r) => r === "ok")).toHaveLength(10);
    expect(reasons.filter((r) => r === "DAILY_LIMIT_EXCEEDED")).toHaveLength(20);
    const usage = await ledger.admin.any(
      sql.unsafe`SELECT day, spent_minor FROM ledger.wallet_daily_usage WHERE wallet_id = ${ned.id}`,
    );
    expect(usage.map((u) => u["spent_minor"])).toEqual(["5000"]);
    expect((await ledger.as("user", "ola").getWallet({ walletId: ola.id })).wallet?.balance).toBe("50.00");
    await ledger.expectBooksBalance();
  });
});
