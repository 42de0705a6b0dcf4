/* eslint-disable @typescript-eslint/no-explicit-any -- grpc-js builds its clients at run time from .proto files */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { createDatabasePool, sql, type DatabasePool } from "@money/db";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import { decodeEnvelope, KafkaBus, payloadAs } from "@money/kafka";
import { keepOutboxCopies, testBrokers } from "@money/kafka/testing";
import { AuditEventSchema } from "@money/proto/events/v1/audit_pb";
import { mintToken, tokenVerifierFromEnv, type Role } from "@money/rpc";
import { ledgerService } from "@money/ledger";
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import { LedgerService } from "@money/proto/ledger/v1/ledger_pb";
import { startService, type RunningService } from "../src/index.js";

const PROTO_ROOT = fileURLToPath(new URL("../../../proto", import.meta.url));

let db: TestDatabase;
let bus: KafkaBus;
let ledger: RunningService;
let admin: DatabasePool;

beforeAll(async () => {
  db = await createTestDatabase("wire");
  bus = new KafkaBus({ brokers: testBrokers(), clientId: "wire-test" });
  ledger = await startService(ledgerService, {
    adminDatabaseUrl: db.adminUrl,
    bus,
    verifier: await tokenVerifierFromEnv({}),
    port: 0,
    roles: true,
    servicePassword: "dev",
    poolSize: 5,
    listen: true,
  });
  admin = await createDatabasePool(db.adminUrl);
  await keepOutboxCopies(admin, "ledger");
});

afterAll(async () => {
  await ledger?.stop();
  await bus?.close();
  await admin?.end();
  await db?.drop();
});

const token = (role: Role, sub = `${role}-1`, ttlSeconds?: number) =>
  mintToken({ sub, role }, ttlSeconds === undefined ? {} : { ttlSeconds });

/** A Connect unary call with JSON over HTTP/1.1, as curl or a POS with only an HTTP client makes it. */
async function connectJson(method: string, body: unknown, bearer?: string) {
  const response = await fetch(`${ledger.url}/ledger.v1.LedgerService/${method}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "pos-terminal/1.0",
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

const newAccount = (key: string, ownerRef = "shop-1") => ({
  idempotencyKey: key,
  type: "ACCOUNT_TYPE_LIABILITY",
  ownerRef,
  currency: "EUR",
  overdraftLimit: "10.50",
});

describe("Connect JSON over HTTP/1.1", () => {
  it("creates and reads an account, with amounts as decimal strings", async () => {
    const created = await connectJson("CreateAccount", newAccount("k-json-1"), await token("admin"));
    expect(created.status).toBe(200);
    const account = created.body["account"] as Record<string, unknown>;
    expect(account).toMatchObject({
      ownerRef: "shop-1",
      currency: "EUR",
      overdraftLimit: "10.50",
      status: "ACCOUNT_STATUS_ACTIVE",
    });
    expect(created.headers.get("x-request-id")).toBeTruthy();

    const read = await connectJson("GetAccount", { accountId: account["id"] }, await token("auditor"));
    expect(read.status).toBe(200);
    expect(read.body["account"]).toEqual(account);
  });

  it("records who acted from the token and the connection, not the body", async () => {
    const created = await connectJson(
      "CreateAccount",
      { ...newAccount("k-actor"), performedBy: "mallory" },
      await token("admin", "alice"),
    );
    // An unknown field is refused by the JSON codec rather than silently dropped.
    expect(created.status).toBe(400);
    const ok = await connectJson("CreateAccount", newAccount("k-actor-2"), await token("admin", "alice"));
    const id = (ok.body["account"] as { id: string }).id;
    const payload = await admin.oneFirst(
      sql.unsafe`SELECT payload FROM ledger.outbox_written WHERE topic = 'audit.events' AND message_key = ${id}`,
    );
    const event = payloadAs(decodeEnvelope(payload as Buffer), AuditEventSchema)!;
    expect(event.action).toBe("account.opened");
    expect(event.actor).toMatchObject({
      principalId: "alice",
      principalRole: "admin",
      ip: "127.0.0.1",
      userAgent: "pos-terminal/1.0",
    });
    expect(event.after).toMatchObject({ owner_ref: "shop-1", overdraft_limit_minor: "1050" });
  });

  it("refuses a bad amount with INVALID_ARGUMENT and writes nothing", async () => {
    const before = await admin.oneFirst(sql.unsafe`SELECT count(*) FROM ledger.accounts`);
    for (const overdraftLimit of ["1e3", "-5", "0.001", "1".repeat(40), "NaN"]) {
      const res = await connectJson(
        "CreateAccount",
        { ...newAccount(`k-bad-${overdraftLimit}`), overdraftLimit },
        await token("admin"),
      );
      expect(res.status).toBe(400);
      expect(res.body["code"]).toBe("invalid_argument");
      expect(res.body["message"]).toMatch(/^INVALID_AMOUNT: overdraft_limit/);
    }
    expect(await admin.oneFirst(sql.unsafe`SELECT count(*) FROM ledger.accounts`)).toBe(before);
  });

  it("answers NOT_FOUND for an unknown account and INVALID_ARGUMENT for a malformed id", async () => {
    const auditor = await token("auditor");
    const missing = await connectJson(
      "GetAccount",
      { accountId: "00000000-0000-4000-8000-000000000000" },
      auditor,
    );
    expect(missing.body).toMatchObject({ code: "not_found" });
    const malformed = await connectJson("GetAccount", { accountId: "1; DROP TABLE accounts" }, auditor);
    expect(malformed.body).toMatchObject({ code: "invalid_argument" });
  });
});

describe("authentication and roles", () => {
  it("refuses a call without a token", async () => {
    const res = await connectJson("GetAccount", { accountId: "x" });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      code: "unauthenticated",
      message: expect.stringMatching(/missing bearer token/),
    });
  });

  it("refuses an expired token", async () => {
    const res = await connectJson("GetAccount", { accountId: "x" }, await token("admin", "old", -10));
    expect(res.body).toMatchObject({
      code: "unauthenticated",
      message: expect.stringMatching(/token expired/),
    });
  });

  it("refuses a token signed with another key", async () => {
    const forged = await mintToken(
      { sub: "eve", role: "admin" },
      { secret: "not-the-platform-secret-at-all-0123456789" },
    );
    const res = await connectJson("GetAccount", { accountId: "x" }, forged);
    expect(res.body).toMatchObject({ code: "unauthenticated" });
  });

  it("refuses a role the method does not allow", async () => {
    const res = await connectJson("CreateAccount", newAccount("k-role"), await token("auditor"));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      code: "permission_denied",
      message: expect.stringMatching(/role auditor may not call CreateAccount/),
    });
  });
});

describe("idempotency", () => {
  it("replays the first response for the same key and request", async () => {
    const bearer = await token("service", "checkout");
    const first = await connectJson("CreateAccount", newAccount("k-replay", "owner-replay"), bearer);
    const second = await connectJson("CreateAccount", newAccount("k-replay", "owner-replay"), bearer);
    expect(second.body).toEqual(first.body);
    expect(
      await admin.oneFirst(sql.unsafe`SELECT count(*) FROM ledger.accounts WHERE owner_ref = 'owner-replay'`),
    ).toBe("1");
  });

  it("refuses the same key with a different request", async () => {
    const bearer = await token("service", "checkout");
    await connectJson("CreateAccount", newAccount("k-conflict", "owner-a"), bearer);
    const res = await connectJson("CreateAccount", newAccount("k-conflict", "owner-b"), bearer);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: "already_exists",
      message: expect.stringMatching(/^IDEMPOTENCY_KEY_REUSED/),
    });
    expect(
      await admin.oneFirst(sql.unsafe`SELECT count(*) FROM ledger.accounts WHERE owner_ref = 'owner-b'`),
    ).toBe("0");
  });

  it("gives one effect for concurrent calls with one key", async () => {
    const bearer = await token("service", "checkout");
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        connectJson("CreateAccount", newAccount("k-race", "owner-race"), bearer),
      ),
    );
    const ids = new Set(results.map((r) => (r.body["account"] as { id: string } | undefined)?.id));
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(ids.size).toBe(1);
    expect(
      await admin.oneFirst(sql.unsafe`SELECT count(*) FROM ledger.accounts WHERE owner_ref = 'owner-race'`),
    ).toBe("1");
  });

  it("refuses a mutating call without a key", async () => {
    const res = await connectJson("CreateAccount", newAccount(""), await token("admin"));
    expect(res.body).toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/idempotency_key is required/),
    });
  });
});

describe("gRPC with the stock @grpc/grpc-js client", () => {
  const load = (file: string) =>
    grpc.loadPackageDefinition(
      protoLoader.loadSync(file, {
        includeDirs: [PROTO_ROOT],
        keepCase: false,
        longs: String,
        enums: String,
        defaults: true,
      }),
    ) as any;

  const unary = <T>(client: grpc.Client, method: string, request: unknown, metadata = new grpc.Metadata()) =>
    new Promise<T>((resolve, reject) =>
      (client as any)[method](request, metadata, (error: grpc.ServiceError | null, response: T) =>
        error ? reject(error) : resolve(response),
      ),
    );

  it("creates and reads an account, and maps refusals to gRPC status codes", async () => {
    const { ledger: ledgerPkg } = load("ledger/v1/ledger.proto");
    const client = new ledgerPkg.v1.LedgerService(
      ledger.url.replace("http://", ""),
      grpc.credentials.createInsecure(),
    );
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${await token("admin")}`);
    try {
      const created = await unary<{ account: { id: string; currency: string; version: string } }>(
        client,
        "createAccount",
        { idempotencyKey: "k-grpc", type: "ACCOUNT_TYPE_ASSET", ownerRef: "bank", currency: "JPY" },
        metadata,
      );
      expect(created.account).toMatchObject({ currency: "JPY", version: "0" });
      const read = await unary<{ account: { id: string } }>(
        client,
        "getAccount",
        { accountId: created.account.id },
        metadata,
      );
      expect(read.account.id).toBe(created.account.id);

      const refused = await unary(client, "getAccount", { accountId: created.account.id }).catch(
        (e: grpc.ServiceError) => e,
      );
      expect(refused).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      const missing = await unary(
        client,
        "getAccount",
        { accountId: "00000000-0000-4000-8000-000000000000" },
        metadata,
      ).catch((e: grpc.ServiceError) => e);
      expect(missing).toMatchObject({ code: grpc.status.NOT_FOUND });
      expect((missing as grpc.ServiceError).metadata.get("error-reason")).toEqual(["ACCOUNT_NOT_FOUND"]);
    } finally {
      client.close();
    }
  });

  it("answers gRPC health checks without a token", async () => {
    const { grpc: healthPkg } = load("grpc/health/v1/health.proto");
    const client = new healthPkg.health.v1.Health(
      ledger.url.replace("http://", ""),
      grpc.credentials.createInsecure(),
    );
    try {
      expect(await unary(client, "check", { service: "" })).toEqual({ status: "SERVING" });
      expect(await unary(client, "check", { service: "ledger.v1.LedgerService" })).toEqual({
        status: "SERVING",
      });
      expect(await unary(client, "check", { service: "nope.v1.Nope" })).toEqual({
        status: "SERVICE_UNKNOWN",
      });
    } finally {
      client.close();
    }
  });

  it("lists its services and methods through server reflection (buf curl)", async () => {
    const run = promisify(execFile);
    const buf = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));
    const services = await run(buf, [
      "curl",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--list-services",
      ledger.url,
    ]);
    expect(services.stdout.split("\n")).toEqual(
      expect.arrayContaining(["ledger.v1.LedgerService", "grpc.health.v1.Health"]),
    );
    const methods = await run(buf, [
      "curl",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--list-methods",
      ledger.url,
    ]);
    expect(methods.stdout).toContain("ledger.v1.LedgerService/CreateAccount");
  });
});

describe("gRPC-Web", () => {
  it("serves the same RPCs to a gRPC-Web client on the same port", async () => {
    const bearer = await token("admin");
    const client = createClient(
      LedgerService,
      createGrpcWebTransport({
        baseUrl: ledger.url,
        httpVersion: "1.1",
        interceptors: [
          (next) => (req) => {
            req.header.set("authorization", `Bearer ${bearer}`);
            return next(req);
          },
        ],
      }),
    );
    const { account } = await client.createAccount({
      idempotencyKey: "k-web",
      ownerRef: "web",
      currency: "USD",
      type: 1,
    });
    expect(account?.currency).toBe("USD");
    expect((await client.getAccount({ accountId: account!.id })).account?.id).toBe(account!.id);
  });
});

describe("mint-token", () => {
  it("prints a token the services accept, with the role asked for", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--import",
      "tsx",
      fileURLToPath(new URL("../../rpc/src/auth/mint-token.ts", import.meta.url)),
      "--role",
      "auditor",
      "--sub",
      "carol",
    ]);
    const minted = stdout.trim();
    expect(
      (await connectJson("GetAccount", { accountId: "00000000-0000-4000-8000-000000000000" }, minted)).body,
    ).toMatchObject({
      code: "not_found",
    });
    expect((await connectJson("CreateAccount", newAccount("k-minted"), minted)).body).toMatchObject({
      code: "permission_denied",
    });
  });
});
