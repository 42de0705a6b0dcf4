import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { createDatabasePool, sql, withUser } from "@money/db";
import { CardStatus, PointsRounding, TransactionType } from "@money/proto/loyalty/v1/loyalty_pb";
import { expectRefusal, key, LoyaltyHarness, program, type Merchant } from "../support/loyalty-harness.js";

let h: LoyaltyHarness;
let m: Merchant;

beforeAll(async () => {
  h = await LoyaltyHarness.start("cards");
  m = await h.merchant({ welcomeBonusPoints: 50n });
});

afterAll(async () => {
  await h?.stop();
});

describe("programs and stores", () => {
  it("creates a program, then replaces it: the version moves and left-out rewards are retired", async () => {
    const admin = h.as("admin", { merchantId: "m-config" });
    const first = await admin.configureProgram({ idempotencyKey: key(), program: program() });
    expect(first.program).toMatchObject({
      merchantId: "m-config",
      version: 1n,
      minimumSpend: "1.00",
      pointsPerUnit: "1",
    });
    const second = await admin.configureProgram({
      idempotencyKey: key(),
      program: program({
        pointsPerUnit: "2.5",
        pointsRounding: PointsRounding.HALF_EVEN,
        rewards: [{ code: "CAKE", name: "Big cake", pointsCost: 30n }],
      }),
    });
    expect(second.program).toMatchObject({
      version: 2n,
      pointsPerUnit: "2.5",
      pointsRounding: PointsRounding.HALF_EVEN,
    });
    expect(second.program?.rewards.map((r) => [r.code, r.pointsCost, r.active])).toEqual([
      ["CAKE", 30n, true],
      ["COFFEE", 10n, false],
    ]);
    expect((await admin.getProgram({})).program?.version).toBe(2n);
  });

  it("refuses a malformed program with INVALID_ARGUMENT and writes nothing", async () => {
    const admin = h.as("admin", { merchantId: "m-bad" });
    const cases: [Parameters<typeof program>[0], string][] = [
      [{ pointsPerUnit: "1e3" }, "INVALID_ARGUMENT"],
      [{ pointsPerUnit: "-1" }, "INVALID_ARGUMENT"],
      [{ pointsRounding: PointsRounding.UNSPECIFIED }, "INVALID_ARGUMENT"],
      [{ currency: "XXX" }, "UNKNOWN_CURRENCY"],
      [{ minimumSpend: "0.001" }, "INVALID_AMOUNT"],
      [{ rewards: [{ code: "A B", name: "x", pointsCost: 1n }] }, "INVALID_ARGUMENT"],
      [{ rewards: [{ code: "FREE", name: "x", pointsCost: 0n }] }, "INVALID_ARGUMENT"],
    ];
    for (const [init, reason] of cases) {
      await expectRefusal(
        admin.configureProgram({ idempotencyKey: key(), program: program(init) }),
        Code.InvalidArgument,
        reason,
      );
    }
    expect(
      await h.admin.oneFirst(sql.unsafe`SELECT count(*) FROM loyalty.programs WHERE merchant_id = 'm-bad'`),
    ).toBe("0");
  });

  it("keeps a merchant's admin to its own merchant; a platform admin names one", async () => {
    await expectRefusal(
      m.admin.configureProgram({ idempotencyKey: key(), merchantId: "someone-else", program: program() }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
    await expectRefusal(
      h.as("admin").configureProgram({ idempotencyKey: key(), program: program() }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    const platform = await h.as("admin").getProgram({ merchantId: m.merchantId });
    expect(platform.program?.merchantId).toBe(m.merchantId);
  });

  it("applies a changed program from the very next posting", async () => {
    const merchant = await h.merchant({ minimumSpend: "" });
    const card = await h.enroll(merchant);
    expect((await h.earn(merchant, card.id, "10.00")).transaction?.pointsDelta).toBe(10n);
    await merchant.admin.configureProgram({
      idempotencyKey: key(),
      program: program({ minimumSpend: "", pointsPerUnit: "3" }),
    });
    expect((await h.earn(merchant, card.id, "10.00")).transaction?.pointsDelta).toBe(30n);
  });

  it("refuses a store in an unknown time zone", async () => {
    await expectRefusal(
      m.admin.createStore({ idempotencyKey: key(), name: "Nowhere", timeZone: "Mars/Olympus" }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
  });
});

describe("cards", () => {
  it("enrolls a card and posts the welcome bonus as its own transaction", async () => {
    const res = await m.till.enrollCard({
      idempotencyKey: key(),
      customerRef: "cust-enroll",
      cardNumber: "CARD-0001",
      qrPayload: "qr:CARD-0001",
      staff: m.staff,
    });
    expect(res.card).toMatchObject({
      status: CardStatus.ACTIVE,
      stamps: 0,
      points: { balance: 50n, available: 50n },
    });
    expect(res.transactions.map((t) => [t.type, t.pointsDelta, t.pointsBalanceAfter])).toEqual([
      [TransactionType.CARD_ENROLLED, 0n, 0n],
      [TransactionType.WELCOME_BONUS, 50n, 50n],
    ]);
    expect(res.transactions[1]?.lotId).not.toBe("");
    expect(
      res.transactions.every((t) => t.actingTerminalDeviceId === m.deviceId && t.staffId === m.staff.staffId),
    ).toBe(true);
  });

  it("refuses a taken card number or QR payload with ALREADY_EXISTS and writes nothing", async () => {
    const card = await h.enroll(m);
    const before = await h.footprint();
    for (const taken of [
      { cardNumber: card.cardNumber, qrPayload: "qr:new" },
      { cardNumber: "NEW-NUMBER", qrPayload: card.qrPayload },
    ]) {
      await expectRefusal(
        m.till.enrollCard({ idempotencyKey: key(), customerRef: "c", staff: m.staff, ...taken }),
        Code.AlreadyExists,
        "CARD_NUMBER_TAKEN",
      );
    }
    expect(await h.footprint()).toEqual(before);
  });

  it("reads a card by id, by number and by QR payload", async () => {
    const card = await h.enroll(m);
    const read = (await m.till.getCard({ cardId: card.id })).card;
    expect(read).toMatchObject({ id: card.id, customerRef: card.customerRef, points: { balance: 50n } });
    const byNumber = await m.till.lookupCard({ key: { case: "cardNumber", value: card.cardNumber } });
    const byQr = await m.till.lookupCard({ key: { case: "qrPayload", value: card.qrPayload } });
    expect([byNumber.card?.id, byQr.card?.id]).toEqual([card.id, card.id]);
    await expectRefusal(
      m.till.lookupCard({ key: { case: "cardNumber", value: "NO-SUCH-CARD" } }),
      Code.NotFound,
      "CARD_NOT_FOUND",
    );
  });

  it("lets a customer read their own card only", async () => {
    const card = await h.enroll(m, "customer-42");
    const own = await h.as("user", { sub: "customer-42" }).getCard({ cardId: card.id });
    expect(own.card?.id).toBe(card.id);
    await expectRefusal(
      h.as("user", { sub: "customer-43" }).getCard({ cardId: card.id }),
      Code.NotFound,
      "CARD_NOT_FOUND",
    );
  });

  it("keeps a terminal or a staff member of another merchant away from the card", async () => {
    const card = await h.enroll(m);
    const other = await h.merchant();
    await expectRefusal(other.till.getCard({ cardId: card.id }), Code.PermissionDenied, "PERMISSION_DENIED");
    const before = await h.footprint();
    await expectRefusal(h.earn(other, card.id, "10.00"), Code.PermissionDenied, "PERMISSION_DENIED");
    await expectRefusal(
      h
        .as("staff", { merchantId: other.merchantId })
        .addStamp({ idempotencyKey: key(), cardId: card.id, storeId: other.storeId }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
    expect(await h.footprint()).toEqual(before);
  });

  it("deactivates a card: it can neither earn nor redeem, and nothing is written; reactivation restores it", async () => {
    const card = await h.enroll(m);
    await expectRefusal(
      m.till.deactivateCard({ idempotencyKey: key(), cardId: card.id, reason: "", staff: m.staff }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    const off = await m.till.deactivateCard({
      idempotencyKey: key(),
      cardId: card.id,
      reason: "reported lost",
      staff: m.staff,
    });
    expect(off.card).toMatchObject({ status: CardStatus.INACTIVE, statusReason: "reported lost" });
    expect(off.transaction).toMatchObject({ type: TransactionType.CARD_DEACTIVATED, notes: "reported lost" });

    const before = await h.footprint();
    const s = { idempotencyKey: key(), cardId: card.id, staff: m.staff };
    await expectRefusal(m.till.addStamp({ ...s }), Code.FailedPrecondition, "CARD_INACTIVE");
    await expectRefusal(h.earn(m, card.id, "20.00"), Code.FailedPrecondition, "CARD_INACTIVE");
    await expectRefusal(
      m.till.redeemPoints({ ...s, idempotencyKey: key(), rewardCode: "COFFEE" }),
      Code.FailedPrecondition,
      "CARD_INACTIVE",
    );
    await expectRefusal(
      m.till.redeemStamps({ ...s, idempotencyKey: key() }),
      Code.FailedPrecondition,
      "CARD_INACTIVE",
    );
    await expectRefusal(
      m.till.deactivateCard({ ...s, idempotencyKey: key(), reason: "again" }),
      Code.FailedPrecondition,
      "CARD_ALREADY_INACTIVE",
    );
    expect(await h.footprint()).toEqual(before);

    const on = await m.till.reactivateCard({
      idempotencyKey: key(),
      cardId: card.id,
      reason: "found",
      staff: m.staff,
    });
    expect(on.transaction?.type).toBe(TransactionType.CARD_REACTIVATED);
    expect((await h.earn(m, card.id, "20.00")).card?.points?.balance).toBe(70n);
  });
});

describe("the ledger is append-only", () => {
  it("refuses UPDATE, DELETE and TRUNCATE from the service role, and UPDATE and DELETE even from the owner", async () => {
    const card = await h.enroll(m);
    const asService = await createDatabasePool(withUser(h.db.adminUrl, "loyalty_service", "dev"), {
      maximumPoolSize: 1,
    });
    try {
      for (const statement of [
        sql.unsafe`UPDATE loyalty.loyalty_transactions SET points_delta = 1000 WHERE card_id = ${card.id}`,
        sql.unsafe`DELETE FROM loyalty.loyalty_transactions WHERE card_id = ${card.id}`,
        sql.unsafe`TRUNCATE loyalty.loyalty_transactions CASCADE`,
        sql.unsafe`DELETE FROM loyalty.lot_movements`,
      ]) {
        await expect(asService.query(statement)).rejects.toThrow(/permission denied/);
      }
    } finally {
      await asService.end();
    }
    await expect(
      h.admin.query(
        sql.unsafe`UPDATE loyalty.loyalty_transactions SET notes = 'edited' WHERE card_id = ${card.id}`,
      ),
    ).rejects.toThrow(/append-only/);
    await expect(
      h.admin.query(sql.unsafe`DELETE FROM loyalty.loyalty_transactions WHERE card_id = ${card.id}`),
    ).rejects.toThrow(/append-only/);
  });
});

describe("what a posting names is never deleted", () => {
  it("refuses to delete the program, store, staff member or device of a posting, from the service role and the owner", async () => {
    const card = await h.enroll(m);
    await h.earn(m, card.id, "10.00");
    const rows = [
      sql.unsafe`DELETE FROM loyalty.devices WHERE id = ${m.deviceId}`,
      sql.unsafe`DELETE FROM loyalty.staff_members WHERE id = ${m.staff.staffId}`,
      sql.unsafe`DELETE FROM loyalty.stores WHERE id = ${m.storeId}`,
      sql.unsafe`DELETE FROM loyalty.programs WHERE merchant_id = ${m.merchantId}`,
    ];
    const asService = await createDatabasePool(withUser(h.db.adminUrl, "loyalty_service", "dev"), {
      maximumPoolSize: 1,
    });
    try {
      for (const statement of [...rows, sql.unsafe`TRUNCATE loyalty.devices CASCADE`]) {
        await expect(asService.query(statement)).rejects.toThrow(/permission denied/);
      }
    } finally {
      await asService.end();
    }
    for (const statement of rows) {
      await expect(h.admin.query(statement)).rejects.toThrow(/never deleted/);
    }
    // The posting still names rows that exist.
    expect(
      await h.admin.oneFirst(sql.unsafe`
        SELECT count(*) FROM loyalty.loyalty_transactions t
        JOIN loyalty.devices d ON d.id = t.acting_terminal_device_id
        JOIN loyalty.staff_members s ON s.id = t.staff_id
        JOIN loyalty.stores st ON st.id = t.store_id
        JOIN loyalty.programs p ON p.merchant_id = t.merchant_id
        WHERE t.card_id = ${card.id} AND t.type = 'points_earned'
      `),
    ).toBe("1");
  });
});
