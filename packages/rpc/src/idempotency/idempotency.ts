import { createHash } from "node:crypto";
import {
  fromBinary,
  toBinary,
  toJson,
  type DescMessage,
  type JsonValue,
  type MessageShape,
} from "@bufbuild/protobuf";
import {
  inTransaction,
  sql,
  type DatabasePool,
  type DatabaseTransactionConnection,
  type TransactionOptions,
} from "@money/db";
import { DomainError } from "../errors/domain-error.js";

export interface IdempotentCall<Req extends DescMessage, Res extends DescMessage> {
  /** Who and what the key is scoped to: the same key from two callers or two methods is two keys. */
  scope: string;
  key: string;
  requestSchema: Req;
  request: MessageShape<Req>;
  responseSchema: Res;
}

const MAX_KEY_LENGTH = 200;

/**
 * Runs `effect` once per idempotency key, in one transaction with the key's
 * record:
 * - a new key runs the effect and stores its response;
 * - the same key with the same request returns the stored response, and the
 *   effect does not run;
 * - the same key with a different request is refused (IDEMPOTENCY_KEY_REUSED);
 * - two concurrent calls with one key: the second waits on the key's row
 *   and then replays the first's response (or conflicts and is retried).
 * A refused request (the effect threw) stores nothing, so it may be retried.
 *
 * Errors: IDEMPOTENCY_KEY_MISSING, IDEMPOTENCY_KEY_REUSED, and whatever the effect throws.
 */
export async function runIdempotent<Req extends DescMessage, Res extends DescMessage>(
  pool: DatabasePool,
  call: IdempotentCall<Req, Res>,
  effect: (tx: DatabaseTransactionConnection) => Promise<MessageShape<Res>>,
  options: TransactionOptions = {},
): Promise<MessageShape<Res>> {
  requireKey(call.key);
  return inTransaction(pool, (tx) => runIdempotentIn(tx, call, effect), options);
}

/**
 * As runIdempotent, inside a transaction the caller owns: for effects that
 * arrive by message rather than RPC (a saga step handled in an inbox
 * transaction). The key's record commits or rolls back with the caller's
 * transaction; when `effect` throws, the caller must roll back (or run this
 * in a savepoint), or the key stays claimed with no response.
 *
 * Errors: IDEMPOTENCY_KEY_MISSING, IDEMPOTENCY_KEY_REUSED, and whatever the effect throws.
 */
export async function runIdempotentIn<Req extends DescMessage, Res extends DescMessage>(
  tx: DatabaseTransactionConnection,
  call: IdempotentCall<Req, Res>,
  effect: (tx: DatabaseTransactionConnection) => Promise<MessageShape<Res>>,
): Promise<MessageShape<Res>> {
  requireKey(call.key);
  const requestHash = hashRequest(call.requestSchema, call.request);
  const claimed = await tx.maybeOneFirst(sql.unsafe`
    INSERT INTO idempotency_keys (scope, key, request_hash)
    VALUES (${call.scope}, ${call.key}, ${sql.binary(requestHash)})
    ON CONFLICT DO NOTHING RETURNING 1
  `);
  if (claimed === null) {
    const first = await tx.one(sql.unsafe`
      SELECT request_hash, response FROM idempotency_keys WHERE scope = ${call.scope} AND key = ${call.key}
    `);
    if (!requestHash.equals(first["request_hash"] as Buffer)) {
      throw new DomainError(
        "IDEMPOTENCY_KEY_REUSED",
        `idempotency key ${call.key} was already used for a different request; use a new key`,
      );
    }
    return fromBinary(call.responseSchema, first["response"] as Buffer);
  }
  const response = await effect(tx);
  await tx.query(sql.unsafe`
    UPDATE idempotency_keys SET response = ${sql.binary(Buffer.from(toBinary(call.responseSchema, response)))}
    WHERE scope = ${call.scope} AND key = ${call.key}
  `);
  return response;
}

function requireKey(key: string): void {
  if (!key) throw new DomainError("IDEMPOTENCY_KEY_MISSING", "idempotency_key is required for this call");
  if (key.length > MAX_KEY_LENGTH) {
    throw new DomainError(
      "IDEMPOTENCY_KEY_MISSING",
      `idempotency_key must be at most ${MAX_KEY_LENGTH} characters`,
    );
  }
}

/** SHA-256 of the request's canonical JSON (keys sorted), so map order does not matter. */
export function hashRequest<Req extends DescMessage>(schema: Req, request: MessageShape<Req>): Buffer {
  return createHash("sha256")
    .update(canonicalJson(toJson(schema, request)))
    .digest();
}

function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
