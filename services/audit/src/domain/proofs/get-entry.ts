import type { CommonQueryMethods } from "@money/db";
import { checkpointAt, latestCheckpoint, type StoredCheckpoint } from "../../db/checkpoints-table.js";
import { leafByEventId, leafBySequence } from "../../db/entries-table.js";
import { AuditError } from "../audit-error.js";
import { inclusionProof } from "../merkle/index.js";
import { resolveEntries, type ResolvedEntry } from "../query/resolved-entry.js";
import { withStoredTree } from "../tree/stored-tree.js";

export type EntrySelector = { readonly sequence: number } | { readonly eventId: string };

export interface EntryWithProof {
  readonly entry: ResolvedEntry;
  /** Inclusion proof of the entry in the checkpoint's tree. */
  readonly proof: Uint8Array[];
  readonly checkpoint: StoredCheckpoint;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An entry with its inclusion proof against a signed checkpoint: the one of
 * `treeSize` leaves, or the latest when `treeSize` is 0.
 *
 * Errors: INVALID_ARGUMENT (event id not a UUID, sequence not a safe
 * integer), ENTRY_NOT_FOUND, CHECKPOINT_NOT_FOUND (no checkpoint of that
 * size, or none yet), ENTRY_NOT_CHECKPOINTED (the checkpoint predates the
 * entry).
 */
export async function getEntry(
  db: CommonQueryMethods,
  selector: EntrySelector,
  treeSize: number,
): Promise<EntryWithProof> {
  let stored;
  if ("eventId" in selector) {
    if (!UUID.test(selector.eventId)) {
      throw new AuditError("INVALID_ARGUMENT", `event_id ${JSON.stringify(selector.eventId)} is not a UUID`);
    }
    stored = await leafByEventId(db, selector.eventId.toLowerCase());
  } else {
    if (!Number.isSafeInteger(selector.sequence) || selector.sequence < 0) {
      throw new AuditError("INVALID_ARGUMENT", `sequence ${selector.sequence} is out of range`);
    }
    stored = await leafBySequence(db, selector.sequence);
  }
  if (!stored) throw new AuditError("ENTRY_NOT_FOUND", "no such entry in the log");
  const checkpoint = treeSize === 0 ? await latestCheckpoint(db) : await checkpointAt(db, treeSize);
  if (!checkpoint) {
    throw new AuditError(
      "CHECKPOINT_NOT_FOUND",
      treeSize === 0 ? "the log has no checkpoint yet" : `no checkpoint of ${treeSize} entries`,
    );
  }
  if (stored.sequence >= checkpoint.size) {
    throw new AuditError(
      "ENTRY_NOT_CHECKPOINTED",
      `entry ${stored.sequence} is not in the checkpoint of ${checkpoint.size} entries yet`,
    );
  }
  const proof = await withStoredTree(db, checkpoint.size, (reader) =>
    inclusionProof(stored.sequence, checkpoint.size, reader),
  );
  const [entry] = await resolveEntries(db, [stored]);
  return { entry: entry!, proof, checkpoint };
}
