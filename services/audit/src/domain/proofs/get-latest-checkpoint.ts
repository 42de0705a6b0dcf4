import type { CommonQueryMethods } from "@money/db";
import { latestCheckpoint, type StoredCheckpoint } from "../../db/checkpoints-table.js";
import { AuditError } from "../audit-error.js";

/** The latest signed checkpoint. Errors: CHECKPOINT_NOT_FOUND before the first one. */
export async function getLatestCheckpoint(db: CommonQueryMethods): Promise<StoredCheckpoint> {
  const checkpoint = await latestCheckpoint(db);
  if (!checkpoint) throw new AuditError("CHECKPOINT_NOT_FOUND", "the log has no checkpoint yet");
  return checkpoint;
}
