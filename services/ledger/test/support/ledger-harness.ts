import { randomUUID } from "node:crypto";
import { expect } from "@jest/globals";
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createDatabasePool, sql, type DatabasePool } from "@money/db";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import { KafkaBus } from "@money/kafka";
import { keepOutboxCopies, testBrokers } from "@money/kafka/testing";
import { ledgerService } from "@money/ledger";
import {
  AccountType,
  Direction,
  LedgerService,
  type Account,
  type CreateAccountRequest,
} from "@money/proto/ledger/v1/ledger_pb";
import { createLogger, mintToken, tokenVerifierFromEnv, type Role } from "@money/rpc";
import { startService, type RunningService } from "@money/runtime";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CreateAccountRequestSchema, LegSchema } from "@money/proto/ledger/v1/ledger_pb";

export type LedgerClient = Client<typeof LedgerService>;

/**
 * One ledger per test file: a fresh database, the real service on a free
 * port with its outbox relay to the real Kafka broker, and typed Connect
 * clients that carry a token per role.
 */
export class LedgerHarness {
  private readonly clients = new Map<string, LedgerClient>();

  private constructor(
    readonly service: RunningService,
    readonly db: TestDatabase,
    /** Superuser pool on the test database: reads (and tries to tamper with) the ledger's tables. */
    readonly admin: DatabasePool,
    private readonly bus: KafkaBus,
  ) {}

  static async start(name: string, env: Record<string, string> = {}): Promise<LedgerHarness> {
    const db = await createTestDatabase(`ledger_${name}`);
    const bus = new KafkaBus({ brokers: testBrokers(), clientId: `ledger-test-${name}` });
    const service = await startService(ledgerService, {
      adminDatabaseUrl: db.adminUrl,
      bus,
      verifier: await tokenVerifierFromEnv({}),
      port: 0,
      roles: true,
      servicePassword: "dev",
      poolSize: 8,
      listen: true,
      env,
      log: quietLogger(),
    });
    const admin = await createDatabasePool(db.adminUrl, { maximumPoolSize: 3 });
    await keepOutboxCopies(admin, "ledger");
    return new LedgerHarness(service, db, admin, bus);
  }

  async stop(): Promise<void> {
    await this.service.stop();
    await this.bus.close();
    await this.admin.end();
    await this.db.drop();
  }

  /** A client whose calls carry a token for `role` with subject `sub`. */
  as(role: Role, sub = `${role}-1`): LedgerClient {
    const cacheKey = `${role}/${sub}`;
    let client = this.clients.get(cacheKey);
    if (!client) {
      const token = mintToken({ sub, role }, { ttlSeconds: 3600 });
      const bearer: Interceptor = (next) => async (req) => {
        req.header.set("authorization", `Bearer ${await token}`);
        return next(req);
      };
      client = createClient(
        LedgerService,
        createConnectTransport({ baseUrl: this.service.url, httpVersion: "1.1", interceptors: [bearer] }),
      );
      this.clients.set(cacheKey, client);
    }
    return client;
  }

  get adminClient(): LedgerClient {
    return this.as("admin");
  }

  /** Opens an account as an admin. */
  async openAccount(
    init: Partial<MessageInitShape<typeof CreateAccountRequestSchema>> = {},
  ): Promise<Account> {
    const { account } = await this.adminClient.createAccount({
      idempotencyKey: key(),
      type: AccountType.LIABILITY,
      ownerRef: "owner-1",
      currency: "EUR",
      ...init,
    } as CreateAccountRequest);
    return account!;
  }

  /**
   * A customer account (liability, may not go below zero) holding `amount`,
   * funded from a cash asset account of the same currency.
   */
  async fundedAccount(
    amount: string,
    init: Partial<MessageInitShape<typeof CreateAccountRequestSchema>> = {},
  ): Promise<Account> {
    const account = await this.openAccount({ debitsMustNotExceedCredits: true, ...init });
    if (amount !== "0" && amount !== "0.00") {
      const cash = await this.openAccount({
        type: AccountType.ASSET,
        ownerRef: "bank",
        currency: account.currency,
      });
      await this.adminClient.transfer({
        idempotencyKey: key(),
        fromAccountId: cash.id,
        toAccountId: account.id,
        amount,
      });
    }
    return (await this.adminClient.getAccount({ accountId: account.id })).account!;
  }

  /** Row counts of every table a write touches, to show that a refusal wrote nothing. */
  async footprint(): Promise<Record<string, string>> {
    const row = await this.admin.one(sql.unsafe`
      SELECT (SELECT count(*) FROM ledger.transactions) AS transactions,
             (SELECT count(*) FROM ledger.entries) AS entries,
             (SELECT count(*) FROM ledger.transaction_status_history) AS history,
             (SELECT count(*) FROM ledger.holds) AS holds,
             (SELECT count(*) FROM ledger.outbox_written) AS outbox,
             (SELECT count(*) FROM ledger.idempotency_keys) AS idempotency_keys,
             (SELECT count(*) FROM ledger.wallets) AS wallets,
             (SELECT count(*) FROM ledger.accounts) AS accounts,
             (SELECT coalesce(sum(spent_minor), 0) FROM ledger.wallet_daily_usage) AS spent,
             (SELECT string_agg(account_id || ':' || posted_debits_minor || '/' || posted_credits_minor || '/' ||
                     pending_debits_minor || '/' || pending_credits_minor || '/' || version, ',' ORDER BY account_id)
                FROM ledger.balances) AS balances,
             (SELECT string_agg(id || ':' || status || ':' || reversed_minor, ',' ORDER BY id) FROM ledger.transactions) AS states
    `);
    return row as Record<string, string>;
  }

  /** Runs `call`, expects it refused with `code` and `reason`, and expects it to have written nothing. */
  async expectRefusedWithoutTrace(
    call: () => Promise<unknown>,
    code: Code,
    reason: string,
  ): Promise<ConnectError> {
    const before = await this.footprint();
    const error = await expectRefusal(call(), code, reason);
    expect(await this.footprint()).toEqual(before);
    return error;
  }

  /** Debits equal credits in every currency, over entries and over balance rows. */
  async expectBooksBalance(): Promise<void> {
    const unbalanced = await this.admin.any(sql.unsafe`
      SELECT a.currency,
             sum(e.amount_minor) FILTER (WHERE e.direction = 'debit') AS debits,
             sum(e.amount_minor) FILTER (WHERE e.direction = 'credit') AS credits
      FROM ledger.entries e JOIN ledger.accounts a ON a.id = e.account_id
      GROUP BY a.currency
      HAVING sum(e.amount_minor) FILTER (WHERE e.direction = 'debit')
             IS DISTINCT FROM sum(e.amount_minor) FILTER (WHERE e.direction = 'credit')
    `);
    expect(unbalanced).toEqual([]);
    const check = await this.as("auditor").checkBalances({});
    expect(check.drifts).toEqual([]);
    expect(check.ok).toBe(true);
  }
}

/** A fresh idempotency key. */
export function key(): string {
  return randomUUID();
}

export function leg(
  accountId: string,
  direction: "debit" | "credit",
  amount: string,
  extra: { expectedVersion?: bigint; currency?: string } = {},
): MessageInitShape<typeof LegSchema> {
  return {
    accountId,
    direction: direction === "debit" ? Direction.DEBIT : Direction.CREDIT,
    amount,
    ...extra,
  };
}

/** Awaits a refusal: its code, the reason leading the message, and the reason in the error-reason header. */
export async function expectRefusal(
  promise: Promise<unknown>,
  code: Code,
  reason: string,
): Promise<ConnectError> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected ${Code[code]} ${reason}, got a response: ${JSON.stringify(value, bigints)}`);
    },
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectError)) throw error;
  expect({ code: Code[error.code], message: error.rawMessage }).toEqual({
    code: Code[code],
    message: expect.stringMatching(new RegExp(`^${reason}: `)),
  });
  expect(error.metadata.get("error-reason")).toBe(reason);
  return error;
}

function bigints(_key: string, value: unknown) {
  return typeof value === "bigint" ? value.toString() : value;
}

/** The service logs every RPC at info; tests keep warnings and errors. */
function quietLogger() {
  const log = createLogger("ledger");
  log.level = process.env["LOG_LEVEL"] ?? "warn";
  return log;
}
