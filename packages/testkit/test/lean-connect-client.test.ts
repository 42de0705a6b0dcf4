import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError, createClient, type Client, type HandlerContext } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  file_ledger_v1_ledger,
  LedgerService,
  type GetAccountRequest,
} from "@money/proto/ledger/v1/ledger_pb";
import {
  callerOf,
  createLogger,
  DomainError,
  mintToken,
  startRpcServer,
  tokenVerifierFromEnv,
  type RpcServer,
} from "@money/rpc";
import { leanConnectClient, type LeanConnectClient } from "../src/index.js";

// The benchmarks' lean client must get the same answers as connect-node's client: the same
// message on success, the same code and message on a refusal.

async function getAccount(request: GetAccountRequest, ctx: HandlerContext) {
  if (request.accountId === "refused") throw new DomainError("ACCOUNT_FROZEN", "the account is frozen");
  const caller = callerOf(ctx);
  return {
    account: { id: request.accountId, ownerRef: `${caller.principalId}/${caller.role}`, version: 7n },
  };
}

let server: RpcServer;
let reference: Client<typeof LedgerService>;
const lean: LeanConnectClient<typeof LedgerService>[] = [];

beforeAll(async () => {
  const log = createLogger("lean-client-test");
  log.level = "silent";
  server = await startRpcServer({
    name: "lean-client-test",
    port: 0,
    services: [LedgerService],
    files: [file_ledger_v1_ledger],
    routes: (router) => router.service(LedgerService, { getAccount }),
    policy: Object.fromEntries(LedgerService.methods.map((m) => [m.name, ["admin"] as const])),
    errors: { ACCOUNT_FROZEN: Code.FailedPrecondition },
    verifier: await tokenVerifierFromEnv({}),
    log,
  });
  const authorization = `Bearer ${await mintToken({ sub: "ops-1", role: "admin" })}`;
  reference = createClient(
    LedgerService,
    createConnectTransport({
      baseUrl: server.url,
      httpVersion: "1.1",
      interceptors: [(next) => (req) => (req.header.set("authorization", authorization), next(req))],
    }),
  );
  for (const httpVersion of ["1.1", "2"] as const) {
    lean.push(
      leanConnectClient(LedgerService, { baseUrl: server.url, httpVersion, headers: { authorization } }),
    );
  }
});

afterAll(async () => {
  for (const client of lean) client.close();
  await server.close();
});

const refusalOf = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (error: unknown) => {
      const e = ConnectError.from(error);
      return { code: e.code, message: e.rawMessage };
    },
  );

describe.each([
  ["HTTP/1.1", 0],
  ["HTTP/2", 1],
])("leanConnectClient over %s", (_, index) => {
  it("gets the message connect-node's client gets, several calls on one connection", async () => {
    const expected = await reference.getAccount({ accountId: "acc-1" });
    const answers = await Promise.all([1, 2, 3].map(() => lean[index]!.getAccount({ accountId: "acc-1" })));
    for (const answer of answers) expect(answer.account).toEqual(expected.account);
    expect(answers[0]!.account?.ownerRef).toBe("ops-1/admin");
  });

  it("throws the refusal connect-node's client throws", async () => {
    const expected = await refusalOf(reference.getAccount({ accountId: "refused" }));
    expect(expected?.code).toBe(Code.FailedPrecondition);
    expect(await refusalOf(lean[index]!.getAccount({ accountId: "refused" }))).toEqual(expected);
  });

  it("with replies checked, resolves to nothing on success and still throws a refusal", async () => {
    const authorization = `Bearer ${await mintToken({ sub: "ops-1", role: "admin" })}`;
    const checking = leanConnectClient(LedgerService, {
      baseUrl: server.url,
      httpVersion: index === 0 ? "1.1" : "2",
      headers: { authorization },
      replies: "checked",
    });
    try {
      await expect(checking.getAccount({ accountId: "acc-1" })).resolves.toBeUndefined();
      const expected = await refusalOf(reference.getAccount({ accountId: "refused" }));
      expect(await refusalOf(checking.getAccount({ accountId: "refused" }))).toEqual(expected);
    } finally {
      checking.close();
    }
  });

  it("is refused without a token", async () => {
    const anonymous = leanConnectClient(LedgerService, {
      baseUrl: server.url,
      httpVersion: index === 0 ? "1.1" : "2",
    });
    try {
      expect((await refusalOf(anonymous.getAccount({ accountId: "acc-1" })))?.code).toBe(
        Code.Unauthenticated,
      );
    } finally {
      anonymous.close();
    }
  });
});

/** A lean HTTP/1.1 client of `server`, once it listens on a port of its own. */
async function leanClientOf(server: import("node:http").Server) {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return leanConnectClient(LedgerService, { baseUrl: `http://127.0.0.1:${port}`, httpVersion: "1.1" });
}

describe("leanConnectClient over HTTP/1.1, against other ways of answering", () => {
  // node:http's server sends a body chunked when it is written in parts, and may close the
  // connection after an answer: the client must read both, and open a new connection after.
  it("reads a chunked body, and calls again after the server closed the connection", async () => {
    const { createServer } = await import("node:http");
    const { toBinary, create } = await import("@bufbuild/protobuf");
    const { GetAccountResponseSchema } = await import("@money/proto/ledger/v1/ledger_pb");
    const body = toBinary(
      GetAccountResponseSchema,
      create(GetAccountResponseSchema, { account: { id: "acc-9", ownerRef: "chunked" } }),
    );
    let connections = 0;
    const plain = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/proto", connection: "close" });
        res.write(body.subarray(0, 3));
        res.end(body.subarray(3));
      });
    });
    plain.on("connection", () => connections++);
    const client = await leanClientOf(plain);
    try {
      const first = await client.getAccount({ accountId: "acc-9" });
      const second = await client.getAccount({ accountId: "acc-9" });
      expect(first.account?.ownerRef).toBe("chunked");
      expect(second.account?.id).toBe("acc-9");
      expect(connections).toBe(2);
    } finally {
      client.close();
      await new Promise((resolve) => plain.close(resolve));
    }
  });

  it("refuses the calls still waiting when it is closed", async () => {
    const { createServer } = await import("node:http");
    const silent = createServer(() => {}); // never answers
    const client = await leanClientOf(silent);
    try {
      const inFlight = client.getAccount({ accountId: "acc-1" });
      const queued = client.getAccount({ accountId: "acc-2" });
      await new Promise((resolve) => setTimeout(resolve, 50));
      client.close();
      await expect(inFlight).rejects.toThrow("the client was closed");
      await expect(queued).rejects.toThrow("the client was closed");
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
