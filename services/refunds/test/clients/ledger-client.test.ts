import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { LedgerService, TransactionKind, TransactionStatus } from "@money/proto/ledger/v1/ledger_pb";
import { LedgerClient } from "../../src/clients/ledger-client.js";

/*
 * The refunds service's ledger client on a real HTTP server standing in for
 * the ledger: a call whose connection fails under it is made again, a
 * bounded number of times; an answer of the ledger's is final.
 */

const SECRET = "ledger-client-test-secret";
let server: Server;
let baseUrl: string;
/** How each call to the stand-in ledger goes, in order: "drop" closes the connection unanswered. */
let script: ("drop" | "answer" | "not_found" | "unavailable")[];
let calls: number;

const ledger = connectNodeAdapter({
  routes: (router) =>
    router.service(LedgerService, {
      getTransaction: ({ transactionId }) => {
        const next = script[calls - 1] ?? "answer";
        if (next === "not_found") throw new ConnectError("no such transaction", Code.NotFound);
        if (next === "unavailable") throw new ConnectError("shutting down", Code.Unavailable);
        return {
          transaction: {
            id: transactionId,
            kind: TransactionKind.POSTED,
            status: TransactionStatus.SETTLED,
            currency: "EUR",
            amount: "10.00",
            reversedAmount: "0.00",
          },
        };
      },
    }),
});

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    calls++;
    // A kept-alive socket the ledger closed as the request went out, as the client sees it.
    if (script[calls - 1] === "drop") req.socket.destroy();
    else ledger(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  calls = 0;
});

function clientOf(): LedgerClient {
  return new LedgerClient({ baseUrl, secret: SECRET, timeoutMs: 2_000 });
}

describe("LedgerClient.getTransaction", () => {
  it("calls again when the connection failed under the call", async () => {
    script = ["drop", "drop", "answer"];
    const client = clientOf();
    try {
      const original = await client.getTransaction("t-1");
      expect(original).toMatchObject({ id: "t-1", status: "settled", amount: "10.00" });
      expect(calls).toBe(3);
    } finally {
      client.close();
    }
  });

  it("calls again when the ledger says it is unavailable", async () => {
    script = ["unavailable", "answer"];
    const client = clientOf();
    try {
      expect((await client.getTransaction("t-2")).id).toBe("t-2");
      expect(calls).toBe(2);
    } finally {
      client.close();
    }
  });

  it("gives up after its attempts with LEDGER_UNAVAILABLE", async () => {
    script = ["drop", "drop", "drop", "answer"];
    const client = clientOf();
    try {
      await expect(client.getTransaction("t-3")).rejects.toMatchObject({ reason: "LEDGER_UNAVAILABLE" });
      expect(calls).toBe(3);
    } finally {
      client.close();
    }
  });

  it("takes the ledger's refusal as final", async () => {
    script = ["not_found", "answer"];
    const client = clientOf();
    try {
      await expect(client.getTransaction("t-4")).rejects.toMatchObject({ reason: "ORIGINAL_NOT_FOUND" });
      expect(calls).toBe(1);
    } finally {
      client.close();
    }
  });
});
