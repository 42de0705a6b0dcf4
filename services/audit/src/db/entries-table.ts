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

export async function insertEntries(
  tx: DatabaseTransactionConnection,
  rows: readonly NewEntryRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(sql.unsafe`
    INSERT INTO entries (sequence, event_id, leaf, leaf_hash, service, action, object_type, object_id,
                         principal_id, acting_device_id, ip_ref, user_agent_ref, occurred_at, recorded_at,
                         correlation_id, source_topic, source_partition, source_offset)
    SELECT * FROM ${sql.unnest(
      rows.map((r) => [
        r.sequence,
        r.eventId,
        Buffer.from(r.leaf),
        Buffer.from(r.leafHash),
        r.service,
        r.action,
        r.objectType,
        r.objectId,
        r.principalId,
        r.actingDeviceId,
        r.ipRef ? Buffer.from(r.ipRef) : null,
        r.userAgentRef ? Buffer.from(r.userAgentRef) : null,
        r.occurredAt.toISOString(),
        r.recordedAt.toISOString(),
        r.correlationId,
        r.sourceTopic,
        r.sourcePartition,
        r.sourceOffset,
      ]),
      [
        "int8",
        "uuid",
        "bytea",
        "bytea",
        "text",
        "text",
        "text",
        "text",
        "text",
        "text",
        "bytea",
        "bytea",
        "timestamptz",
        "timestamptz",
        "text",
        "text",
        "int4",
        "int8",
      ],
    )}
  `);
}

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
