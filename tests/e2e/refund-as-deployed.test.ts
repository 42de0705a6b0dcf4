import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import { testBrokers, uniqueName } from "@money/kafka/testing";
import { AccountType, LedgerService, TransactionStatus } from "@money/proto/ledger/v1/ledger_pb";
import { LoyaltyService } from "@money/proto/loyalty/v1/loyalty_pb";
import { ReasonCode, RefundService, RefundStatus } from "@money/proto/refunds/v1/refunds_pb";
import { mintToken, type Role } from "@money/rpc";
import { waitUntil } from "@money/testkit";
import { CLUB_PROGRAM } from "../../services/refunds/test/support/refund-platform.js";

/*
 * The platform as `npm start` runs it on real servers (scripts/start.ts with
 * DATABASE_URL and KAFKA_BROKERS), as a child process: nothing in this test
 * starts a saga participant. A refund must still cross the ledger and
 * loyalty, so the services run the saga's participants themselves.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let db: TestDatabase;
let child: ChildProcess;
let output = "";
const urls = new Map<string, string>();

beforeAll(async () => {
  db = await createTestDatabase("refunds_deployed");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.adminUrl,
    KAFKA_BROKERS: testBrokers().join(","),
    BASE_PORT: "0",
    LOG_LEVEL: "warn",
    LOYALTY_EXPIRY_INTERVAL_MS: "0",
    // This run's saga messages, apart from any other on the shared broker.
    REFUNDS_SAGA_NAMESPACE: uniqueName("deployed"),
  };
  child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await waitUntil(
    "the platform to be up",
    () => {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}: ${output}`);
      return output.includes("Money platform is up");
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  for (const name of ["ledger", "loyalty", "refunds"]) {
    urls.set(name, new RegExp(`${name}\\s+(http://127\\.0\\.0\\.1:\\d+)`).exec(output)![1]!);
  }
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  await db?.drop();
});

function client<S extends typeof LedgerService | typeof LoyaltyService | typeof RefundService>(
  service: S,
  name: string,
  role: Role,
  sub: string,
  merchantId?: string,
): Client<S> {
  const token = mintToken({ sub, role, merchantId }, { ttlSeconds: 600 });
  const bearer: Interceptor = (next) => async (req) => {
    req.header.set("authorization", `Bearer ${await token}`);
    return next(req);
  };
  return createClient(
    service,
    createConnectTransport({ baseUrl: urls.get(name)!, httpVersion: "1.1", interceptors: [bearer] }),
  );
}

it("carries a refund through the ledger and loyalty with no participant started by hand", async () => {
  const ledger = client(LedgerService, "ledger", "admin", "deployed-admin");
  const merchantId = `m-${randomUUID().slice(0, 8)}`;
  const order = `order-${randomUUID().slice(0, 8)}`;
  const loyalty = client(LoyaltyService, "loyalty", "admin", "deployed-admin", merchantId);
  const refunds = client(RefundService, "refunds", "admin", "deployed-admin");
  const key = () => randomUUID();
  const open = async (ownerRef: string, type: AccountType) =>
    (await ledger.createAccount({ idempotencyKey: key(), type, ownerRef, currency: "EUR" })).account!;

  const bank = await open("bank", AccountType.ASSET);
  const customer = await open("customer-1", AccountType.LIABILITY);
  const merchant = await open(merchantId, AccountType.LIABILITY);
  await ledger.transfer({
    idempotencyKey: key(),
    fromAccountId: bank.id,
    toAccountId: customer.id,
    amount: "20.00",
  });
  const { transaction: payment } = await ledger.recordPayment({
    idempotencyKey: key(),
    payerAccountId: customer.id,
    payeeAccountId: merchant.id,
    amount: "20.00",
    externalRef: order,
    metadata: { merchant_id: merchantId, order_reference: order, customer_id: "customer-1" },
  });
  await loyalty.configureProgram({
    idempotencyKey: key(),
    program: CLUB_PROGRAM,
  });
  const { card } = await loyalty.enrollCard({
    idempotencyKey: key(),
    customerRef: "customer-1",
    cardNumber: `C-${order}`,
    qrPayload: `qr:${order}`,
  });
  await loyalty.earnPoints({
    idempotencyKey: key(),
    cardId: card!.id,
    orderReference: order,
    purchaseAmount: "20.00",
    currency: "EUR",
  });
  await refunds.setApprovalPolicy({
    idempotencyKey: key(),
    policy: {
      merchantId,
      currency: "EUR",
      bands: [{ minAmount: "0", approvalsRequired: 0 }],
      approvalTtlSeconds: 3600n,
    },
    reason: "every refund approves itself",
  });

  const { refund } = await client(RefundService, "refunds", "staff", "clerk-1").requestRefund({
    idempotencyKey: key(),
    originalTransactionId: payment!.id,
    amount: "20.00",
    currency: "EUR",
    reasonCode: ReasonCode.RETURN,
    note: "returned",
  });
  let status = refund!.status;
  await waitUntil(
    "the refund to succeed",
    async () => {
      status = (await refunds.getRefund({ refundId: refund!.id })).refund!.status;
      return status === RefundStatus.SUCCEEDED;
    },
    { timeoutMs: 60_000 },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; it is ${RefundStatus[status]}\n${output}`);
  });

  expect((await ledger.getTransaction({ transactionId: payment!.id })).transaction!.status).toBe(
    TransactionStatus.REFUNDED,
  );
  expect((await ledger.getBalance({ accountId: customer.id })).balance!.posted).toBe("20.00");
  expect((await ledger.getBalance({ accountId: merchant.id })).balance!.posted).toBe("0.00");
  expect((await loyalty.getCard({ cardId: card!.id })).card!.points!.balance).toBe(0n);
}, 120_000);
