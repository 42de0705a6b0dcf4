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

/**
 * The ref of every value, storing the values not seen before with a fresh
 * salt. A value seen before keeps its ref, so one person's events stay
 * linked; once erased it gets a new one.
 *
 * @returns refs keyed by `personalKey(kind, value)`.
 */
export async function storePersonalValues(
  tx: DatabaseTransactionConnection,
  values: readonly PersonalValue[],
): Promise<Map<string, Uint8Array>> {
  const unique = new Map<string, PersonalValue>();
  for (const v of values) unique.set(personalKey(v.kind, v.value), v);
  const refs = new Map<string, Uint8Array>();
  if (unique.size === 0) return refs;
  const candidates = [...unique.values()].map((v) => {
    const salt = randomBytes(SALT_BYTES);
    return {
      ...v,
      lookup: personalLookup(v.kind, v.value),
      salt,
      ref: personalRef(salt, v.kind, v.value),
    };
  });
  // Rows already there keep their ref; the others are inserted. Both come
  // back from one statement: the outer SELECT sees the table as it was
  // before the INSERT, the RETURNING what the INSERT added.
  const rows = await tx.any(sql.unsafe`
    WITH input AS (
      SELECT * FROM ${sql.unnest(
        candidates.map((c) => [Buffer.from(c.ref), c.kind, Buffer.from(c.lookup), c.salt, c.value]),
        ["bytea", "text", "bytea", "bytea", "text"],
      )} AS i(ref, kind, lookup, salt, value)
    ), inserted AS (
      INSERT INTO personal_data (ref, kind, lookup, salt, value)
      SELECT ref, kind, lookup, salt, value FROM input
      ON CONFLICT (kind, lookup) DO NOTHING
      RETURNING kind, lookup, ref
    )
    SELECT kind, lookup, ref FROM inserted
    UNION ALL
    SELECT p.kind, p.lookup, p.ref FROM personal_data p JOIN input i ON p.kind = i.kind AND p.lookup = i.lookup
  `);
  const byLookup = new Map<string, Uint8Array>();
  for (const row of rows) {
    byLookup.set(
      `${row["kind"] as string}:${(row["lookup"] as Buffer).toString("hex")}`,
      row["ref"] as Buffer,
    );
  }
  for (const c of candidates) {
    const ref = byLookup.get(`${c.kind}:${Buffer.from(c.lookup).toString("hex")}`);
    if (ref) refs.set(personalKey(c.kind, c.value), new Uint8Array(ref));
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
