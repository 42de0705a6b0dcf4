import { randomUUID } from "node:crypto";
import { expect } from "@jest/globals";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createDatabasePool, sql, type DatabasePool } from "@money/db";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import { KafkaBus } from "@money/kafka";
import { keepOutboxCopies, testBrokers } from "@money/kafka/testing";
import {
  LoyaltyService,
  PointsExpiry,
  PointsRounding,
  ShortfallPolicy,
  ProgramSchema,
  type Card,
  type Program,
} from "@money/proto/loyalty/v1/loyalty_pb";
import { createLogger, mintToken, tokenVerifierFromEnv, type Role } from "@money/rpc";
import { startService, type RunningService } from "@money/runtime";
import { createLoyaltyService } from "../../src/service.js";
import { TestClock } from "./test-clock.js";

export type LoyaltyClient = Client<typeof LoyaltyService>;

/** A merchant ready for the till: program, store, a staff member with a PIN, a paired terminal. */
export interface Merchant {
  merchantId: string;
  storeId: string;
  staff: { staffId: string; pin: string };
  deviceId: string;
  /** Client of the paired terminal. */
  till: LoyaltyClient;
  /** Client of the merchant's admin (token scoped to the merchant). */
  admin: LoyaltyClient;
}

export const key = () => randomUUID();

/** A program with stamps and points, no caps, no expiry: tests override what they exercise. */
export function program(init: Partial<MessageInitShape<typeof ProgramSchema>> = {}): Program {
  return create(ProgramSchema, {
    name: "Coffee club",
    currency: "EUR",
    stampsPerReward: 5,
    stampRewardName: "Free coffee",
    maxStampsPerVisit: 2,
    stampCooldownSeconds: 0,
    pointsPerUnit: "1",
    pointsRounding: PointsRounding.DOWN,
    minimumSpend: "1.00",
    welcomeBonusPoints: 0n,
    pointsExpiry: PointsExpiry.NEVER,
    pointsExpiryDays: 0,
    shortfallPolicy: ShortfallPolicy.ALLOW_NEGATIVE_BALANCE,
    rewards: [
      { code: "COFFEE", name: "Coffee", pointsCost: 10n },
      { code: "CAKE", name: "Cake", pointsCost: 25n },
    ],
    ...init,
  } as MessageInitShape<typeof ProgramSchema>);
}

/**
 * One loyalty service per test file: a fresh database, the real service on a
 * free port with its outbox relay to the real Kafka broker, a clock the test
 * can move, and typed Connect clients (JSON over HTTP/1.1) per token.
 */
export class LoyaltyHarness {
  private constructor(
    readonly service: RunningService,
    readonly db: TestDatabase,
    /** Superuser pool on the test database: reads (and tries to tamper with) the service's tables. */
    readonly admin: DatabasePool,
    readonly clock: TestClock,
    private readonly bus: KafkaBus,
  ) {}

  static async start(name: string, env: Record<string, string> = {}): Promise<LoyaltyHarness> {
    const db = await createTestDatabase(`loyalty_${name}`);
    const bus = new KafkaBus({ brokers: testBrokers(), clientId: `loyalty-test-${name}` });
    const clock = new TestClock();
    const service = await startService(createLoyaltyService({ clock }), {
      adminDatabaseUrl: db.adminUrl,
      bus,
      verifier: await tokenVerifierFromEnv({}),
      port: 0,
      roles: true,
      servicePassword: "dev",
      poolSize: 10,
      listen: true,
      env: { LOYALTY_EXPIRY_INTERVAL_MS: "0", ...env },
      log: createLogger("loyalty-test").child({}, { level: process.env["LOG_LEVEL"] ?? "silent" }),
    });
    const admin = await createDatabasePool(db.adminUrl, { maximumPoolSize: 3 });
    await keepOutboxCopies(admin, "loyalty");
    return new LoyaltyHarness(service, db, admin, clock, bus);
  }

  async stop(): Promise<void> {
    await this.service.stop();
    await this.bus.close();
    await this.admin.end();
    await this.db.drop();
  }

  /** A client whose calls carry `token` (or none). */
  client(token?: string | Promise<string>): LoyaltyClient {
    const bearer: Interceptor = (next) => async (req) => {
      if (token) req.header.set("authorization", `Bearer ${await token}`);
      return next(req);
    };
    return createClient(
      LoyaltyService,
      createConnectTransport({ baseUrl: this.service.url, httpVersion: "1.1", interceptors: [bearer] }),
    );
  }

  /** A client for a platform token of `role`, optionally scoped to a merchant. */
  as(role: Role, claims: { sub?: string; merchantId?: string; deviceId?: string } = {}): LoyaltyClient {
    return this.client(
      mintToken({
        sub: claims.sub ?? `${role}-1`,
        role,
        merchantId: claims.merchantId,
        deviceId: claims.deviceId,
      }),
    );
  }

  /** Configures a merchant, a store, a staff member and a paired terminal. */
  async merchant(
    init: Partial<MessageInitShape<typeof ProgramSchema>> = {},
    merchantId = `m-${randomUUID().slice(0, 8)}`,
  ): Promise<Merchant> {
    const admin = this.as("admin", { sub: `admin-of-${merchantId}`, merchantId });
    await admin.configureProgram({ idempotencyKey: key(), program: program(init) });
    const { store } = await admin.createStore({
      idempotencyKey: key(),
      name: "Main street",
      timeZone: "Europe/Paris",
    });
    const pin = "4321";
    const { staffMember } = await admin.createStaffMember({
      idempotencyKey: key(),
      displayName: "Alice",
      pin,
    });
    const device = await this.pair(admin, store!.id);
    return {
      merchantId,
      storeId: store!.id,
      staff: { staffId: staffMember!.id, pin },
      deviceId: device.deviceId,
      till: device.till,
      admin,
    };
  }

  /** Pairs a new terminal in `storeId` the way a till does: a code from the admin, then PairDevice without a token. */
  async pair(
    admin: LoyaltyClient,
    storeId: string,
    label = "Till 1",
  ): Promise<{ deviceId: string; token: string; till: LoyaltyClient }> {
    const { pairingCode } = await admin.createPairingCode({
      idempotencyKey: key(),
      storeId,
      deviceLabel: label,
    });
    const paired = await this.client().pairDevice({ idempotencyKey: key(), pairingCode });
    return { deviceId: paired.device!.id, token: paired.deviceToken, till: this.client(paired.deviceToken) };
  }

  /** Enrolls a card at the till. */
  async enroll(m: Merchant, customerRef = `cust-${randomUUID().slice(0, 8)}`): Promise<Card> {
    const number = randomUUID().slice(0, 13).toUpperCase();
    const { card } = await m.till.enrollCard({
      idempotencyKey: key(),
      customerRef,
      cardNumber: number,
      qrPayload: `qr:${number}`,
      staff: m.staff,
    });
    return card!;
  }

  /** Earns `amount` EUR at the till, under a fresh order reference. */
  async earn(m: Merchant, cardId: string, amount: string, orderReference = `order-${randomUUID()}`) {
    return m.till.earnPoints({
      idempotencyKey: key(),
      cardId,
      staff: m.staff,
      orderReference,
      purchaseAmount: amount,
      currency: "EUR",
    });
  }

  async card(m: Merchant, cardId: string): Promise<Card> {
    return (await m.till.getCard({ cardId })).card!;
  }

  /** Row counts of every table a posting touches, to show that a refusal wrote nothing. */
  async footprint(): Promise<Record<string, string>> {
    const row = await this.admin.one(sql.unsafe`
      SELECT (SELECT count(*) FROM loyalty.loyalty_transactions) AS transactions,
             (SELECT count(*) FROM loyalty.points_lots) AS lots,
             (SELECT count(*) FROM loyalty.lot_movements) AS movements,
             (SELECT count(*) FROM loyalty.daily_usage) AS daily_usage,
             (SELECT count(*) FROM loyalty.cards) AS cards,
             (SELECT coalesce(sum(version), 0) FROM loyalty.cards) AS card_versions,
             (SELECT count(*) FROM loyalty.outbox_written) AS outbox,
             (SELECT count(*) FROM loyalty.idempotency_keys WHERE response IS NOT NULL) AS idempotency_keys
    `);
    return row as Record<string, string>;
  }

  /**
   * The card's books agree: its balance is the sum of its rows' deltas and
   * the remaining points of its lots minus its debt, and every lot's
   * remaining points are its original points plus its movements.
   */
  async expectLotsAddUp(cardId: string): Promise<void> {
    const row = await this.admin.one(sql.unsafe`
      SELECT c.points_balance, c.points_debt,
             (SELECT coalesce(sum(remaining_points), 0) FROM loyalty.points_lots WHERE card_id = c.id) AS remaining,
             (SELECT coalesce(sum(points_delta), 0) FROM loyalty.loyalty_transactions WHERE card_id = c.id) AS deltas,
             (SELECT count(*) FROM loyalty.points_lots l
               WHERE l.card_id = c.id
                 AND l.remaining_points <> l.original_points
                   + (SELECT coalesce(sum(points_delta), 0) FROM loyalty.lot_movements m WHERE m.lot_id = l.id))
               AS lots_off
      FROM loyalty.cards c WHERE c.id = ${cardId}
    `);
    expect(row["deltas"]).toBe(row["points_balance"]);
    expect(BigInt(row["points_balance"] as string)).toBe(
      BigInt(row["remaining"] as string) - BigInt(row["points_debt"] as string),
    );
    expect(row["lots_off"]).toBe("0");
  }
}

/** Runs `call`, expecting a refusal with `code` and `reason` (the error-reason metadata). */
export async function expectRefusal(
  call: Promise<unknown>,
  code: Code,
  reason: string,
): Promise<ConnectError> {
  const error = await call.then(
    () => {
      throw new Error(`expected ${reason}, but the call succeeded`);
    },
    (e: unknown) => ConnectError.from(e),
  );
  expect({ code: Code[error.code], reason: error.metadata.get("error-reason") }).toEqual({
    code: Code[code],
    reason,
  });
  return error;
}

/** A call's outcome as one comparable string: "ok", or the refusal's "Code:REASON". */
export function outcomeOf(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => "ok",
    (e: unknown) => `${Code[ConnectError.from(e).code]}:${ConnectError.from(e).metadata.get("error-reason")}`,
  );
}
