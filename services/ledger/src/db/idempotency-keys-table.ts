import { sql, type CommonQueryMethods } from "@money/db";

/** A key's first use, as runIdempotent (packages/rpc) records it. */
export interface IdempotencyRecord {
  scope: string;
  key: string;
  requestHash: Buffer;
  response: Buffer;
}

/** Which of `keys` are recorded already, as `scope key` strings. */
export async function recordedKeysAmong(
  db: CommonQueryMethods,
  keys: readonly { scope: string; key: string }[],
): Promise<Set<string>> {
  const found = await db.anyFirst(sql.unsafe`
    SELECT k.scope || ' ' || k.key FROM idempotency_keys k
    JOIN ${sql.unnest(
      keys.map((k) => [k.scope, k.key]),
      ["text", "text"],
    )} AS wanted(scope, key) ON k.scope = wanted.scope AND k.key = wanted.key
  `);
  return new Set(found as string[]);
}
