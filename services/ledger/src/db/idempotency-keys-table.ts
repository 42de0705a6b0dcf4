import { sql, type DatabaseTransactionConnection } from "@money/db";

/** A key's first use, as runIdempotent (packages/rpc) records it. */
export interface IdempotencyRecord {
  scope: string;
  key: string;
  requestHash: Buffer;
  response: Buffer;
}

/**
 * Records the keys of several writes made in `tx`, in one statement, in the
 * table and the format runIdempotent reads (so a later replay of any of them
 * goes through the ordinary path). Returns how many were new: fewer than
 * `records.length` means some key was taken, and the caller must roll back.
 */
export async function recordIdempotencyKeys(
  tx: DatabaseTransactionConnection,
  records: readonly IdempotencyRecord[],
): Promise<number> {
  if (records.length === 0) return 0;
  const inserted = await tx.oneFirst(sql.unsafe`
    WITH inserted AS (
      INSERT INTO idempotency_keys (scope, key, request_hash, response)
      SELECT * FROM ${sql.unnest(
        records.map((r) => [r.scope, r.key, r.requestHash, r.response]),
        ["text", "text", "bytea", "bytea"],
      )}
      ON CONFLICT DO NOTHING RETURNING 1
    )
    SELECT count(*)::int FROM inserted
  `);
  return inserted as number;
}
