import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { Agent } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
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
  /** Calls per read when the transport fails (a reset or closed connection); default 3. */
  attempts?: number;
}

const TOKEN_TTL_SECONDS = 3600;
const TOKEN_RENEW_BEFORE_MS = 5 * 60_000;
/** The pause before the second call after a transport failure; doubled for each later one, ±20%. */
const RETRY_BASE_MS = 50;

/**
 * Node's codes for a connection that failed under the call: a kept-alive
 * socket the ledger closed as the request went out (EPIPE, ECONNRESET), or
 * a ledger that is restarting (ECONNREFUSED).
 */
const TRANSPORT_ERROR_CODES = new Set([
  "EPIPE",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

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

  /**
   * The ledger's record of a transaction.
   * @throws RefundError ORIGINAL_NOT_FOUND when the ledger has none by that id,
   *   LEDGER_UNAVAILABLE when it did not answer (after retrying a failed transport).
   */
  async getTransaction(transactionId: string): Promise<OriginalTransaction> {
    const response = await this.withTransportRetries(async () =>
      this.client.getTransaction(
        { transactionId },
        {
          headers: { authorization: `Bearer ${await this.bearer()}` },
          timeoutMs: this.options.timeoutMs ?? 5_000,
        },
      ),
    ).catch((error: unknown) => {
      const e = ConnectError.from(error);
      if (e.code === Code.NotFound || e.code === Code.InvalidArgument) {
        throw new RefundError("ORIGINAL_NOT_FOUND", `the ledger has no transaction ${transactionId}`);
      }
      throw new RefundError(
        "LEDGER_UNAVAILABLE",
        `the ledger did not answer (${Code[e.code]}): ${e.rawMessage}`,
      );
    });
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

  /**
   * Calls again, a bounded number of times with a growing pause, when the
   * call failed in transport (see isTransportFailure); any answer of the
   * ledger's, a refusal included, is final. Safe: the client only reads, and
   * every call that changes something carries an idempotency key.
   */
  private async withTransportRetries<T>(call: () => Promise<T>): Promise<T> {
    const attempts = this.options.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (attempt >= attempts || !isTransportFailure(error)) throw error;
        await sleep(Math.round(RETRY_BASE_MS * 2 ** (attempt - 1) * (0.8 + 0.4 * Math.random())));
      }
    }
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

/**
 * Whether a call failed before the ledger could answer it: a connection
 * reset, closed or refused under it (Node's code anywhere in the cause
 * chain), or Connect's Unavailable. Not a deadline: the ledger may be slow
 * rather than gone, and a caller's wait stays bounded by one timeout.
 */
function isTransportFailure(error: unknown): boolean {
  if (error instanceof ConnectError && error.code === Code.Unavailable) return true;
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (typeof e.code === "string" && TRANSPORT_ERROR_CODES.has(e.code)) return true;
    e = e.cause as typeof e | undefined;
  }
  return false;
}
