import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from "@money/db";

/** A row to append: the leaf and the copies of its fields that queries filter on. */
export interface NewEntryRow {
  readonly sequence: number;
  readonly eventId: string;
  readonly leaf: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly service: string;
  readonly action: string;
  readonly objectType: string;
  readonly objectId: string;
  readonly principalId: string;
  readonly actingDeviceId: string;
  readonly ipRef: Uint8Array | null;
  readonly userAgentRef: Uint8Array | null;
  readonly occurredAt: Date;
  readonly recordedAt: Date;
  readonly correlationId: string;
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  readonly sourceOffset: string;
}

/** A stored leaf as read back. */
export interface StoredLeaf {
  readonly sequence: number;
  readonly leaf: Uint8Array;
  readonly leafHash: Uint8Array;
}

/** Which of `eventIds` the log already holds. */
export async function existingEventIds(
  db: CommonQueryMethods,
  eventIds: readonly string[],
): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows = await db.anyFirst(sql.unsafe`
    SELECT event_id FROM entries WHERE event_id = ANY(${sql.array(eventIds, "uuid")})
  `);
  return new Set(rows as string[]);
}

/**
 * Appends the rows of one batch in one statement. The rows are consecutive
 * from `rows[0].sequence` and share recorded_at and source topic and
 * partition (the batch is one partition's, stamped once), which go as
 * scalars. The bytes travel as three binary parameters (leaves, leaf hashes,
 * refs, each packed) cut up by substring, not as bytea arrays: arrays of
 * bytea go as hex text, twice the size, and cost the server a parse per
 * element. The other columns go as one JSON text read by json_to_recordset:
 * JSON.stringify and the server's JSON parser are both native, where the
 * driver builds each array literal element by element in JavaScript.
 *
 * @throws Error if the rows are not consecutive or do not share those fields: a bug of the caller.
 */
export async function insertEntries(
  tx: DatabaseTransactionConnection,
  rows: readonly NewEntryRow[],
): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  const leaves = Buffer.concat(rows.map((r) => r.leaf));
  const hashes = Buffer.concat(rows.map((r) => r.leafHash));
  const refs = Buffer.concat(rows.flatMap((r) => [r.ipRef ?? NO_REF, r.userAgentRef ?? NO_REF]));
  const columns: EntryColumns[] = [];
  let offset = 0;
  for (const [n, row] of rows.entries()) {
    if (
      row.sequence !== first.sequence + n ||
      row.recordedAt.getTime() !== first.recordedAt.getTime() ||
      row.sourceTopic !== first.sourceTopic ||
      row.sourcePartition !== first.sourcePartition
    ) {
      throw new Error("insertEntries takes consecutive rows of one batch");
    }
    columns.push({
      e: row.eventId,
      s: row.service,
      a: row.action,
      t: row.objectType,
      o: row.objectId,
      p: row.principalId,
      d: row.actingDeviceId,
      w: row.occurredAt.toISOString(),
      c: row.correlationId,
      k: row.sourceOffset,
      lo: offset,
      ll: row.leaf.length,
    });
    offset += row.leaf.length;
  }
  await tx.query(sql.unsafe`
    INSERT INTO entries (sequence, event_id, leaf, leaf_hash, service, action, object_type, object_id,
                         principal_id, acting_device_id, ip_ref, user_agent_ref, occurred_at, recorded_at,
                         correlation_id, source_topic, source_partition, source_offset)
    SELECT ${first.sequence}::int8 + r.n - 1, r.e,
           substring(${sql.binary(leaves)}::bytea FROM r.lo + 1 FOR r.ll),
           substring(${sql.binary(hashes)}::bytea FROM (r.n::int4 - 1) * 32 + 1 FOR 32),
           r.s, r.a, r.t, r.o, r.p, r.d,
           nullif(substring(${sql.binary(refs)}::bytea FROM (r.n::int4 - 1) * 64 + 1 FOR 32), ${sql.binary(NO_REF)}::bytea),
           nullif(substring(${sql.binary(refs)}::bytea FROM (r.n::int4 - 1) * 64 + 33 FOR 32), ${sql.binary(NO_REF)}::bytea),
           r.w, ${first.recordedAt.toISOString()}::timestamptz, r.c,
           ${first.sourceTopic}, ${first.sourcePartition}::int4, r.k
    FROM ROWS FROM (
      json_to_recordset(${JSON.stringify(columns)}::json)
        AS (e uuid, s text, a text, t text, o text, p text, d text, w timestamptz, c text, k int8,
            lo int4, ll int4)
    ) WITH ORDINALITY AS r(e, s, a, t, o, p, d, w, c, k, lo, ll, n)
  `);
}

/** One row's columns in the JSON that insertEntries sends, under short keys. */
interface EntryColumns {
  readonly e: string;
  readonly s: string;
  readonly a: string;
  readonly t: string;
  readonly o: string;
  readonly p: string;
  readonly d: string;
  readonly w: string;
  readonly c: string;
  readonly k: string;
  readonly lo: number;
  readonly ll: number;
}

/** Stands for "no ref" in the packed refs; a real ref is a SHA-256, never all zeros in practice. */
const NO_REF = Buffer.alloc(32);

export async function leafBySequence(db: CommonQueryMethods, sequence: number): Promise<StoredLeaf | null> {
  const row = await db.maybeOne(
    sql.unsafe`SELECT sequence, leaf, leaf_hash FROM entries WHERE sequence = ${sequence}`,
  );
  return row ? toLeaf(row) : null;
}

export async function leafByEventId(db: CommonQueryMethods, eventId: string): Promise<StoredLeaf | null> {
  const row = await db.maybeOne(
    sql.unsafe`SELECT sequence, leaf, leaf_hash FROM entries WHERE event_id = ${eventId}`,
  );
  return row ? toLeaf(row) : null;
}

/** Stored leaves with sequence in [from, to), in sequence order, at most `limit`. */
export async function leavesBetween(
  db: CommonQueryMethods,
  from: number,
  to: number,
  limit: number,
): Promise<StoredLeaf[]> {
  const rows = await db.any(sql.unsafe`
    SELECT sequence, leaf, leaf_hash FROM entries
    WHERE sequence >= ${from} AND sequence < ${to} ORDER BY sequence LIMIT ${limit}
  `);
  return rows.map(toLeaf);
}

/** Filters of a query; absent ones match everything. */
export interface EntryFilter {
  readonly service?: string;
  /** Any of these principal ids (a customer is stored under a pseudonym). */
  readonly principalIds?: readonly string[];
  readonly actingDeviceId?: string;
  readonly objectType?: string;
  readonly objectId?: string;
  readonly action?: string;
  readonly occurredFrom?: Date;
  readonly occurredTo?: Date;
}

/** Leaves matching every filter with sequence > `after`, in sequence order, at most `limit`. */
export async function queryLeaves(
  db: CommonQueryMethods,
  filter: EntryFilter,
  after: number,
  limit: number,
): Promise<StoredLeaf[]> {
  const conditions = [sql.fragment`sequence > ${after}`];
  if (filter.service !== undefined) conditions.push(sql.fragment`service = ${filter.service}`);
  if (filter.principalIds !== undefined) {
    conditions.push(sql.fragment`principal_id = ANY(${sql.array(filter.principalIds, "text")})`);
  }
  if (filter.actingDeviceId !== undefined) {
    conditions.push(sql.fragment`acting_device_id = ${filter.actingDeviceId}`);
  }
  if (filter.objectType !== undefined) conditions.push(sql.fragment`object_type = ${filter.objectType}`);
  if (filter.objectId !== undefined) conditions.push(sql.fragment`object_id = ${filter.objectId}`);
  if (filter.action !== undefined) conditions.push(sql.fragment`action = ${filter.action}`);
  if (filter.occurredFrom !== undefined) {
    conditions.push(sql.fragment`occurred_at >= ${filter.occurredFrom.toISOString()}`);
  }
  if (filter.occurredTo !== undefined) {
    conditions.push(sql.fragment`occurred_at < ${filter.occurredTo.toISOString()}`);
  }
  const rows = await db.any(sql.unsafe`
    SELECT sequence, leaf, leaf_hash FROM entries
    WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY sequence LIMIT ${limit}
  `);
  return rows.map(toLeaf);
}

function toLeaf(row: Record<string, unknown>): StoredLeaf {
  return {
    sequence: Number(row["sequence"]),
    leaf: new Uint8Array(row["leaf"] as Buffer),
    leafHash: new Uint8Array(row["leaf_hash"] as Buffer),
  };
}
