import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { sql } from "@money/db";
import { decodeEnvelope, payloadAs } from "@money/kafka";
import { AuditEventSchema } from "@money/proto/events/v1/audit_pb";
import { expectRefusal, key, LoyaltyHarness, type Merchant } from "../support/loyalty-harness.js";

let h: LoyaltyHarness;
let m: Merchant;

beforeAll(async () => {
  h = await LoyaltyHarness.start("devices");
  m = await h.merchant({ pinMaxAttempts: 3, pinLockSeconds: 600 });
});

afterAll(async () => {
  await h?.stop();
});

async function auditActions(
  objectId: string,
): Promise<{ action: string; reason: string; principal: string }[]> {
  const payloads = await h.admin.anyFirst(sql.unsafe`
    SELECT payload FROM loyalty.outbox_written WHERE topic = 'audit.events' AND message_key = ${objectId} ORDER BY id
  `);
  return payloads.map((p) => {
    const event = payloadAs(decodeEnvelope(p as Buffer), AuditEventSchema)!;
    return { action: event.action, reason: event.reason, principal: event.actor!.principalId };
  });
}

describe("pairing", () => {
  it("pairs a device with a single-use code and gives it a terminal token", async () => {
    const { pairingCode } = await m.admin.createPairingCode({
      idempotencyKey: key(),
      storeId: m.storeId,
      deviceLabel: "Till 9",
    });
    expect(pairingCode).toMatch(/^[A-Z2-9]{5}-[A-Z2-9]{5}$/);
    const pairKey = key();
    const paired = await h
      .client()
      .pairDevice({ idempotencyKey: pairKey, pairingCode: pairingCode.toLowerCase() });
    expect(paired.device).toMatchObject({
      merchantId: m.merchantId,
      storeId: m.storeId,
      label: "Till 9",
      revoked: false,
    });
    const card = await h.enroll({ ...m, till: h.client(paired.deviceToken) });
    expect(card.merchantId).toBe(m.merchantId);

    // A retry whose answer was lost gets the same device and a fresh token; a second device does not.
    const retried = await h
      .client()
      .pairDevice({ idempotencyKey: pairKey, pairingCode: pairingCode.toLowerCase() });
    expect(retried.device?.id).toBe(paired.device?.id);
    expect(retried.deviceToken).not.toBe("");
    await expectRefusal(
      h.client().pairDevice({ idempotencyKey: key(), pairingCode }),
      Code.Unauthenticated,
      "PAIRING_CODE_INVALID",
    );
    expect(
      await h.admin.oneFirst(sql.unsafe`SELECT count(*) FROM loyalty.devices WHERE label = 'Till 9'`),
    ).toBe("1");
  });

  it("refuses an expired or unknown code, and stores only the code's hash", async () => {
    const { pairingCode } = await m.admin.createPairingCode({
      idempotencyKey: key(),
      storeId: m.storeId,
      deviceLabel: "Late till",
      ttlSeconds: 60,
    });
    h.clock.advanceSeconds(61);
    await expectRefusal(
      h.client().pairDevice({ idempotencyKey: key(), pairingCode }),
      Code.Unauthenticated,
      "PAIRING_CODE_INVALID",
    );
    await expectRefusal(
      h.client().pairDevice({ idempotencyKey: key(), pairingCode: "AAAAA-BBBBB" }),
      Code.Unauthenticated,
      "PAIRING_CODE_INVALID",
    );
    const stored = await h.admin.anyFirst(
      sql.unsafe`SELECT encode(code_hash, 'escape') FROM loyalty.pairing_codes`,
    );
    expect(stored.join()).not.toContain(pairingCode.replace("-", ""));
  });

  it("refuses an admin of another merchant a pairing code for this store", async () => {
    await expectRefusal(
      h
        .as("admin", { merchantId: "m-other" })
        .createPairingCode({ idempotencyKey: key(), storeId: m.storeId, deviceLabel: "x" }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
  });
});

describe("who acted", () => {
  it("records the acting device beside the principal when a device token posts a stamp", async () => {
    const card = await h.enroll(m);
    const { transaction } = await m.till.addStamp({ idempotencyKey: key(), cardId: card.id, staff: m.staff });
    expect(transaction).toMatchObject({
      actingTerminalDeviceId: m.deviceId,
      principalId: m.deviceId,
      principalRole: "terminal",
      staffId: m.staff.staffId,
      storeId: m.storeId,
      ip: "127.0.0.1",
    });
    const row = await h.admin.one(sql.unsafe`
      SELECT acting_terminal_device_id, staff_id, principal_role, user_agent FROM loyalty.loyalty_transactions
      WHERE id = ${transaction!.id}
    `);
    expect(row).toMatchObject({
      acting_terminal_device_id: m.deviceId,
      staff_id: m.staff.staffId,
      principal_role: "terminal",
    });
    expect(row["user_agent"]).toMatch(/connect-es/);
  });

  it("leaves the acting device NULL when a person posts with a user token through the web", async () => {
    const card = await h.enroll(m);
    const staffToken = h.as("staff", { sub: "back-office-bob", merchantId: m.merchantId });
    const { transaction } = await staffToken.addStamp({
      idempotencyKey: key(),
      cardId: card.id,
      storeId: m.storeId,
    });
    expect(transaction).toMatchObject({
      actingTerminalDeviceId: "",
      principalId: "back-office-bob",
      principalRole: "staff",
      staffId: "",
    });
    const adjusted = await m.admin.adjust({
      idempotencyKey: key(),
      cardId: card.id,
      pointsDelta: 5n,
      reason: "goodwill",
    });
    expect(adjusted.transaction).toMatchObject({
      actingTerminalDeviceId: "",
      principalRole: "admin",
      notes: "goodwill",
    });
    const devices = await h.admin.anyFirst(sql.unsafe`
      SELECT acting_terminal_device_id FROM loyalty.loyalty_transactions
      WHERE id IN (${transaction!.id}, ${adjusted.transaction!.id})
    `);
    expect(devices).toEqual([null, null]);
  });

  it("refuses a terminal naming another store than its own", async () => {
    const card = await h.enroll(m);
    const { store } = await m.admin.createStore({ idempotencyKey: key(), name: "Second", timeZone: "UTC" });
    await expectRefusal(
      m.till.addStamp({ idempotencyKey: key(), cardId: card.id, staff: m.staff, storeId: store!.id }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
  });
});

describe("revocation", () => {
  it("refuses a revoked device on every call, and writes nothing", async () => {
    const card = await h.enroll(m);
    const till = await h.pair(m.admin, m.storeId, "Stolen till");
    await till.till.addStamp({ idempotencyKey: key(), cardId: card.id, staff: m.staff });
    await expectRefusal(
      m.admin.revokeDevice({ idempotencyKey: key(), deviceId: till.deviceId, reason: "" }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    const revoked = await m.admin.revokeDevice({
      idempotencyKey: key(),
      deviceId: till.deviceId,
      reason: "stolen",
    });
    expect(revoked.device?.revoked).toBe(true);
    const before = await h.footprint();
    await expectRefusal(
      till.till.addStamp({ idempotencyKey: key(), cardId: card.id, staff: m.staff }),
      Code.Unauthenticated,
      "DEVICE_REVOKED",
    );
    await expectRefusal(till.till.getCard({ cardId: card.id }), Code.Unauthenticated, "DEVICE_REVOKED");
    expect(await h.footprint()).toEqual(before);
    expect((await auditActions(till.deviceId)).map((a) => a.action)).toEqual([
      "device.paired",
      "device.revoked",
    ]);
  });

  it("refuses a terminal token whose device was never paired", async () => {
    const ghost = randomUUID();
    const till = h.as("terminal", { sub: ghost, deviceId: ghost, merchantId: m.merchantId });
    await expectRefusal(till.getProgram({}), Code.Unauthenticated, "DEVICE_NOT_PAIRED");
    const forged = h.as("terminal", { sub: m.deviceId, deviceId: m.deviceId, merchantId: "m-other" });
    await expectRefusal(forged.getProgram({}), Code.Unauthenticated, "DEVICE_NOT_PAIRED");
  });
});

describe("staff PINs", () => {
  it("needs a staff member's PIN for a terminal posting", async () => {
    const card = await h.enroll(m);
    await expectRefusal(
      m.till.addStamp({ idempotencyKey: key(), cardId: card.id }),
      Code.InvalidArgument,
      "PIN_REQUIRED",
    );
  });

  it("locks a PIN after N wrong attempts, audits the lock, and an admin's unlock, and never stores the PIN", async () => {
    const { staffMember } = await m.admin.createStaffMember({
      idempotencyKey: key(),
      displayName: "Bob",
      pin: "123456",
    });
    const bob = { staffId: staffMember!.id, pin: "123456" };
    const wrong = { ...bob, pin: "000000" };
    const card = await h.enroll(m);
    const stamp = (staff: typeof bob) => m.till.addStamp({ idempotencyKey: key(), cardId: card.id, staff });
    const before = await h.footprint();

    await expectRefusal(stamp(wrong), Code.PermissionDenied, "PIN_INVALID");
    await expectRefusal(stamp(wrong), Code.PermissionDenied, "PIN_INVALID");
    await expectRefusal(stamp(wrong), Code.PermissionDenied, "PIN_LOCKED");
    // Locked: even the right PIN is refused, and nothing is posted.
    await expectRefusal(stamp(bob), Code.PermissionDenied, "PIN_LOCKED");
    expect((await h.footprint())["transactions"]).toBe(before["transactions"]);

    const locks = await auditActions(bob.staffId);
    expect(locks.map((a) => [a.action, a.principal])).toEqual([
      ["staff_member.created", `admin-of-${m.merchantId}`],
      ["staff_pin.locked", m.deviceId],
    ]);
    await expectRefusal(
      m.admin.unlockStaffPin({ idempotencyKey: key(), staffId: bob.staffId, reason: "" }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    const unlocked = await m.admin.unlockStaffPin({
      idempotencyKey: key(),
      staffId: bob.staffId,
      reason: "Bob forgot",
    });
    expect(unlocked.staffMember?.pinLockedUntil).toBeUndefined();
    expect((await auditActions(bob.staffId)).at(-1)).toMatchObject({
      action: "staff_pin.unlocked",
      reason: "Bob forgot",
    });
    await expectRefusal(
      m.admin.unlockStaffPin({ idempotencyKey: key(), staffId: bob.staffId, reason: "again" }),
      Code.FailedPrecondition,
      "PIN_NOT_LOCKED",
    );

    expect((await stamp(bob)).transaction?.staffId).toBe(bob.staffId);
    const stored = await h.admin.one(sql.unsafe`
      SELECT encode(pin_hash, 'hex') AS hash, failed_pin_attempts FROM loyalty.staff_members WHERE id = ${bob.staffId}
    `);
    expect(stored).toMatchObject({ failed_pin_attempts: 0 });
    expect(stored["hash"]).not.toContain(Buffer.from("123456").toString("hex"));
  });

  it("lets a lock run out after the program's lock time", async () => {
    const { staffMember } = await m.admin.createStaffMember({
      idempotencyKey: key(),
      displayName: "Carol",
      pin: "2468",
    });
    const carol = { staffId: staffMember!.id, pin: "2468" };
    const card = await h.enroll(m);
    const stamp = (pin: string) =>
      m.till.addStamp({ idempotencyKey: key(), cardId: card.id, staff: { ...carol, pin } });
    for (let i = 0; i < 3; i++) await stamp("1111").catch(() => undefined);
    await expectRefusal(stamp("2468"), Code.PermissionDenied, "PIN_LOCKED");
    h.clock.advanceSeconds(601);
    expect((await stamp("2468")).transaction?.staffId).toBe(carol.staffId);
  });

  it("refuses a PIN format that is not 4 to 8 digits", async () => {
    await expectRefusal(
      m.admin.createStaffMember({ idempotencyKey: key(), displayName: "Dan", pin: "12a4" }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
  });
});
