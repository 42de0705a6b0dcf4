/** A key's first use, as runIdempotent (packages/rpc) records it. */
export interface IdempotencyRecord {
  scope: string;
  key: string;
  requestHash: Buffer;
  response: Buffer;
}

/** The indexes of `records` whose key is not among those `recorded` (as `scope key`), or repeats an earlier one. */
export function takenKeys(records: readonly IdempotencyRecord[], recorded: readonly string[]): number[] {
  if (recorded.length === records.length) return [];
  const fresh = new Set(recorded);
  const taken: number[] = [];
  const seen = new Set<string>();
  records.forEach((r, i) => {
    const id = `${r.scope} ${r.key}`;
    if (!fresh.has(id) || seen.has(id)) taken.push(i);
    seen.add(id);
  });
  return taken;
}
