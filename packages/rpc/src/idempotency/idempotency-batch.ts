import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { sql, type DatabaseTransactionConnection } from "@money/db";
import { encodeStoredResponse, hashRequest } from "./idempotency.js";

/** One record of the `idempotency_keys` table: its scope and key. */
export interface RecordKey {
  scope: string;
  key: string;
}

/** What the records say about one item of a batch. */
export type BatchClaim<Res extends DescMessage> =
  /** New: this transaction claimed the key and performs the item. */
  | { kind: "claimed" }
  /** Done before with this request: its first response. */
  | { kind: "done"; first: MessageShape<Res> }
  /** The key was used for a different request: a bug, not an item to perform. */
  | { kind: "reused" };

/**
 * `runIdempotentIn` for a batch: the same `idempotency_keys` rows (scope,
 * key, a hash of the request, the response), a batch at a time. One
 * statement claims every key of the batch, one more (only if some were
 * taken) reads the first outcomes, and one records the responses, rather
 * than a claim and an update per item. For consumers that handle a batch of
 * messages in one transaction (the refund saga's participants).
 */
export class IdempotencyBatch<Req extends DescMessage, Res extends DescMessage> {
  private readonly hashes = new Map<string, Buffer>();
  private readonly responses = new Map<string, { key: RecordKey; response: MessageShape<Res> }>();
  private readonly notDoneKeys = new Map<string, RecordKey>();
  private readonly claims = new Map<string, BatchClaim<Res>>();

  private constructor(private readonly call: { requestSchema: Req; responseSchema: Res }) {}

  /**
   * Claims the keys of `items`, in one statement. A key another transaction
   * is claiming waits for it (the unique key), then reads as done. Two items
   * of one key in the batch: the first claims it.
   */
  static async claim<Req extends DescMessage, Res extends DescMessage>(
    tx: DatabaseTransactionConnection,
    call: { requestSchema: Req; responseSchema: Res },
    items: readonly { key: RecordKey; request: MessageShape<Req> }[],
  ): Promise<IdempotencyBatch<Req, Res>> {
    const records = new IdempotencyBatch(call);
    if (items.length === 0) return records;
    for (const { key, request } of items)
      records.hashes.set(idOf(key), hashRequest(call.requestSchema, request));
    const keys = [...new Map(items.map(({ key }) => [idOf(key), key])).values()];
    const claimed = await tx.any(sql.unsafe`
      INSERT INTO idempotency_keys (scope, key, request_hash)
      SELECT scope, key, request_hash FROM ${sql.unnest(
        keys.map((k) => [k.scope, k.key, `\\x${records.hashes.get(idOf(k))!.toString("hex")}`]),
        ["text", "text", "bytea"],
      )} AS s(scope, key, request_hash)
      ON CONFLICT DO NOTHING RETURNING scope, key
    `);
    for (const row of claimed) {
      records.claims.set(idOf({ scope: row["scope"] as string, key: row["key"] as string }), {
        kind: "claimed",
      });
    }
    const taken = keys.filter((k) => !records.claims.has(idOf(k)));
    if (taken.length > 0) {
      const firsts = await tx.any(sql.unsafe`
        SELECT i.scope, i.key, i.request_hash, i.response FROM idempotency_keys i
        JOIN ${sql.unnest(
          taken.map((k) => [k.scope, k.key]),
          ["text", "text"],
        )} AS t(scope, key) ON i.scope = t.scope AND i.key = t.key
      `);
      for (const row of firsts) {
        const key = { scope: row["scope"] as string, key: row["key"] as string };
        const sameRequest = records.hashes.get(idOf(key))!.equals(row["request_hash"] as Buffer);
        records.claims.set(
          idOf(key),
          sameRequest
            ? { kind: "done", first: fromBinary(call.responseSchema, row["response"] as Buffer) }
            : { kind: "reused" },
        );
      }
    }
    return records;
  }

  /**
   * The key's claim. Once an item of the key succeeded, later items of it in
   * the batch read it as done; after one that did not, the next performs it
   * again.
   */
  of(key: RecordKey): BatchClaim<Res> {
    const claim = this.claims.get(idOf(key));
    if (!claim) throw new Error(`idempotency key ${key.scope} ${key.key} was not claimed`);
    return claim;
  }

  /** The item took effect in this transaction: its response is recorded at `save`. */
  succeeded(key: RecordKey, response: MessageShape<Res>): void {
    this.responses.set(idOf(key), { key, response });
    this.notDoneKeys.delete(idOf(key));
    this.claims.set(idOf(key), { kind: "done", first: response });
  }

  /**
   * The item did not take effect (its writes were rolled back): its claim
   * is dropped at `save`, so a later attempt performs it.
   */
  notDone(key: RecordKey): void {
    this.notDoneKeys.set(idOf(key), key);
  }

  /** Writes the responses of the items that took effect and drops the claims of those that did not. */
  async save(tx: DatabaseTransactionConnection): Promise<void> {
    const responses = [...this.responses.values()];
    if (responses.length > 0) {
      await tx.query(sql.unsafe`
        UPDATE idempotency_keys i SET response = r.response
        FROM ${sql.unnest(
          responses.map(({ key, response }) => [
            key.scope,
            key.key,
            `\\x${encodeStoredResponse(this.call.responseSchema, response).toString("hex")}`,
          ]),
          ["text", "text", "bytea"],
        )} AS r(scope, key, response)
        WHERE i.scope = r.scope AND i.key = r.key
      `);
    }
    const notDone = [...this.notDoneKeys.values()];
    if (notDone.length > 0) {
      await tx.query(sql.unsafe`
        DELETE FROM idempotency_keys i
        USING ${sql.unnest(
          notDone.map((k) => [k.scope, k.key]),
          ["text", "text"],
        )} AS r(scope, key)
        WHERE i.scope = r.scope AND i.key = r.key AND i.response IS NULL
      `);
    }
  }
}

function idOf(key: RecordKey): string {
  return `${key.scope}\u0000${key.key}`;
}
