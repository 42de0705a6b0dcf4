import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from "@money/db";
import { HASH_SIZE_BYTES } from "../domain/merkle/index.js";

/** The tree after a sequenced batch. */
export interface TreeHead {
  readonly size: number;
  /** First sequence number of the batch that made this head. */
  readonly firstSequence: number;
  readonly root: Uint8Array;
  /** Roots of the perfect subtrees tiling [0, size), largest first. */
  readonly compact: readonly Uint8Array[];
  readonly recordedAt: Date;
}

/** A perfect subtree above the leaves. */
export interface TreeNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

/**
 * Makes the caller the one sequencer until its transaction ends: whoever
 * appends to the log, or signs it, holds this lock, so sequence numbers
 * follow commit order.
 */
export async function lockSequencer(tx: DatabaseTransactionConnection): Promise<void> {
  await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(hashtext('audit:sequencer'))`);
}

export async function latestTreeHead(db: CommonQueryMethods): Promise<TreeHead | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM tree_heads ORDER BY size DESC LIMIT 1`);
  return row ? toHead(row) : null;
}

/** The head whose batch holds `sequence`, i.e. the first head with size > sequence. */
export async function treeHeadCovering(db: CommonQueryMethods, sequence: number): Promise<TreeHead | null> {
  const row = await db.maybeOne(
    sql.unsafe`SELECT * FROM tree_heads WHERE size > ${sequence} ORDER BY size LIMIT 1`,
  );
  return row ? toHead(row) : null;
}

/** The first sequence number recorded at or after `at`, or null when none is. */
export async function firstSequenceRecordedFrom(db: CommonQueryMethods, at: Date): Promise<number | null> {
  const first = await db.maybeOneFirst(sql.unsafe`
    SELECT first_sequence FROM tree_heads WHERE recorded_at >= ${at.toISOString()}
    ORDER BY recorded_at, size LIMIT 1
  `);
  return first === null ? null : Number(first);
}

export async function insertTreeHead(tx: DatabaseTransactionConnection, head: TreeHead): Promise<void> {
  await tx.query(sql.unsafe`
    INSERT INTO tree_heads (size, first_sequence, root, compact, recorded_at)
    VALUES (${head.size}, ${head.firstSequence}, ${sql.binary(Buffer.from(head.root))},
            ${sql.binary(Buffer.concat(head.compact))}, ${head.recordedAt.toISOString()})
  `);
}

export async function insertTreeNodes(
  tx: DatabaseTransactionConnection,
  nodes: readonly TreeNode[],
): Promise<void> {
  if (nodes.length === 0) return;
  // Hashes packed in one binary parameter, as for entries.
  const hashes = Buffer.concat(nodes.map((n) => n.hash));
  await tx.query(sql.unsafe`
    INSERT INTO tree_nodes (level, index, hash)
    SELECT n.level, n.index, substring(${sql.binary(hashes)}::bytea FROM n.n * 32 + 1 FOR 32)
    FROM unnest(
      ${sql.array(
        nodes.map((n) => n.level),
        "int2",
      )},
      ${sql.array(
        nodes.map((n) => n.index),
        "int8",
      )},
      ${sql.array(
        nodes.map((_, i) => i),
        "int4",
      )}
    ) AS n(level, index, n)
  `);
}

/**
 * Hashes of perfect subtrees, leaves (level 0) included, in one query.
 * Missing nodes are absent from the map.
 *
 * @returns hashes keyed by `nodeKey(level, index)`.
 */
export async function readSubtreeHashes(
  db: CommonQueryMethods,
  wanted: readonly { level: number; index: number }[],
): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  if (wanted.length === 0) return found;
  const leaves = wanted.filter((w) => w.level === 0).map((w) => String(w.index));
  const inner = wanted.filter((w) => w.level > 0);
  const rows = await db.any(sql.unsafe`
    SELECT 0 AS level, sequence AS index, leaf_hash AS hash FROM entries
    WHERE sequence = ANY(${sql.array(leaves, "int8")})
    UNION ALL
    SELECT n.level, n.index, n.hash FROM tree_nodes n
    JOIN ${sql.unnest(
      inner.map((w) => [w.level, w.index]),
      ["int2", "int8"],
    )} AS w(level, index) ON n.level = w.level AND n.index = w.index
  `);
  for (const row of rows) {
    found.set(nodeKey(Number(row["level"]), Number(row["index"])), new Uint8Array(row["hash"] as Buffer));
  }
  return found;
}

export function nodeKey(level: number, index: number): string {
  return `${level}/${index}`;
}

function toHead(row: Record<string, unknown>): TreeHead {
  const compact = row["compact"] as Buffer;
  const hashes: Uint8Array[] = [];
  for (let at = 0; at < compact.length; at += HASH_SIZE_BYTES) {
    hashes.push(new Uint8Array(compact.subarray(at, at + HASH_SIZE_BYTES)));
  }
  return {
    size: Number(row["size"]),
    firstSequence: Number(row["first_sequence"]),
    root: new Uint8Array(row["root"] as Buffer),
    compact: hashes,
    recordedAt: row["recorded_at"] as Date,
  };
}
