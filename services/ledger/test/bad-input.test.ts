/* eslint-disable @typescript-eslint/no-explicit-any -- grpc-js builds its clients at run time from .proto files */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Direction } from "@money/proto/ledger/v1/ledger_pb";
import { mintToken } from "@money/rpc";
import { key, leg, LedgerHarness } from "./support/ledger-harness.js";
import type { Account } from "@money/proto/ledger/v1/ledger_pb";

/*
 * Every malformed or impossible request is refused with the right code and
 * reason, and leaves every table as it was.
 */

let ledger: LedgerHarness;
let from: Account;
let to: Account;
beforeAll(async () => {
  ledger = await LedgerHarness.start("bad_input");
  from = await ledger.fundedAccount("100.00");
  to = await ledger.openAccount();
});
afterAll(async () => ledger?.stop());

const MALFORMED_AMOUNTS = [
  "1e3",
  "-5",
  "0",
  "0.00",
  "0.001",
  "1".repeat(40),
  "NaN",
  "",
  " 5",
  "+5",
  "1,50",
  "0x10",
];

describe("malformed amounts", () => {
  it.each(MALFORMED_AMOUNTS)(
    "refuses %j in a transfer and in a journal leg with INVALID_AMOUNT",
    async (amount) => {
      await ledger.expectRefusedWithoutTrace(
        () =>
          ledger.adminClient.transfer({
            idempotencyKey: key(),
            fromAccountId: from.id,
            toAccountId: to.id,
            amount,
          }),
        Code.InvalidArgument,
        "INVALID_AMOUNT",
      );
      await ledger.expectRefusedWithoutTrace(
        () =>
          ledger.adminClient.postTransaction({
            idempotencyKey: key(),
            transaction: { legs: [leg(from.id, "debit", amount), leg(to.id, "credit", amount)] },
          }),
        Code.InvalidArgument,
        "INVALID_AMOUNT",
      );
    },
  );

  it("reads amounts in the account's minor units: 0.5 JPY is too precise, 0.125 KWD is not", async () => {
    const yen = await ledger.openAccount({ currency: "JPY" });
    const yenToo = await ledger.openAccount({ currency: "JPY" });
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.transfer({
          idempotencyKey: key(),
          fromAccountId: yen.id,
          toAccountId: yenToo.id,
          amount: "0.5",
        }),
      Code.InvalidArgument,
      "INVALID_AMOUNT",
    );
    const dinar = await ledger.openAccount({ currency: "KWD" });
    const dinarToo = await ledger.openAccount({ currency: "KWD" });
    const moved = await ledger.adminClient.transfer({
      idempotencyKey: key(),
      fromAccountId: dinar.id,
      toAccountId: dinarToo.id,
      amount: "0.125",
    });
    expect(moved.transaction?.amount).toBe("0.125");
  });
});

describe("impossible journal entries", () => {
  const post = (legs: ReturnType<typeof leg>[], extra: Record<string, unknown> = {}) =>
    ledger.adminClient.postTransaction({ idempotencyKey: key(), transaction: { legs, ...extra } });

  it("refuses an unknown account with NOT_FOUND", async () => {
    await ledger.expectRefusedWithoutTrace(
      () =>
        post([leg(from.id, "debit", "1.00"), leg("00000000-0000-4000-8000-000000000000", "credit", "1.00")]),
      Code.NotFound,
      "ACCOUNT_NOT_FOUND",
    );
  });

  it("refuses a malformed account id and an unspecified direction with INVALID_ARGUMENT", async () => {
    await ledger.expectRefusedWithoutTrace(
      () => post([leg(from.id, "debit", "1.00"), leg("1; DROP TABLE entries", "credit", "1.00")]),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        post([
          leg(from.id, "debit", "1.00"),
          { accountId: to.id, direction: Direction.UNSPECIFIED, amount: "1.00" },
        ]),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
  });

  it("refuses unbalanced legs", async () => {
    await ledger.expectRefusedWithoutTrace(
      () => post([leg(from.id, "debit", "1.00"), leg(to.id, "credit", "0.99")]),
      Code.InvalidArgument,
      "UNBALANCED_TRANSACTION",
    );
  });

  it("refuses a leg repeated on one account", async () => {
    await ledger.expectRefusedWithoutTrace(
      () => post([leg(from.id, "debit", "1.00"), leg(to.id, "credit", "0.50"), leg(to.id, "credit", "0.50")]),
      Code.InvalidArgument,
      "DUPLICATE_LEG_ACCOUNT",
    );
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.transfer({
          idempotencyKey: key(),
          fromAccountId: from.id,
          toAccountId: from.id,
          amount: "1",
        }),
      Code.InvalidArgument,
      "DUPLICATE_LEG_ACCOUNT",
    );
  });

  it("refuses fewer than two legs", async () => {
    await ledger.expectRefusedWithoutTrace(
      () => post([leg(from.id, "debit", "1.00")]),
      Code.InvalidArgument,
      "TOO_FEW_LEGS",
    );
  });

  it("refuses a leg in a currency its account is not in", async () => {
    await ledger.expectRefusedWithoutTrace(
      () =>
        post([
          leg(from.id, "debit", "1.00", { currency: "USD" }),
          leg(to.id, "credit", "1.00", { currency: "USD" }),
        ]),
      Code.FailedPrecondition,
      "CURRENCY_MISMATCH",
    );
  });

  it("refuses an over-long reference, description or metadata", async () => {
    const legs = [leg(from.id, "debit", "1.00"), leg(to.id, "credit", "1.00")];
    await ledger.expectRefusedWithoutTrace(
      () => post(legs, { externalRef: "r".repeat(129) }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    await ledger.expectRefusedWithoutTrace(
      () => post(legs, { description: "d".repeat(501) }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    const metadata = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
    await ledger.expectRefusedWithoutTrace(
      () => post(legs, { metadata }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    // 128 is the limit, not one less.
    await post(legs, { externalRef: "r".repeat(128) });
  });

  it("refuses a frozen or closed account, and funds that are not there", async () => {
    const poor = await ledger.fundedAccount("1.00");
    await ledger.expectRefusedWithoutTrace(
      () => post([leg(poor.id, "debit", "1.01"), leg(to.id, "credit", "1.01")]),
      Code.FailedPrecondition,
      "INSUFFICIENT_FUNDS",
    );
    const frozen = await ledger.fundedAccount("1.00");
    await ledger.adminClient.freezeAccount({ idempotencyKey: key(), accountId: frozen.id, reason: "review" });
    await ledger.expectRefusedWithoutTrace(
      () => post([leg(frozen.id, "debit", "1.00"), leg(to.id, "credit", "1.00")]),
      Code.FailedPrecondition,
      "ACCOUNT_FROZEN",
    );
    const closed = await ledger.openAccount();
    await ledger.adminClient.closeAccount({ idempotencyKey: key(), accountId: closed.id, reason: "unused" });
    await ledger.expectRefusedWithoutTrace(
      () => post([leg(from.id, "debit", "1.00"), leg(closed.id, "credit", "1.00")]),
      Code.FailedPrecondition,
      "ACCOUNT_CLOSED",
    );
  });

  it("refuses a mutating call without an idempotency key", async () => {
    await ledger.expectRefusedWithoutTrace(
      () =>
        ledger.adminClient.transfer({
          idempotencyKey: "",
          fromAccountId: from.id,
          toAccountId: to.id,
          amount: "1",
        }),
      Code.InvalidArgument,
      "IDEMPOTENCY_KEY_MISSING",
    );
  });
});

describe("over gRPC (grpc-js)", () => {
  it("carries the code and the error-reason trailer", async () => {
    const root = fileURLToPath(new URL("../../../proto", import.meta.url));
    const pkg = grpc.loadPackageDefinition(
      protoLoader.loadSync("ledger/v1/ledger.proto", {
        includeDirs: [root],
        longs: String,
        enums: String,
        defaults: true,
      }),
    ) as any;
    const client = new pkg.ledger.v1.LedgerService(
      ledger.service.url.replace("http://", ""),
      grpc.credentials.createInsecure(),
    );
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${await mintToken({ sub: "ops", role: "admin" })}`);
    try {
      const error = await new Promise<grpc.ServiceError>((resolve, reject) =>
        client.transfer(
          { idempotencyKey: key(), fromAccountId: from.id, toAccountId: to.id, amount: "1000000.00" },
          metadata,
          (e: grpc.ServiceError | null) => (e ? resolve(e) : reject(new Error("expected a refusal"))),
        ),
      );
      expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(error.metadata.get("error-reason")).toEqual(["INSUFFICIENT_FUNDS"]);
      // The grpc-message trailer is percent-encoded on the wire; grpc-js hands it over as sent.
      expect(decodeURIComponent(error.details)).toMatch(/^INSUFFICIENT_FUNDS: /);
    } finally {
      client.close();
    }
  });
});
