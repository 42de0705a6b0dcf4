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
 * goes through the ordinary path). Returns the indexes of the records whose
 * key was already taken (by an earlier call, or an earlier record here): when
 * there are any, the caller must roll back.
 */
export async function recordIdempotencyKeys(
  tx: DatabaseTransactionConnection,
  records: readonly IdempotencyRecord[],
): Promise<number[]> {
  if (records.length === 0) return [];
  const inserted = await tx.anyFirst(sql.unsafe`
    INSERT INTO idempotency_keys (scope, key, request_hash, response)
    SELECT * FROM ${sql.unnest(
      records.map((r) => [r.scope, r.key, r.requestHash, r.response]),
      ["text", "text", "bytea", "bytea"],
    )}
    ON CONFLICT DO NOTHING RETURNING scope || ' ' || key
  `);
  if (inserted.length === records.length) return [];
  const fresh = new Set(inserted as string[]);
  const taken: number[] = [];
  const seen = new Set<string>();
  records.forEach((r, i) => {
    const id = `${r.scope} ${r.key}`;
    if (!fresh.has(id) || seen.has(id)) taken.push(i);
    seen.add(id);
  });
  return taken;
}
