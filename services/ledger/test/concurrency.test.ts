import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { sql } from "@money/db";
import { KafkaBus } from "@money/kafka";
import { testBrokers } from "@money/kafka/testing";
import { ledgerService } from "@money/ledger";
import { AccountType, LedgerService, type Account } from "@money/proto/ledger/v1/ledger_pb";
import { createLogger, mintToken, tokenVerifierFromEnv } from "@money/rpc";
import { startService, type RunningService } from "@money/runtime";
import { key, leg, LedgerHarness, type LedgerClient } from "./support/ledger-harness.js";

let ledger: LedgerHarness;
beforeAll(async () => {
  ledger = await LedgerHarness.start("concurrency");
});
afterAll(async () => ledger?.stop());

type Outcome = "ok" | keyof typeof Code;

async function outcomeOf(call: Promise<unknown>): Promise<Outcome> {
  try {
    await call;
    return "ok";
  } catch (error) {
    if (error instanceof ConnectError) return Code[error.code] as keyof typeof Code;
    throw error;
  }
}

function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}

/**
 * Samples the books while writers run: in every committed state, debits equal
 * credits (over entries and over balance rows) and `accountId` is not below zero.
 */
function watchBooks(accountId: string) {
  let running = true;
  let samples = 0;
  const violations: unknown[] = [];
  const done = (async () => {
    while (running) {
      const row = await ledger.admin.one(sql.unsafe`
        SELECT (SELECT coalesce(sum(amount_minor) FILTER (WHERE direction = 'debit'), 0) -
                       coalesce(sum(amount_minor) FILTER (WHERE direction = 'credit'), 0) FROM ledger.entries) AS entry_gap,
               (SELECT sum(posted_debits_minor) - sum(posted_credits_minor) FROM ledger.balances) AS balance_gap,
               (SELECT posted_credits_minor - posted_debits_minor FROM ledger.balances WHERE account_id = ${accountId}) AS hot
      `);
      samples++;
      if (row["entry_gap"] !== "0" || row["balance_gap"] !== "0" || BigInt(row["hot"] as string) < 0n)
        violations.push(row);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { samples, violations };
    },
  };
}

describe("200 concurrent transfers from an account that can afford 50", () => {
  it("lets exactly 50 through; the rest fail with FAILED_PRECONDITION; the balance never goes below zero", async () => {
    const hot = await ledger.fundedAccount("50.00");
    const payees: Account[] = [];
    for (let i = 0; i < 8; i++) payees.push(await ledger.openAccount());
    const watcher = watchBooks(hot.id);
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        outcomeOf(
          ledger.adminClient.transfer({
            idempotencyKey: key(),
            fromAccountId: hot.id,
            toAccountId: payees[i % payees.length]!.id,
            amount: "1.00",
          }),
        ),
      ),
    );
    const { samples, violations } = await watcher.stop();
    expect(tally(outcomes)).toEqual({ ok: 50, FailedPrecondition: 150 });
    expect(violations).toEqual([]);
    expect(samples).toBeGreaterThan(0);
    const balance = (await ledger.adminClient.getBalance({ accountId: hot.id })).balance!;
    expect(balance).toMatchObject({ posted: "0.00", available: "0.00", version: 51n });
    const lowest = await ledger.admin.oneFirst(
      sql.unsafe`SELECT min(balance_after_minor) FROM ledger.entries WHERE account_id = ${hot.id}`,
    );
    expect(lowest).toBe("0");
    await ledger.expectBooksBalance();
  });

  it("holds with two replicas of the service on one database (no shared in-process queue)", async () => {
    const bus = new KafkaBus({ brokers: testBrokers(), clientId: "ledger-test-replica" });
    const log = createLogger("ledger");
    log.level = "warn";
    const replica: RunningService = await startService(ledgerService, {
      adminDatabaseUrl: ledger.db.adminUrl,
      bus,
      verifier: await tokenVerifierFromEnv({}),
      port: 0,
      roles: true,
      servicePassword: "dev",
      poolSize: 8,
      listen: true,
      log,
    });
    try {
      const token = await mintToken({ sub: "ops", role: "admin" });
      const bearer: Interceptor = (next) => (req) => {
        req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      };
      const second: LedgerClient = createClient(
        LedgerService,
        createConnectTransport({ baseUrl: replica.url, httpVersion: "1.1", interceptors: [bearer] }),
      );
      const hot = await ledger.fundedAccount("50.00");
      const payee = await ledger.openAccount();
      const watcher = watchBooks(hot.id);
      const outcomes = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          outcomeOf(
            (i % 2 === 0 ? ledger.adminClient : second).transfer({
              idempotencyKey: key(),
              fromAccountId: hot.id,
              toAccountId: payee.id,
              amount: "1.00",
            }),
          ),
        ),
      );
      const { violations } = await watcher.stop();
      expect(tally(outcomes)).toEqual({ ok: 50, FailedPrecondition: 150 });
      expect(violations).toEqual([]);
      expect((await ledger.adminClient.getBalance({ accountId: hot.id })).balance?.posted).toBe("0.00");
    } finally {
      await replica.stop();
      await bus.close();
    }
    await ledger.expectBooksBalance();
  });
});

describe("lock order", () => {
  it("never deadlocks: transfers crossing in both directions and rings of multi-leg entries all succeed", async () => {
    const accounts = [];
    for (let i = 0; i < 4; i++) accounts.push(await ledger.openAccount({ type: AccountType.ASSET }));
    const [a, b, c, d] = accounts.map((x) => x.id) as [string, string, string, string];
    const calls: Promise<Outcome>[] = [];
    for (let i = 0; i < 40; i++) {
      calls.push(
        outcomeOf(
          ledger.adminClient.transfer({
            idempotencyKey: key(),
            fromAccountId: a,
            toAccountId: b,
            amount: "1",
          }),
        ),
      );
      calls.push(
        outcomeOf(
          ledger.adminClient.transfer({
            idempotencyKey: key(),
            fromAccountId: b,
            toAccountId: a,
            amount: "1",
          }),
        ),
      );
      calls.push(
        outcomeOf(
          ledger.adminClient.postTransaction({
            idempotencyKey: key(),
            transaction: {
              legs:
                i % 2 === 0
                  ? [
                      leg(d, "debit", "3"),
                      leg(c, "credit", "1"),
                      leg(b, "credit", "1"),
                      leg(a, "credit", "1"),
                    ]
                  : [
                      leg(a, "debit", "3"),
                      leg(b, "credit", "1"),
                      leg(c, "credit", "1"),
                      leg(d, "credit", "1"),
                    ],
            },
          }),
        ),
      );
    }
    expect(tally(await Promise.all(calls))).toEqual({ ok: 120 });
    await ledger.expectBooksBalance();
  });
});
