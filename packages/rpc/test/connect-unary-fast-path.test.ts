import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import http2 from "node:http2";
import { gunzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type HandlerContext } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import {
  file_ledger_v1_ledger,
  GetAccountRequestSchema,
  GetAccountResponseSchema,
  LedgerService,
  type GetAccountRequest,
} from "@money/proto/ledger/v1/ledger_pb";
import {
  callerOf,
  createLogger,
  DomainError,
  encodeStoredResponse,
  mintToken,
  startRpcServer,
  tokenVerifierFromEnv,
  type RpcServer,
} from "../src/index.js";

// The fast path must answer exactly as connect-node does. Each case is sent twice over HTTP/2:
// as is (the fast path takes it) and with a connect-timeout-ms header (which sends it through
// connect-node), and the two answers are compared.

const contexts: HandlerContext[] = [];
let signalAbortedDuringCall: boolean | undefined;

/** GetAccount answers by the account id: a name of a case, or an account echoing the caller. */
async function getAccount(request: GetAccountRequest, ctx: HandlerContext) {
  contexts.push(ctx);
  const caller = callerOf(ctx);
  switch (request.accountId) {
    case "refused":
      throw new DomainError("ACCOUNT_FROZEN", "the account is frozen");
    case "broken":
      throw new Error("a bug, with internals that must not reach the caller");
    case "signal":
      signalAbortedDuringCall = ctx.signal.aborted;
      return {};
    case "recorded": {
      // An answer whose record holds its bytes (encodeStoredResponse): the fast path sends them.
      const answer = create(GetAccountResponseSchema, { account: { id: "recorded", ownerRef: "first" } });
      encodeStoredResponse(GetAccountResponseSchema, answer);
      return answer;
    }
    case "large":
      return { account: { id: request.accountId, ownerRef: "x".repeat(5_000) } };
    default:
      ctx.responseTrailer.set("served-by", "test");
      return { account: { id: request.accountId, ownerRef: `${caller.principalId}/${caller.role}` } };
  }
}

let server: RpcServer;
let session: http2.ClientHttp2Session;
let adminToken: string;
let userToken: string;

beforeAll(async () => {
  const log = createLogger("fast-path-test");
  log.level = "silent";
  server = await startRpcServer({
    name: "fast-path-test",
    port: 0,
    services: [LedgerService],
    files: [file_ledger_v1_ledger],
    routes: (router) => router.service(LedgerService, { getAccount }),
    policy: Object.fromEntries(LedgerService.methods.map((m) => [m.name, ["admin"] as const])),
    errors: { ACCOUNT_FROZEN: Code.FailedPrecondition },
    verifier: await tokenVerifierFromEnv({}),
    log,
  });
  session = http2.connect(server.url);
  adminToken = await mintToken({ sub: "ops-1", role: "admin" });
  userToken = await mintToken({ sub: "alice", role: "user" });
});

afterAll(async () => {
  session.close();
  await server.close();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function post(path: string, headers: Record<string, string>, body: Uint8Array): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    const chunks: Buffer[] = [];
    let status = 0;
    const received: Record<string, string> = {};
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      for (const [k, v] of Object.entries(h)) {
        // The date and the request id differ between any two answers.
        if (!k.startsWith(":") && k !== "date" && k !== "x-request-id") received[k] = String(v);
      }
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve({ status, headers: received, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    stream.end(body);
  });
}

const GET_ACCOUNT = "/ledger.v1.LedgerService/GetAccount";
const binary = (accountId: string) =>
  toBinary(GetAccountRequestSchema, create(GetAccountRequestSchema, { accountId }));

/** The same call through the fast path and through connect-node; returns the fast path's answer. */
async function bothWays(
  headers: Record<string, string>,
  body: Uint8Array,
  path = GET_ACCOUNT,
): Promise<Answer> {
  const base = { "content-type": "application/proto", ...headers };
  const fast = await post(path, base, body);
  const viaConnect = await post(path, { ...base, "connect-timeout-ms": "60000" }, body);
  expect(fast).toEqual(viaConnect);
  return fast;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("the Connect unary fast path", () => {
  it("serves a binary unary call with the handler context connect would give", async () => {
    contexts.length = 0;
    const answer = await bothWays(bearer(adminToken), binary("acc-1"));
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/proto");
    expect(answer.headers["trailer-served-by"]).toBe("test");
    const [fast, viaConnect] = contexts;
    // connect-node's context is a controller (it has abort); the fast path's is not.
    expect("abort" in fast!).toBe(false);
    expect("abort" in viaConnect!).toBe(true);
    for (const ctx of [fast!, viaConnect!]) {
      expect(ctx.method.name).toBe("GetAccount");
      expect(ctx.service.typeName).toBe("ledger.v1.LedgerService");
      expect(ctx.protocolName).toBe("connect");
      expect(ctx.requestMethod).toBe("POST");
      expect(ctx.requestHeader.get("authorization")).toBe(`Bearer ${adminToken}`);
      expect(ctx.url).toBe(`${server.url}${GET_ACCOUNT}`);
    }
  });

  it("answers a domain refusal, an unknown error, a missing token and a wrong role as connect does", async () => {
    const refused = await bothWays(bearer(adminToken), binary("refused"));
    expect(refused.status).toBe(400);
    expect(refused.headers["error-reason"]).toBe("ACCOUNT_FROZEN");
    expect(JSON.parse(refused.body.toString())).toEqual({
      code: "failed_precondition",
      message: "ACCOUNT_FROZEN: the account is frozen",
    });
    const broken = await bothWays(bearer(adminToken), binary("broken"));
    expect(JSON.parse(broken.body.toString())).toEqual({ code: "internal", message: "internal error" });
    expect((await bothWays({}, binary("acc-1"))).status).toBe(401);
    expect((await bothWays(bearer(userToken), binary("acc-1"))).status).toBe(403);
  });

  it("sends an answer encoded for its idempotency record as those bytes, not encoded again", async () => {
    const answer = await bothWays(bearer(adminToken), binary("recorded"));
    expect(answer.status).toBe(200);
    const sent = create(GetAccountResponseSchema, { account: { id: "recorded", ownerRef: "first" } });
    expect(answer.body.equals(Buffer.from(toBinary(GetAccountResponseSchema, sent)))).toBe(true);
    // The bytes are looked up by the message itself: remembered bytes are what goes out.
    const { knownEncodingOf } = await import("../src/server/known-encodings.js");
    const remembered = create(GetAccountResponseSchema, { account: { id: "other" } });
    expect(knownEncodingOf(remembered)).toBeUndefined();
    const bytes = encodeStoredResponse(GetAccountResponseSchema, remembered);
    expect(knownEncodingOf(remembered)).toEqual(new Uint8Array(bytes));
  });

  it("refuses a body that is not the request message as connect does", async () => {
    const answer = await bothWays(bearer(adminToken), Buffer.from([0xff, 0xff, 0xff]));
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body.toString()).message).toMatch(/^parse binary: /);
  });

  it("compresses a large answer for a client that accepts it, as connect does", async () => {
    const answer = await bothWays({ ...bearer(adminToken), "accept-encoding": "gzip" }, binary("large"));
    expect(answer.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(answer.body).byteLength).toBeGreaterThan(5_000);
  });

  it("gives the handler a signal that is live during the call", async () => {
    signalAbortedDuringCall = undefined;
    await post(GET_ACCOUNT, { "content-type": "application/proto", ...bearer(adminToken) }, binary("signal"));
    expect(signalAbortedDuringCall).toBe(false);
  });

  it("leaves unimplemented methods, JSON and other protocols to connect-node", async () => {
    const unimplemented = await post(
      "/ledger.v1.LedgerService/ListAccounts",
      { "content-type": "application/proto", ...bearer(adminToken) },
      new Uint8Array(),
    );
    expect(unimplemented.status).toBe(501);
    const token = adminToken;
    const interceptors = [
      (next: (r: { header: Headers }) => Promise<unknown>) => (req: { header: Headers }) => {
        req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      },
    ] as never;
    for (const transport of [
      createConnectTransport({ baseUrl: server.url, httpVersion: "2", interceptors }),
      createGrpcTransport({ baseUrl: server.url, interceptors }),
      createConnectTransport({
        baseUrl: server.url,
        httpVersion: "1.1",
        useBinaryFormat: true,
        interceptors,
      }),
    ]) {
      const client = createClient(LedgerService, transport);
      expect((await client.getAccount({ accountId: "acc-2" })).account?.ownerRef).toBe("ops-1/admin");
      await expect(client.getAccount({ accountId: "refused" })).rejects.toMatchObject({
        code: Code.FailedPrecondition,
      } satisfies Partial<ConnectError>);
    }
  });
});
