import type { CommonQueryMethods } from "@money/db";
import { checkpointAt, latestCheckpoint, type StoredCheckpoint } from "../../db/checkpoints-table.js";
import { AuditError } from "../audit-error.js";
import { consistencyProof } from "../merkle/index.js";
import { withStoredTree } from "../tree/stored-tree.js";

export interface ConsistencyWithCheckpoint {
  readonly firstSize: number;
  readonly proof: Uint8Array[];
  /** The signed checkpoint the proof leads to. */
  readonly checkpoint: StoredCheckpoint;
}

/**
 * Proves that the tree of `firstSize` leaves is a prefix of the signed
 * checkpoint of `secondSize` leaves (the latest when 0).
 *
 * Errors: INVALID_ARGUMENT (first_size 0 or above second_size),
 * CHECKPOINT_NOT_FOUND.
 */
export async function getConsistencyProof(
  db: CommonQueryMethods,
  firstSize: number,
  secondSize: number,
): Promise<ConsistencyWithCheckpoint> {
  if (!Number.isSafeInteger(firstSize) || firstSize < 1) {
    throw new AuditError(
      "INVALID_ARGUMENT",
      "first_size must be at least 1: every tree extends the empty one",
    );
  }
  const checkpoint = secondSize === 0 ? await latestCheckpoint(db) : await checkpointAt(db, secondSize);
  if (!checkpoint) {
    throw new AuditError(
      "CHECKPOINT_NOT_FOUND",
      secondSize === 0 ? "the log has no checkpoint yet" : `no checkpoint of ${secondSize} entries`,
    );
  }
  if (firstSize > checkpoint.size) {
    throw new AuditError(
      "INVALID_ARGUMENT",
      `first_size ${firstSize} exceeds the checkpoint's ${checkpoint.size} entries`,
    );
  }
  const proof = await withStoredTree(db, checkpoint.size, (reader) =>
    consistencyProof(firstSize, checkpoint.size, reader),
  );
  return { firstSize, proof, checkpoint };
}
