import { randomUUID } from "node:crypto";
import { expect } from "@jest/globals";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createDatabasePool, sql, type DatabasePool } from "@money/db";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import { decodeEnvelope, KafkaBus, payloadAs } from "@money/kafka";
import { keepOutboxCopies, testBrokers, uniqueName } from "@money/kafka/testing";
import { ledgerService } from "@money/ledger";
import { createLoyaltyService } from "@money/loyalty";
import { AuditEventSchema, type AuditEvent } from "@money/proto/events/v1/audit_pb";
import { EventEnvelopeSchema } from "@money/proto/events/v1/envelope_pb";
import { AccountType, LedgerService, type Account, type Transaction } from "@money/proto/ledger/v1/ledger_pb";
import {
  LoyaltyService,
  PointsExpiry,
  PointsRounding,
  ShortfallPolicy,
} from "@money/proto/loyalty/v1/loyalty_pb";
import { ReasonCode, RefundService, RefundStatus, type Refund } from "@money/proto/refunds/v1/refunds_pb";
import { createLogger, ERROR_REASON_HEADER, mintToken, tokenVerifierFromEnv, type Role } from "@money/rpc";
import { startService, type RunningService, type ServiceDefinition } from "@money/runtime";
import { createRefundsService, type RefundsOptions } from "../../src/service.js";
import { waitUntil } from "@money/testkit";

export type RefundsClient = Client<typeof RefundService>;
export type LedgerClient = Client<typeof LedgerService>;
export type LoyaltyClient = Client<typeof LoyaltyService>;

export const key = () => randomUUID();

/** The merchants' loyalty program in refund tests: 1 point per EUR, no expiry, a negative balance allowed. */
export const CLUB_PROGRAM = {
  name: "Club",
  currency: "EUR",
  stampsPerReward: 0,
  pointsPerUnit: "1",
  pointsRounding: PointsRounding.DOWN,
  minimumSpend: "",
  pointsExpiry: PointsExpiry.NEVER,
  shortfallPolicy: ShortfallPolicy.ALLOW_NEGATIVE_BALANCE,
};

export interface PlatformOptions {
  /** Start loyalty (default true). */
  loyalty?: boolean;
  /** Extra environment of every service (e.g. REFUNDS_SAGA_START_AT). */
  env?: Record<string, string>;
  /** Start the refunds service in this process (default true); false to run it as a child process. */
  inProcessRefunds?: boolean;
  /** Extra environment of the refunds service. */
  refundsEnv?: Record<string, string>;
  refunds?: RefundsOptions;
}

/** A payment in the ledger with the accounts it moved money between. */
export interface Payment {
  transaction: Transaction;
  customer: Account;
  merchant: Account;
  merchantId: string;
  orderReference: string;
  customerId: string;
}

/**
 * The platform a refund crosses, for one test file: a fresh database with
 * the ledger, loyalty and refunds services (each in its own schema, behind
 * its own role), one real Kafka broker, each service started as in
 * production: the ledger and loyalty run their saga participants themselves.
 * A namespace of its own keeps this file's saga messages apart from any
 * other run on the broker.
 */
export class RefundPlatform {
  ledger: RunningService | undefined;
  loyalty: RunningService | undefined;
  refunds: RunningService | undefined;
  readonly namespace = uniqueName("ns");
  private readonly tokens = new Map<string, Promise<string>>();

  private constructor(
    readonly name: string,
    readonly db: TestDatabase,
    readonly bus: KafkaBus,
    /** Superuser pool on the test database: reads every service's tables and outbox. */
    readonly admin: DatabasePool,
    private readonly options: PlatformOptions,
  ) {}

  static async start(name: string, options: PlatformOptions = {}): Promise<RefundPlatform> {
    const db = await createTestDatabase(`refunds_${name}`);
    const bus = new KafkaBus({ brokers: testBrokers(), clientId: `refunds-test-${name}` });
    const admin = await createDatabasePool(db.adminUrl, { maximumPoolSize: 4 });
    const platform = new RefundPlatform(name, db, bus, admin, options);
    try {
      platform.ledger = await platform.startOne(ledgerService, {});
      if (options.loyalty !== false) await platform.startLoyalty();
      if (options.inProcessRefunds !== false) await platform.startRefunds();
    } catch (error) {
      await platform.stop();
      throw error;
    }
    return platform;
  }

  /** The environment every service of this platform shares, with the saga namespace. */
  get env(): Record<string, string> {
    return { REFUNDS_SAGA_NAMESPACE: this.namespace, ...this.options.env };
  }

  /** The refunds service's environment, as a child process would get it too. */
  get refundsEnv(): Record<string, string> {
    return {
      ...this.env,
      LEDGER_URL: this.ledger!.url,
      REFUNDS_SWEEP_INTERVAL_MS: "200",
      REFUNDS_STEP_TIMEOUT_MS: "3000",
      REFUNDS_RETRY_BASE_MS: "100",
      ...this.options.refundsEnv,
    };
  }

  async startRefunds(definition?: ServiceDefinition): Promise<RunningService> {
    this.refunds = await this.startOne(
      definition ?? createRefundsService(this.options.refunds),
      this.refundsEnv,
    );
    return this.refunds;
  }

  /** Starts the loyalty service (again, on the same database), its saga participant with it. */
  async startLoyalty(): Promise<RunningService> {
    this.loyalty = await this.startOne(createLoyaltyService(), { LOYALTY_EXPIRY_INTERVAL_MS: "0" });
    return this.loyalty;
  }

  /** Stops the loyalty service, its saga participant with it: loyalty is away. */
  async stopLoyalty(): Promise<void> {
    await this.loyalty?.stop();
    this.loyalty = undefined;
  }

  async stopRefunds(): Promise<void> {
    await this.refunds?.stop();
    this.refunds = undefined;
  }

  async stop(): Promise<void> {
    await this.refunds?.stop().catch(() => {});
    await this.loyalty?.stop().catch(() => {});
    await this.ledger?.stop().catch(() => {});
    await this.bus.close().catch(() => {});
    await this.admin.end();
    await this.db.drop();
  }

  private async startOne(
    definition: ServiceDefinition,
    env: Record<string, string>,
  ): Promise<RunningService> {
    const log = createLogger(`${definition.name}-test`);
    log.level = process.env["LOG_LEVEL"] ?? "error";
    const service = await startService(definition, {
      adminDatabaseUrl: this.db.adminUrl,
      bus: this.bus,
      verifier: await tokenVerifierFromEnv({}),
      port: 0,
      roles: true,
      servicePassword: "dev",
      poolSize: 8,
      listen: true,
      env: { ...this.env, ...env },
      log,
    });
    await keepOutboxCopies(this.admin, definition.name);
    return service;
  }

  // ---------------------------------------------------------------- clients

  private client<S extends typeof RefundService | typeof LedgerService | typeof LoyaltyService>(
    service: S,
    baseUrl: string,
    role: Role,
    sub: string,
    merchantId?: string,
  ): Client<S> {
    const cacheKey = `${role}/${sub}/${merchantId ?? ""}`;
    let token = this.tokens.get(cacheKey);
    if (!token) {
      token = mintToken({ sub, role, merchantId }, { ttlSeconds: 3600 });
      this.tokens.set(cacheKey, token);
    }
    const bearer: Interceptor = (next) => async (req) => {
      req.header.set("authorization", `Bearer ${await token}`);
      return next(req);
    };
    return createClient(
      service,
      createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [bearer] }),
    );
  }

  /** Where the refunds service listens when it runs as a child process. */
  refundsUrl: string | undefined;

  refundsAs(role: Role, sub = `${role}-1`, merchantId?: string): RefundsClient {
    return this.client(RefundService, this.refundsUrl ?? this.refunds!.url, role, sub, merchantId);
  }

  get ledgerAdmin(): LedgerClient {
    return this.client(LedgerService, this.ledger!.url, "admin", "ledger-admin");
  }

  loyaltyAs(role: Role, sub: string, merchantId?: string): LoyaltyClient {
    return this.client(LoyaltyService, this.loyalty!.url, role, sub, merchantId);
  }

  // ---------------------------------------------------------------- ledger fixtures

  async openAccount(ownerRef: string, type = AccountType.LIABILITY, currency = "EUR"): Promise<Account> {
    const { account } = await this.ledgerAdmin.createAccount({
      idempotencyKey: key(),
      type,
      ownerRef,
      currency,
    });
    return account!;
  }

  /**
   * A settled card payment: the customer's wallet (funded from a bank asset
   * account) pays the merchant's account `amount`, with the metadata the
   * refunds service reads (merchant, order, customer).
   */
  async settledPayment(
    amount: string,
    init: { merchantId?: string; orderReference?: string; customerId?: string; currency?: string } = {},
  ): Promise<Payment> {
    const currency = init.currency ?? "EUR";
    const merchantId = init.merchantId ?? `m-${randomUUID().slice(0, 8)}`;
    const orderReference = init.orderReference ?? `order-${randomUUID().slice(0, 8)}`;
    const customerId = init.customerId ?? `customer-${randomUUID().slice(0, 8)}`;
    const bank = await this.openAccount("bank", AccountType.ASSET, currency);
    const customer = await this.openAccount(customerId, AccountType.LIABILITY, currency);
    const merchant = await this.openAccount(merchantId, AccountType.LIABILITY, currency);
    await this.ledgerAdmin.transfer({
      idempotencyKey: key(),
      fromAccountId: bank.id,
      toAccountId: customer.id,
      amount,
    });
    const { transaction } = await this.ledgerAdmin.recordPayment({
      idempotencyKey: key(),
      payerAccountId: customer.id,
      payeeAccountId: merchant.id,
      amount,
      externalRef: orderReference,
      metadata: { merchant_id: merchantId, order_reference: orderReference, customer_id: customerId },
    });
    return { transaction: transaction!, customer, merchant, merchantId, orderReference, customerId };
  }

  async transaction(id: string): Promise<Transaction> {
    return (await this.ledgerAdmin.getTransaction({ transactionId: id })).transaction!;
  }

  async balance(accountId: string): Promise<string> {
    return (await this.ledgerAdmin.getBalance({ accountId })).balance!.posted;
  }

  /** The reversals posted against a ledger transaction (cancelled ones included). */
  async reversalsOf(transactionId: string): Promise<{ id: string; amount: string; reversed: string }[]> {
    const rows = await this.admin.any(sql.unsafe`
      SELECT id, amount_minor, reversed_minor FROM ledger.transactions
      WHERE reverses_transaction_id = ${transactionId} ORDER BY created_at
    `);
    return rows.map((r) => ({
      id: r["id"] as string,
      amount: r["amount_minor"] as string,
      reversed: r["reversed_minor"] as string,
    }));
  }

  // ---------------------------------------------------------------- loyalty fixtures

  /** A loyalty program for the merchant (1 point per EUR), a card, and the points an order earned. */
  async earnedPoints(payment: Payment, purchaseAmount: string): Promise<{ cardId: string; points: bigint }> {
    const admin = this.loyaltyAs("admin", `admin-of-${payment.merchantId}`, payment.merchantId);
    await admin.configureProgram({
      idempotencyKey: key(),
      program: CLUB_PROGRAM,
    });
    const number = `C-${randomUUID().slice(0, 8)}`;
    const { card } = await admin.enrollCard({
      idempotencyKey: key(),
      customerRef: payment.customerId,
      cardNumber: number,
      qrPayload: `qr:${number}`,
    });
    const earned = await admin.earnPoints({
      idempotencyKey: key(),
      cardId: card!.id,
      orderReference: payment.orderReference,
      purchaseAmount,
      currency: "EUR",
    });
    return { cardId: card!.id, points: earned.transaction!.pointsDelta };
  }

  async pointsBalance(payment: Payment, cardId: string): Promise<bigint> {
    const admin = this.loyaltyAs("admin", `admin-of-${payment.merchantId}`, payment.merchantId);
    return (await admin.getCard({ cardId })).card!.points!.balance;
  }

  // ---------------------------------------------------------------- refunds

  /** Sets a merchant's bands: below `threshold` refunds approve themselves; above, `approvers` are needed. */
  async policy(
    merchantId: string,
    bands: { minAmount: string; approvalsRequired: number }[],
    ttlSeconds = 3600n,
  ) {
    await this.refundsAs("admin", "policy-admin").setApprovalPolicy({
      idempotencyKey: key(),
      policy: { merchantId, currency: "EUR", bands, approvalTtlSeconds: ttlSeconds },
      reason: "test policy",
    });
  }

  /** A merchant whose refunds all approve themselves. */
  async autoApproving(merchantId: string): Promise<void> {
    await this.policy(merchantId, [{ minAmount: "0", approvalsRequired: 0 }]);
  }

  async request(
    payment: Payment,
    amount: string,
    as: RefundsClient = this.refundsAs("staff", "clerk-1"),
  ): Promise<Refund> {
    const { refund } = await as.requestRefund({
      idempotencyKey: key(),
      originalTransactionId: payment.transaction.id,
      amount,
      currency: "EUR",
      reasonCode: ReasonCode.RETURN,
      note: "customer returned the goods",
    });
    return refund!;
  }

  async refund(id: string): Promise<Refund> {
    return (await this.refundsAs("auditor", "auditor-1").getRefund({ refundId: id })).refund!;
  }

  async waitForStatus(id: string, status: RefundStatus, timeoutMs = 30_000): Promise<Refund> {
    let last: Refund | undefined;
    await waitUntil(
      `refund ${id} to be ${RefundStatus[status]}`,
      async () => {
        last = await this.refund(id);
        return last.status === status;
      },
      { timeoutMs, intervalMs: 50 },
    ).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}; it is ${RefundStatus[last?.status ?? 0]}: ${JSON.stringify(last?.steps.map((s) => [s.step, s.status, s.attempts, s.lastError]))}`,
      );
    });
    return last!;
  }

  /** The audit events a service wrote (to its outbox) about one object, oldest first. */
  async auditTrail(schema: "refunds" | "ledger" | "loyalty", objectId: string): Promise<AuditEvent[]> {
    const rows = await this.admin.any(sql.unsafe`
      SELECT payload FROM ${sql.identifier([schema, "outbox_written"])}
      WHERE topic = 'audit.events' AND message_key = ${objectId} ORDER BY id
    `);
    return rows.map((r) => payloadAs(decodeEnvelope(r["payload"] as Buffer), AuditEventSchema)!);
  }

  /** The envelopes a service wrote to one topic, oldest first. */
  async outbox(schema: "refunds" | "ledger" | "loyalty", topic: string, key?: string) {
    const rows = await this.admin.any(sql.unsafe`
      SELECT payload FROM ${sql.identifier([schema, "outbox_written"])}
      WHERE topic = ${topic} ${key ? sql.fragment`AND message_key = ${key}` : sql.fragment``} ORDER BY id
    `);
    return rows.map((r) => fromBinary(EventEnvelopeSchema, r["payload"] as Buffer));
  }

  async count(table: string, where = sql.fragment`TRUE`): Promise<number> {
    const [schema, name] = table.split(".") as [string, string];
    return Number(
      await this.admin.oneFirst(
        sql.unsafe`SELECT count(*) FROM ${sql.identifier([schema, name])} WHERE ${where}`,
      ),
    );
  }
}

/** Asserts a call is refused with `code` and `reason` (the error-reason header). */
export async function expectRefusal(call: Promise<unknown>, code: Code, reason: string): Promise<void> {
  const error = await call.then(
    () => {
      throw new Error(`expected ${reason}, but the call succeeded`);
    },
    (e: unknown) => ConnectError.from(e),
  );
  expect({ code: Code[error.code], reason: error.metadata.get(ERROR_REASON_HEADER) }).toEqual({
    code: Code[code],
    reason,
  });
}
