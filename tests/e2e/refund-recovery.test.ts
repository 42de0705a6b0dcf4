import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { restartTestBroker, testBrokers } from "@money/kafka/testing";
import { TransactionStatus } from "@money/proto/ledger/v1/ledger_pb";
import { RefundStatus, SagaStep, StepStatus } from "@money/proto/refunds/v1/refunds_pb";
import { sql } from "@money/db";
import { RefundPlatform, type Payment } from "../../services/refunds/test/support/refund-platform.js";
import { waitUntil } from "@money/testkit";
import { boundedStep } from "../../services/refunds/test/support/bounded-step.js";

/*
 * The saga survives what production throws at it: the refunds process
 * killed (SIGKILL, no shutdown) in the middle of a saga, and the Kafka
 * broker restarted under a saga. Each must finish with exactly one reversal.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let platform: RefundPlatform;

beforeAll(async () => {
  platform = await RefundPlatform.start("recovery", {
    inProcessRefunds: false,
    // Loyalty is stopped below before its new consumer group has committed
    // anything; from the earliest offset it still finds, when it comes back,
    // the command sent while it was away (refunds is dead then and resends nothing).
    env: { REFUNDS_SAGA_START_AT: "earliest" },
  });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The refunds service as its own process, as `npm start -w services/refunds` runs it in a deployment. */
async function spawnRefunds(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "services/refunds/src/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...platform.refundsEnv,
      REFUNDS_STEP_TIMEOUT_MS: "1000",
      DATABASE_URL: platform.db.adminUrl,
      KAFKA_BROKERS: testBrokers().join(","),
      PORT: String(port),
      HOST: "127.0.0.1",
      SERVICE_DB_PASSWORD: "dev",
      DB_POOL_SIZE: "5",
      LOG_LEVEL: process.env["CHILD_LOG_LEVEL"] ?? "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  platform.refundsUrl = `http://127.0.0.1:${port}`;
  await waitUntil(
    "the refunds process to serve",
    async () => {
      if (child.exitCode !== null) throw new Error(`refunds exited ${child.exitCode}: ${output}`);
      const health = await fetch(`${platform.refundsUrl}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }).catch(() => undefined);
      return health?.status === 200;
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  return { child, output: () => output };
}

async function kill(child: ChildProcess): Promise<void> {
  // A child that has exited already emits no "exit" again: waiting for it would hang.
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

async function stepStatus(refundId: string, step: string): Promise<string | null> {
  return (await platform.admin.maybeOneFirst(sql.unsafe`
    SELECT status FROM refunds.saga_steps WHERE refund_id = ${refundId} AND step = ${step}
  `)) as string | null;
}

/**
 * Whether every command the refunds service wrote for the refund has left its
 * outbox for Kafka: a command still in the outbox when the process dies
 * reaches no participant until the process is back.
 */
async function commandsPublished(refundId: string): Promise<boolean> {
  const unpublished = await platform.admin.oneFirst(sql.unsafe`
    SELECT count(*) FROM refunds.outbox_events
    WHERE topic = 'refunds.commands' AND message_key = ${refundId}
  `);
  return Number(unpublished) === 0;
}

async function expectRefundedOnce(payment: Payment, cardId: string, amount: string): Promise<void> {
  expect(await platform.reversalsOf(payment.transaction.id)).toHaveLength(1);
  expect(await platform.balance(payment.customer.id)).toBe(amount);
  expect(await platform.balance(payment.merchant.id)).toBe("0.00");
  expect((await platform.transaction(payment.transaction.id)).status).toBe(TransactionStatus.REFUNDED);
  expect(await platform.pointsBalance(payment, cardId)).toBe(0n);
}

describe("the refunds process killed mid-saga", () => {
  // Every step has a bound of its own, well inside the test's: a step that hangs names itself.
  it("finishes the saga when it comes back, with exactly one reversal", async () => {
    const port = await freePort();
    let refunds = await boundedStep("spawning refunds", 25_000, () => spawnRefunds(port));
    try {
      const { payment, cardId } = await boundedStep("setting up the payment", 15_000, async () => {
        const payment = await platform.settledPayment("80.00");
        await platform.autoApproving(payment.merchantId);
        return { payment, ...(await platform.earnedPoints(payment, "80.00")) };
      });

      // Loyalty is away, so the saga is certain to be in flight at the loyalty step when the kill
      // comes; the kill waits for the loyalty command to be published (in Kafka, loyalty finds it
      // when it is back, while refunds is still dead).
      await boundedStep("stopping loyalty", 10_000, () => platform.stopLoyalty());
      const refund = await boundedStep("requesting the refund", 5_000, () =>
        platform.request(payment, "80.00"),
      );
      await boundedStep("the ledger steps", 20_000, () =>
        waitUntil(
          "the ledger steps, and the loyalty command on its way",
          async () =>
            (await stepStatus(refund.id, "reverse_loyalty_points")) === "in_flight" &&
            (await commandsPublished(refund.id)),
          { timeoutMs: 15_000 },
        ),
      ).catch(async (error: unknown) => {
        const steps = await platform.admin.any(
          sql.unsafe`SELECT step, status, attempts, last_error FROM refunds.saga_steps WHERE refund_id = ${refund.id}`,
        );
        const outbox = await platform.admin.any(
          sql.unsafe`SELECT topic, created_at::text FROM refunds.outbox_events ORDER BY outbox_id, position`,
        );
        throw new Error(
          `${(error as Error).message}\n${JSON.stringify(steps)}\n${JSON.stringify(outbox)}\n${refunds.output()}`,
        );
      });
      await boundedStep("killing refunds", 5_000, () => kill(refunds.child));

      // While refunds is dead, loyalty comes back and answers into Kafka; the step's deadline passes.
      await boundedStep("starting loyalty", 10_000, () => platform.startLoyalty());
      await boundedStep("loyalty's reply", 25_000, () =>
        waitUntil(
          "loyalty's reply",
          async () => (await platform.outbox("loyalty", "refunds.replies", refund.id)).length > 0,
          { timeoutMs: 20_000 },
        ),
      );
      const gone = await boundedStep("asking the dead refunds service", 5_000, () =>
        platform.refund(refund.id).then(
          () => false,
          () => true,
        ),
      );
      expect(gone).toBe(true);

      refunds = await boundedStep("spawning refunds again", 25_000, () => spawnRefunds(port));
      const done = await boundedStep("the saga to succeed", 35_000, () =>
        platform.waitForStatus(refund.id, RefundStatus.SUCCEEDED, 30_000),
      );
      await expectRefundedOnce(payment, cardId, "80.00");
      const loyaltyStep = done.steps.find((s) => s.step === SagaStep.REVERSE_LOYALTY_POINTS)!;
      expect(loyaltyStep.status).toBe(StepStatus.SUCCEEDED);
      expect(done.pointsReversed).toBe(80n);
    } finally {
      await kill(refunds.child).catch(() => {});
      platform.refundsUrl = undefined;
    }
  }, 200_000);
});

describe("the Kafka broker restarted mid-saga", () => {
  it("delays the sagas in flight and those requested meanwhile, and they complete", async () => {
    await platform.startRefunds();
    const first = await platform.settledPayment("15.00");
    const second = await platform.settledPayment("7.00");
    for (const p of [first, second]) await platform.autoApproving(p.merchantId);
    const firstCard = (await platform.earnedPoints(first, "15.00")).cardId;
    const secondCard = (await platform.earnedPoints(second, "7.00")).cardId;

    await platform.stopLoyalty();
    const a = await platform.request(first, "15.00");
    await waitUntil(
      "the ledger steps",
      async () => (await stepStatus(a.id, "reverse_loyalty_points")) === "in_flight",
      {
        timeoutMs: 90_000,
      },
    );
    const restart = restartTestBroker();
    // Requested while the broker goes down: its first command waits in the outbox.
    const b = await platform.request(second, "7.00");
    await restart;
    await platform.startLoyalty();

    await platform.waitForStatus(a.id, RefundStatus.SUCCEEDED, 90_000);
    await platform.waitForStatus(b.id, RefundStatus.SUCCEEDED, 90_000);
    await expectRefundedOnce(first, firstCard, "15.00");
    await expectRefundedOnce(second, secondCard, "7.00");
  }, 180_000);
});
