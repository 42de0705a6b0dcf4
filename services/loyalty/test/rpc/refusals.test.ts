import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { expectRefusal, key, LoyaltyHarness, type Merchant } from "../support/loyalty-harness.js";

let h: LoyaltyHarness;
let m: Merchant;
let noStamps: Merchant;

beforeAll(async () => {
  h = await LoyaltyHarness.start("refusals");
  m = await h.merchant({ minimumSpend: "" });
  noStamps = await h.merchant({ stampsPerReward: 0 });
});

afterAll(async () => {
  await h?.stop();
});

/** The refusals no other file exercises: each with its code and reason, and nothing written. */
it("refuses with the right code and reason, and writes nothing", async () => {
  const card = await h.enroll(m);
  const stampCard = await h.enroll(noStamps);
  const stamp = (await m.till.addStamp({ idempotencyKey: key(), cardId: card.id, staff: m.staff }))
    .transaction!;
  const revoked = await h.pair(m.admin, m.storeId, "Old till");
  await m.admin.revokeDevice({ idempotencyKey: key(), deviceId: revoked.deviceId, reason: "replaced" });
  const missing = randomUUID();
  const staffToken = h.as("staff", { merchantId: m.merchantId });

  const cases: [string, () => Promise<unknown>, Code, string][] = [
    ["no such card", () => m.till.getCard({ cardId: missing }), Code.NotFound, "CARD_NOT_FOUND"],
    [
      "malformed card id",
      () => m.till.getCard({ cardId: "1; DROP TABLE cards" }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    ],
    [
      "no such transaction",
      () => m.till.voidPoints({ idempotencyKey: key(), transactionId: missing, staff: m.staff }),
      Code.NotFound,
      "TRANSACTION_NOT_FOUND",
    ],
    [
      "VoidPoints of a stamp",
      () => m.till.voidPoints({ idempotencyKey: key(), transactionId: stamp.id, staff: m.staff }),
      Code.FailedPrecondition,
      "NOT_VOIDABLE",
    ],
    [
      "stamps off",
      () => noStamps.till.addStamp({ idempotencyKey: key(), cardId: stampCard.id, staff: noStamps.staff }),
      Code.FailedPrecondition,
      "STAMPS_DISABLED",
    ],
    [
      "already active",
      () => m.till.reactivateCard({ idempotencyKey: key(), cardId: card.id, reason: "x", staff: m.staff }),
      Code.FailedPrecondition,
      "CARD_ALREADY_ACTIVE",
    ],
    [
      "revoked twice",
      () => m.admin.revokeDevice({ idempotencyKey: key(), deviceId: revoked.deviceId, reason: "again" }),
      Code.FailedPrecondition,
      "DEVICE_ALREADY_REVOKED",
    ],
    [
      "no such device",
      () => m.admin.revokeDevice({ idempotencyKey: key(), deviceId: missing, reason: "x" }),
      Code.NotFound,
      "DEVICE_NOT_FOUND",
    ],
    [
      "no such store",
      () => staffToken.addStamp({ idempotencyKey: key(), cardId: card.id, storeId: missing }),
      Code.NotFound,
      "STORE_NOT_FOUND",
    ],
    [
      "no such staff member",
      () =>
        m.till.addStamp({ idempotencyKey: key(), cardId: card.id, staff: { staffId: missing, pin: "1234" } }),
      Code.NotFound,
      "STAFF_NOT_FOUND",
    ],
    [
      "staff member of another merchant",
      () =>
        noStamps.till.getCard({ cardId: stampCard.id }).then(() =>
          noStamps.till.enrollCard({
            idempotencyKey: key(),
            customerRef: "c",
            cardNumber: "XX-1",
            qrPayload: "x",
            staff: m.staff,
          }),
        ),
      Code.NotFound,
      "STAFF_NOT_FOUND",
    ],
    [
      "no program",
      () =>
        h
          .as("admin", { merchantId: "m-none" })
          .createStore({ idempotencyKey: key(), name: "s", timeZone: "UTC" }),
      Code.NotFound,
      "PROGRAM_NOT_FOUND",
    ],
    [
      "unknown merchant's program",
      () => h.as("auditor").getProgram({ merchantId: "m-none" }),
      Code.NotFound,
      "PROGRAM_NOT_FOUND",
    ],
    [
      "staff token without a merchant",
      () => h.as("staff").getCard({ cardId: card.id }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    ],
    [
      "no idempotency key",
      () => m.till.addStamp({ idempotencyKey: "", cardId: card.id, staff: m.staff }),
      Code.InvalidArgument,
      "IDEMPOTENCY_KEY_MISSING",
    ],
    ["no token", () => h.client().getCard({ cardId: card.id }), Code.Unauthenticated, "UNAUTHENTICATED"],
    [
      "a role the method does not allow",
      () => h.as("user").addStamp({ idempotencyKey: key(), cardId: card.id }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    ],
  ];
  const before = await h.footprint();
  for (const [what, call, code, reason] of cases) {
    await expectRefusal(call(), code, reason).catch((error: unknown) => {
      throw new Error(`${what}: ${String(error)}`);
    });
  }
  expect(await h.footprint()).toEqual(before);
});
