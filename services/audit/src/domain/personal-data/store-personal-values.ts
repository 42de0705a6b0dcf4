import type { DatabaseTransactionConnection } from "@money/db";
import { erasureGeneration, insertPersonalValues, storedRefs } from "../../db/personal-data-table.js";
import type { PersonalRefCache } from "./personal-ref-cache.js";
import { personalKey, type PersonalValue } from "./personal-value.js";

/** Refs for a batch, and what to teach the cache once the batch commits. */
export interface BatchRefs {
  readonly refs: ReadonlyMap<string, Uint8Array>;
  readonly generation: number;
  readonly learnt: ReadonlyMap<string, Uint8Array>;
}

/**
 * The ref of every personal value of a batch: from the cache, else from the
 * side table, else stored now with a fresh salt. A value seen before keeps
 * its ref, so one person's entries stay linked; once erased it gets a new
 * one. Safe beside other writers: a value two of them store at once keeps
 * one ref.
 */
export async function refsForBatch(
  tx: DatabaseTransactionConnection,
  values: readonly PersonalValue[],
  cache: PersonalRefCache,
): Promise<BatchRefs> {
  const generation = await erasureGeneration(tx);
  cache.sync(generation);
  const refs = new Map<string, Uint8Array>();
  const unknown = new Map<string, PersonalValue>();
  for (const value of values) {
    const key = personalKey(value.kind, value.value);
    const cached = cache.get(key);
    if (cached) refs.set(key, cached);
    else unknown.set(key, value);
  }
  const learnt = await storedRefs(tx, [...unknown.values()]);
  const fresh = [...unknown].filter(([key]) => !learnt.has(key)).map(([, value]) => value);
  for (const [key, ref] of await insertPersonalValues(tx, fresh)) learnt.set(key, ref);
  // Values another writer stored between the read and the insert.
  const raced = fresh.filter((v) => !learnt.has(personalKey(v.kind, v.value)));
  for (const [key, ref] of await storedRefs(tx, raced)) learnt.set(key, ref);
  for (const [key, ref] of learnt) refs.set(key, ref);
  return { refs, generation, learnt };
}
