import { randomBytes } from "node:crypto";
import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from "@money/db";
import {
  personalKey,
  personalLookup,
  personalRef,
  SALT_BYTES,
  type PersonalKind,
  type PersonalValue,
} from "../domain/personal-data/personal-value.js";

/** A side row: a personal value, its salt and the ref the log holds for it. */
export interface PersonalRecord {
  readonly ref: Uint8Array;
  readonly kind: PersonalKind;
  readonly salt: Uint8Array;
  readonly value: string;
}

/** The erasure generation: the highest erasure id, 0 before the first. */
export async function erasureGeneration(db: CommonQueryMethods): Promise<number> {
  return Number(await db.oneFirst(sql.unsafe`SELECT coalesce(max(id), 0) FROM erasures`));
}

/** Notes an erasure; its id becomes the new generation. */
export async function insertErasure(tx: DatabaseTransactionConnection, erased: number): Promise<void> {
  await tx.query(sql.unsafe`INSERT INTO erasures (erased) VALUES (${erased})`);
}

/**
 * The refs of `values` (keyed by `personalKey`) that are stored already,
 * read by their unsalted lookup hash in one query.
 */
export async function storedRefs(
  db: CommonQueryMethods,
  values: readonly PersonalValue[],
): Promise<Map<string, Uint8Array>> {
  const refs = new Map<string, Uint8Array>();
  if (values.length === 0) return refs;
  const byLookup = new Map<string, string>();
  for (const v of values) {
    byLookup.set(
      `${v.kind}:${Buffer.from(personalLookup(v.kind, v.value)).toString("hex")}`,
      personalKey(v.kind, v.value),
    );
  }
  const rows = await db.any(sql.unsafe`
    SELECT p.kind, p.lookup, p.ref
    FROM personal_data p
    JOIN ${sql.unnest(
      [...byLookup.keys()].map((k) => {
        const [kind, hex] = k.split(":") as [string, string];
        return [kind, Buffer.from(hex, "hex")];
      }),
      ["text", "bytea"],
    )} AS w(kind, lookup) ON p.kind = w.kind AND p.lookup = w.lookup
  `);
  for (const row of rows) {
    const key = byLookup.get(`${row["kind"] as string}:${(row["lookup"] as Buffer).toString("hex")}`);
    if (key !== undefined) refs.set(key, new Uint8Array(row["ref"] as Buffer));
  }
  return refs;
}

/**
 * Stores values not seen before, each with a fresh salt. A value another
 * writer stored meanwhile is left as it is and missing from the result.
 *
 * @returns the refs of the values stored, keyed by `personalKey`.
 */
export async function insertPersonalValues(
  tx: DatabaseTransactionConnection,
  values: readonly PersonalValue[],
): Promise<Map<string, Uint8Array>> {
  const refs = new Map<string, Uint8Array>();
  if (values.length === 0) return refs;
  const candidates = new Map<string, { key: string; ref: Uint8Array }>();
  const rows = values.map((v) => {
    const salt = randomBytes(SALT_BYTES);
    const ref = personalRef(salt, v.kind, v.value);
    candidates.set(Buffer.from(ref).toString("hex"), { key: personalKey(v.kind, v.value), ref });
    return [Buffer.from(ref), v.kind, Buffer.from(personalLookup(v.kind, v.value)), salt, v.value];
  });
  const inserted = await tx.anyFirst(sql.unsafe`
    INSERT INTO personal_data (ref, kind, lookup, salt, value)
    SELECT * FROM ${sql.unnest(rows, ["bytea", "text", "bytea", "bytea", "text"])}
    ON CONFLICT (kind, lookup) DO NOTHING
    RETURNING ref
  `);
  for (const ref of inserted) {
    const candidate = candidates.get((ref as Buffer).toString("hex"));
    if (candidate) refs.set(candidate.key, candidate.ref);
  }
  return refs;
}

/** The side rows behind `refs`; erased ones are simply absent. */
export async function personalRecords(
  db: CommonQueryMethods,
  refs: readonly Uint8Array[],
): Promise<PersonalRecord[]> {
  if (refs.length === 0) return [];
  const rows = await db.any(sql.unsafe`
    SELECT ref, kind, salt, value FROM personal_data
    WHERE ref = ANY(${sql.array(
      refs.map((r) => Buffer.from(r)),
      "bytea",
    )})
  `);
  return rows.map((row) => ({
    ref: new Uint8Array(row["ref"] as Buffer),
    kind: row["kind"] as PersonalKind,
    salt: new Uint8Array(row["salt"] as Buffer),
    value: row["value"] as string,
  }));
}

/** The ref currently standing for a value, or null when it was never seen or was erased. */
export async function refOfValue(
  db: CommonQueryMethods,
  kind: PersonalKind,
  value: string,
): Promise<Uint8Array | null> {
  const ref = await db.maybeOneFirst(sql.unsafe`
    SELECT ref FROM personal_data
    WHERE kind = ${kind} AND lookup = ${sql.binary(Buffer.from(personalLookup(kind, value)))}
  `);
  return ref === null ? null : new Uint8Array(ref as Buffer);
}

/** Deletes side rows; returns how many there were. */
export async function erasePersonalRecords(
  tx: DatabaseTransactionConnection,
  refs: readonly Uint8Array[],
): Promise<number> {
  if (refs.length === 0) return 0;
  const erased = await tx.anyFirst(sql.unsafe`
    DELETE FROM personal_data WHERE ref = ANY(${sql.array(
      refs.map((r) => Buffer.from(r)),
      "bytea",
    )}) RETURNING 1
  `);
  return erased.length;
}

/**
 * The IP and user-agent refs on entries where `principalId` acted and on no
 * entry of anyone else: what belongs to that person alone.
 */
export async function refsOnlySeenWith(db: CommonQueryMethods, principalId: string): Promise<Uint8Array[]> {
  const rows = await db.anyFirst(sql.unsafe`
    WITH mine AS (
      SELECT DISTINCT ref FROM entries, LATERAL (VALUES (ip_ref), (user_agent_ref)) AS r(ref)
      WHERE principal_id = ${principalId} AND ref IS NOT NULL
    )
    SELECT ref FROM mine
    WHERE NOT EXISTS (
      SELECT 1 FROM entries e
      WHERE (e.ip_ref = mine.ref OR e.user_agent_ref = mine.ref) AND e.principal_id <> ${principalId}
    )
  `);
  return rows.map((ref) => new Uint8Array(ref as Buffer));
}
