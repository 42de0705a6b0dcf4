import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { sql } from "@money/db";
import { LoyaltyService } from "@money/proto/loyalty/v1/loyalty_pb";
import { key, LoyaltyHarness, type Merchant } from "../support/loyalty-harness.js";

let h: LoyaltyHarness;
let m: Merchant;

beforeAll(async () => {
  h = await LoyaltyHarness.start("wire");
  m = await h.merchant({ minimumSpend: "" });
});

afterAll(async () => {
  await h?.stop();
});

/** A Connect unary call with JSON over HTTP/1.1: all a till with only an HTTP client needs. */
async function pos(method: string, body: unknown, bearer?: string) {
  const response = await fetch(`${h.service.url}/loyalty.v1.LoyaltyService/${method}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "corner-shop-pos/2.1",
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe("a POS till speaking Connect JSON over HTTP/1.1", () => {
  it("pairs, enrolls, earns, retries after a timeout, and reads the card, with int64 as JSON strings", async () => {
    const { pairingCode } = await m.admin.createPairingCode({
      idempotencyKey: key(),
      storeId: m.storeId,
      deviceLabel: "Web till",
    });
    const paired = await pos("PairDevice", { idempotencyKey: "pair-1", pairingCode });
    expect(paired.status).toBe(200);
    const token = paired.body["deviceToken"] as string;
    const deviceId = (paired.body["device"] as { id: string }).id;
    const staff = { staffId: m.staff.staffId, pin: m.staff.pin };

    const enrolled = await pos(
      "EnrollCard",
      {
        idempotencyKey: "enroll-1",
        customerRef: "walk-in-7",
        cardNumber: "POS-0007",
        qrPayload: "qr:POS-0007",
        staff,
      },
      token,
    );
    expect(enrolled.status).toBe(200);
    const cardId = (enrolled.body["card"] as { id: string }).id;

    const earn = {
      idempotencyKey: "earn-1",
      cardId,
      staff,
      orderReference: "till-7-receipt-42",
      purchaseAmount: "12.50",
      currency: "EUR",
    };
    const first = await pos("EarnPoints", earn, token);
    expect(first.status).toBe(200);
    expect(first.body["transaction"]).toMatchObject({
      type: "TRANSACTION_TYPE_POINTS_EARNED",
      pointsDelta: "12",
      pointsBalanceAfter: "12",
      purchaseAmount: "12.50",
      actingTerminalDeviceId: deviceId,
      principalRole: "terminal",
      userAgent: "corner-shop-pos/2.1",
    });
    const retry = await pos("EarnPoints", earn, token);
    expect(retry.body).toEqual(first.body);
    expect(
      await h.admin.oneFirst(
        sql.unsafe`SELECT count(*) FROM loyalty.loyalty_transactions WHERE order_reference = 'till-7-receipt-42'`,
      ),
    ).toBe("1");

    const card = await pos("GetCard", { cardId }, token);
    expect((card.body["card"] as { points: unknown }).points).toMatchObject({
      balance: "12",
      available: "12",
    });
  });

  it("gets refusals as JSON with the Connect code, the reason up front and in the error-reason header", async () => {
    const card = await h.enroll(m);
    const till = await h.pair(m.admin, m.storeId, "JSON till");
    const redeem = await pos(
      "RedeemPoints",
      { idempotencyKey: "redeem-1", cardId: card.id, rewardCode: "COFFEE", staff: m.staff },
      till.token,
    );
    expect(redeem.status).toBe(400);
    expect(redeem.body).toMatchObject({
      code: "failed_precondition",
      message: expect.stringMatching(/^INSUFFICIENT_POINTS: /),
    });
    expect(redeem.headers.get("error-reason")).toBe("INSUFFICIENT_POINTS");

    const wrongPin = await pos(
      "AddStamp",
      { idempotencyKey: "stamp-1", cardId: card.id, staff: { ...m.staff, pin: "0000" } },
      till.token,
    );
    expect(wrongPin).toMatchObject({ status: 403, body: { code: "permission_denied" } });
    expect(JSON.stringify(wrongPin.body)).not.toContain("0000");

    await m.admin.revokeDevice({ idempotencyKey: key(), deviceId: till.deviceId, reason: "replaced" });
    const revoked = await pos("GetCard", { cardId: card.id }, till.token);
    expect(revoked).toMatchObject({
      status: 401,
      body: { code: "unauthenticated", message: expect.stringMatching(/^DEVICE_REVOKED/) },
    });
  });
});

describe("the same service over gRPC", () => {
  it("serves a till on HTTP/2 with the gRPC protocol", async () => {
    const card = await h.enroll(m);
    const grpc = createClient(
      LoyaltyService,
      createGrpcTransport({
        baseUrl: h.service.url,
        interceptors: [
          (next) => async (req) => {
            req.header.set(
              "authorization",
              `Bearer ${await h.pair(m.admin, m.storeId, "gRPC till").then((t) => t.token)}`,
            );
            return next(req);
          },
        ],
      }),
    );
    const stamped = await grpc.addStamp({ idempotencyKey: key(), cardId: card.id, staff: m.staff });
    expect(stamped.card?.stamps).toBe(1);
  });
});
