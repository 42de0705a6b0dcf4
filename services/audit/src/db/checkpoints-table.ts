import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from "@money/db";

/** A checkpoint as stored: the signed note and what it says. */
export interface StoredCheckpoint {
  readonly size: number;
  readonly root: Uint8Array;
  readonly note: string;
  readonly signedAt: Date;
}

export async function latestCheckpoint(db: CommonQueryMethods): Promise<StoredCheckpoint | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM checkpoints ORDER BY size DESC LIMIT 1`);
  return row ? toCheckpoint(row) : null;
}

export async function checkpointAt(db: CommonQueryMethods, size: number): Promise<StoredCheckpoint | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM checkpoints WHERE size = ${size}`);
  return row ? toCheckpoint(row) : null;
}

/** The smallest checkpoint of at least `size` leaves. */
export async function checkpointCovering(
  db: CommonQueryMethods,
  size: number,
): Promise<StoredCheckpoint | null> {
  const row = await db.maybeOne(
    sql.unsafe`SELECT * FROM checkpoints WHERE size >= ${size} ORDER BY size LIMIT 1`,
  );
  return row ? toCheckpoint(row) : null;
}

/** Checkpoints with size in [from, to], smallest first. */
export async function checkpointsBetween(
  db: CommonQueryMethods,
  from: number,
  to: number,
): Promise<StoredCheckpoint[]> {
  const rows = await db.any(
    sql.unsafe`SELECT * FROM checkpoints WHERE size >= ${from} AND size <= ${to} ORDER BY size`,
  );
  return rows.map(toCheckpoint);
}

/** Stores a checkpoint; false when one of that size exists already (another signer was first). */
export async function insertCheckpoint(
  tx: DatabaseTransactionConnection,
  checkpoint: StoredCheckpoint,
): Promise<boolean> {
  const inserted = await tx.maybeOneFirst(sql.unsafe`
    INSERT INTO checkpoints (size, root, note, signed_at)
    VALUES (${checkpoint.size}, ${sql.binary(Buffer.from(checkpoint.root))}, ${checkpoint.note},
            ${checkpoint.signedAt.toISOString()})
    ON CONFLICT (size) DO NOTHING RETURNING 1
  `);
  return inserted !== null;
}

function toCheckpoint(row: Record<string, unknown>): StoredCheckpoint {
  return {
    size: Number(row["size"]),
    root: new Uint8Array(row["root"] as Buffer),
    note: row["note"] as string,
    signedAt: row["signed_at"] as Date,
  };
}
