import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { sql, type DatabaseTransactionConnection } from "@money/db";
import {
  RefundSagaCommandSchema,
  RefundSagaReplySchema,
  type RefundSagaCommand,
  type RefundSagaReply,
} from "@money/proto/refunds/v1/saga_pb";
import { hashRequest } from "@money/rpc";

/** One saga step's record in the participant's idempotency table: its scope and key. */
export interface StepKey {
  scope: string;
  key: string;
}

/** What the records say about one step of a batch. */
export type StepClaim =
  /** New: this transaction claimed the step and performs it. */
  | { kind: "claimed" }
  /** Done before with this request: its first reply. */
  | { kind: "done"; first: RefundSagaReply }
  /** The key was used for a different request: a bug, not a step to perform. */
  | { kind: "reused" };

/**
 * The idempotency records of a batch of saga steps, in the participant's
 * `idempotency_keys` table (the rows `runIdempotentIn` writes: one per saga
 * and step, with a hash of the request and the reply), a batch at a time:
 * one statement claims every step of the batch, one more (only if some were
 * taken) reads the first outcomes, and one records the replies, rather than
 * a claim and an update per step.
 */
export class StepRecords {
  private readonly hashes = new Map<string, Buffer>();
  private readonly replies = new Map<string, { key: StepKey; reply: RefundSagaReply }>();
  private readonly notDoneKeys = new Map<string, StepKey>();

  private constructor(private readonly claims: Map<string, StepClaim>) {}

  /**
   * Claims the steps the commands name, in one statement. A step another
   * transaction is claiming waits for it (the unique key), then reads as done.
   * Two commands of one step in the batch: the first claims it.
   */
  static async claim(
    tx: DatabaseTransactionConnection,
    steps: readonly { key: StepKey; command: RefundSagaCommand }[],
  ): Promise<StepRecords> {
    const records = new StepRecords(new Map());
    if (steps.length === 0) return records;
    for (const { key, command } of steps) {
      // The step's identity is everything but the attempt that carries it.
      records.hashes.set(
        idOf(key),
        hashRequest(RefundSagaCommandSchema, create(RefundSagaCommandSchema, { ...command, attempt: 0 })),
      );
    }
    const keys = [...new Map(steps.map(({ key }) => [idOf(key), key])).values()];
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
            ? { kind: "done", first: fromBinary(RefundSagaReplySchema, row["response"] as Buffer) }
            : { kind: "reused" },
        );
      }
    }
    return records;
  }

  /**
   * The step's claim. Once a command of the step succeeded, later commands
   * of it in the batch read it as done; after one that did not, the next
   * performs it again.
   */
  of(key: StepKey): StepClaim {
    const claim = this.claims.get(idOf(key));
    if (!claim) throw new Error(`saga step ${key.scope} ${key.key} was not claimed`);
    return claim;
  }

  /** The step took effect in this transaction: its reply is recorded at `save`. */
  succeeded(key: StepKey, reply: RefundSagaReply): void {
    this.replies.set(idOf(key), { key, reply });
    this.notDoneKeys.delete(idOf(key));
    this.claims.set(idOf(key), { kind: "done", first: reply });
  }

  /**
   * The step did not take effect (its writes were rolled back): its claim
   * is dropped at `save`, so a later attempt performs it.
   */
  notDone(key: StepKey): void {
    this.notDoneKeys.set(idOf(key), key);
  }

  /** Writes the replies of the steps that took effect and drops the claims of those that did not. */
  async save(tx: DatabaseTransactionConnection): Promise<void> {
    const replies = [...this.replies.values()];
    if (replies.length > 0) {
      await tx.query(sql.unsafe`
        UPDATE idempotency_keys i SET response = r.response
        FROM ${sql.unnest(
          replies.map(({ key, reply }) => [
            key.scope,
            key.key,
            `\\x${Buffer.from(toBinary(RefundSagaReplySchema, reply)).toString("hex")}`,
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

function idOf(key: StepKey): string {
  return `${key.scope}\u0000${key.key}`;
}
