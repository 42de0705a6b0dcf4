import { createHash } from "node:crypto";
import { fromBinary, toJson, type DescMessage, type JsonValue, type MessageShape } from "@bufbuild/protobuf";
import {
  inTransaction,
  sql,
  type DatabasePool,
  type DatabaseTransactionConnection,
  type TransactionOptions,
} from "@money/db";
import { encodeMessage } from "@money/kafka";
import { DomainError } from "../errors/domain-error.js";
import { rememberEncoding } from "../server/known-encodings.js";

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
 * - the same key with the same request returns the stored response;
 * - the same key with a different request is refused (IDEMPOTENCY_KEY_REUSED);
 * - two concurrent calls with one key: one commits, the other finds the key
 *   taken when it records it (or its refusal), rolls back, and replays.
 * A refused request (the effect threw) stores nothing, so it may be retried.
 *
 * Why optimistic: the key is recorded, with the response, in the effect's
 * transaction after the effect, in one statement, and is only looked up
 * first when that statement finds it taken or the effect refused. A new key,
 * the common case by far, therefore costs one statement rather than a claim
 * and an update. A replay runs the effect again and rolls it back, which is
 * safe because an effect has no effect outside its transaction (see
 * inTransaction), and answers with the first response whatever the effect
 * would decide now. The unique key is what guarantees one effect per key.
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
  const requestHash = hashRequest(call.requestSchema, call.request);
  try {
    return await inTransaction(
      pool,
      async (tx) => {
        const response = await effect(tx);
        const recorded = await tx.maybeOneFirst(sql.unsafe`
          INSERT INTO idempotency_keys (scope, key, request_hash, response)
          VALUES (${call.scope}, ${call.key}, ${sql.binary(requestHash)},
                  ${sql.binary(encodeStoredResponse(call.responseSchema, response))})
          ON CONFLICT DO NOTHING RETURNING 1
        `);
        // Throwing rolls the effect back: the key's first use stands alone.
        if (recorded === null) throw new KeyTaken();
        return response;
      },
      options,
    );
  } catch (error) {
    if (!(error instanceof KeyTaken || error instanceof DomainError)) throw error;
    const first = await pool.maybeOne(sql.unsafe`
      SELECT request_hash, response FROM idempotency_keys WHERE scope = ${call.scope} AND key = ${call.key}
    `);
    if (first === null) {
      // The effect refused a new key: nothing is stored, so the caller may retry.
      if (error instanceof KeyTaken)
        throw new Error(`idempotency key ${call.key} vanished`, { cause: error });
      throw error;
    }
    return replayOrRefuse(call, requestHash, first);
  }
}

/** Raised inside the effect's transaction when its key turns out to be taken, to roll it back. */
class KeyTaken extends Error {
  override readonly name = "KeyTaken";
}

/** The first response under a key, when `requestHash` is its request's; otherwise the refusal. */
function replayOrRefuse<Req extends DescMessage, Res extends DescMessage>(
  call: IdempotentCall<Req, Res>,
  requestHash: Buffer,
  first: Readonly<Record<string, unknown>>,
): MessageShape<Res> {
  if (!requestHash.equals(first["request_hash"] as Buffer)) {
    throw new DomainError(
      "IDEMPOTENCY_KEY_REUSED",
      `idempotency key ${call.key} was already used for a different request; use a new key`,
    );
  }
  const stored = first["response"] as Buffer;
  const replay = fromBinary(call.responseSchema, stored);
  rememberEncoding(replay, stored);
  return replay;
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
    return replayOrRefuse(call, requestHash, first);
  }
  const response = await effect(tx);
  await tx.query(sql.unsafe`
    UPDATE idempotency_keys SET response = ${sql.binary(encodeStoredResponse(call.responseSchema, response))}
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

/**
 * A response as runIdempotent stores it under its key (and replays it): protobuf binary, written
 * by encodeMessage (toBinary's bytes, faster). For writers that record keys themselves.
 */
export function encodeStoredResponse<Res extends DescMessage>(
  schema: Res,
  response: MessageShape<Res>,
): Buffer {
  const bytes = encodeMessage(schema, response);
  // The fast path sends these same bytes as the answer, rather than encoding it once more.
  rememberEncoding(response, bytes);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
