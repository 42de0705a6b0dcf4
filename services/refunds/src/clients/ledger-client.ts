import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { Agent } from "node:http";
import { createConnectTransport } from "@connectrpc/connect-node";
import { LedgerService, TransactionKind, TransactionStatus } from "@money/proto/ledger/v1/ledger_pb";
import { DEV_TOKEN_SECRET, mintToken } from "@money/rpc";
import type { LedgerGateway, OriginalTransaction } from "../domain/original-transaction.js";
import { RefundError } from "../domain/refund-error.js";

export interface LedgerClientOptions {
  /** LEDGER_URL, e.g. http://127.0.0.1:7001. */
  baseUrl: string;
  /** HS256 secret the platform's tokens are signed with. */
  secret: string;
  timeoutMs?: number;
}

const TOKEN_TTL_SECONDS = 3600;
const TOKEN_RENEW_BEFORE_MS = 5 * 60_000;

const STATUS: Readonly<Record<number, OriginalTransaction["status"]>> = {
  [TransactionStatus.INITIATED]: "initiated",
  [TransactionStatus.PROCESSING]: "processing",
  [TransactionStatus.SETTLED]: "settled",
  [TransactionStatus.FAILED]: "failed",
  [TransactionStatus.REFUND_INITIATED]: "refund_initiated",
  [TransactionStatus.REFUND_PROCESSING]: "refund_processing",
  [TransactionStatus.REFUNDED]: "refunded",
  [TransactionStatus.REFUND_FAILED]: "refund_failed",
};

const KIND: Readonly<Record<number, OriginalTransaction["kind"]>> = {
  [TransactionKind.POSTED]: "posted",
  [TransactionKind.PENDING]: "pending",
  [TransactionKind.REVERSAL]: "reversal",
};

/**
 * Reads originals from the ledger over Connect (binary), as the
 * `refunds` service principal: a service-role token signed with the
 * platform secret, renewed before it expires.
 */
export class LedgerClient implements LedgerGateway {
  private readonly client: Client<typeof LedgerService>;
  /** Kept-alive connections to the ledger, closed with the service. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
  private token: { value: Promise<string>; renewAt: number } | undefined;

  constructor(private readonly options: LedgerClientOptions) {
    // HTTP/1.1 rather than HTTP/2: connect-node 2.1's HTTP/2 session manager can raise an
    // uncaught error (and so crash this process) when the ledger closes an idle connection
    // with GOAWAY, as it does on every restart (connectrpc/connect-es#1768).
    this.client = createClient(
      LedgerService,
      createConnectTransport({
        baseUrl: options.baseUrl,
        httpVersion: "1.1",
        useBinaryFormat: true,
        nodeOptions: { agent: this.agent },
      }),
    );
  }

  /** Closes the connections to the ledger. */
  close(): void {
    this.agent.destroy();
  }

  /** The client as configured by the environment: LEDGER_URL, AUTH_JWT_SECRET (dev secret outside production). */
  static fromEnv(env: NodeJS.ProcessEnv): LedgerClient {
    const secret =
      env["AUTH_JWT_SECRET"] ?? (env["NODE_ENV"] === "production" ? undefined : DEV_TOKEN_SECRET);
    if (!secret)
      throw new Error(
        "AUTH_JWT_SECRET must be set in production: the refunds service calls the ledger with it",
      );
    return new LedgerClient({ baseUrl: env["LEDGER_URL"] ?? "http://127.0.0.1:7001", secret });
  }

  async getTransaction(transactionId: string): Promise<OriginalTransaction> {
    let response;
    try {
      response = await this.client.getTransaction(
        { transactionId },
        {
          headers: { authorization: `Bearer ${await this.bearer()}` },
          timeoutMs: this.options.timeoutMs ?? 5_000,
        },
      );
    } catch (error) {
      const e = ConnectError.from(error);
      if (e.code === Code.NotFound || e.code === Code.InvalidArgument) {
        throw new RefundError("ORIGINAL_NOT_FOUND", `the ledger has no transaction ${transactionId}`);
      }
      throw new RefundError(
        "LEDGER_UNAVAILABLE",
        `the ledger did not answer (${Code[e.code]}): ${e.rawMessage}`,
      );
    }
    const t = response.transaction;
    if (!t) throw new RefundError("LEDGER_UNAVAILABLE", "the ledger answered without the transaction");
    return {
      id: t.id,
      kind: KIND[t.kind] ?? "unknown",
      status: STATUS[t.status] ?? "unknown",
      currency: t.currency,
      amount: t.amount,
      reversedAmount: t.reversedAmount,
      externalRef: t.externalRef,
      metadata: t.metadata,
    };
  }

  private bearer(): Promise<string> {
    if (!this.token || Date.now() >= this.token.renewAt) {
      const value = mintToken(
        { sub: "refunds", role: "service" },
        { secret: this.options.secret, ttlSeconds: TOKEN_TTL_SECONDS },
      );
      this.token = { value, renewAt: Date.now() + TOKEN_TTL_SECONDS * 1000 - TOKEN_RENEW_BEFORE_MS };
      // A failed mint is not cached.
      value.catch(() => (this.token = undefined));
    }
    return this.token.value;
  }
}
