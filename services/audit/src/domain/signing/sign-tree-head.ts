import { Buffer } from "node:buffer";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { inTransaction, sql, type DatabasePool, type DatabaseTransactionConnection } from "@money/db";
import type { OutboxWriter } from "@money/kafka";
import { CheckpointSignedSchema } from "@money/proto/audit/v1/events_pb";
import { insertCheckpoint, latestCheckpoint } from "../../db/checkpoints-table.js";
import { latestTreeHead } from "../../db/tree-table.js";
import {
  CheckpointError,
  formatCheckpointBody,
  signCheckpoint,
  verifyCheckpoint,
  type NoteSigner,
  type NoteVerifier,
} from "../checkpoint/index.js";
import { CompactMerkleTree, consistencyProof, MerkleError, verifyConsistency } from "../merkle/index.js";
import { withStoredTree } from "../tree/stored-tree.js";

/** Who signs, and where the signed checkpoints are announced. */
export interface TreeHeadSigner {
  readonly origin: string;
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
  readonly checkpointsTopic: string;
  readonly outbox: OutboxWriter;
}

export type SignOutcome =
  | { readonly signed: true; readonly size: number; readonly note: string }
  | { readonly signed: false; readonly why: "EMPTY_LOG" | "UNCHANGED" | "SIGNED_ELSEWHERE" };

/**
 * The log no longer extends what it signed before: its stored tree was
 * changed behind the sequencer's back. The signer refuses to put its name to
 * it, and the caller must raise the alarm.
 */
export class LogIntegrityError extends Error {
  override readonly name = "LogIntegrityError";
}

/**
 * Signs the latest tree head if the log grew since the last checkpoint,
 * stores the checkpoint and announces it on the checkpoints topic (through
 * the outbox, in the same transaction).
 *
 * Before signing, it checks that the new head extends the last signed one
 * (the root in the last note, which only the key could have written):
 * the root of the head's compact state must be its stored root, and a
 * consistency proof built from the stored subtrees must lead from the last
 * checkpoint to it. A log edited in the database, even with every hash
 * recomputed, fails this check, and the signer never signs a rewritten
 * history.
 *
 * `signedAt` is read by the caller, once.
 *
 * @throws LogIntegrityError when the head does not extend the last checkpoint.
 */
export async function signTreeHead(
  pool: DatabasePool,
  signer: TreeHeadSigner,
  signedAt: Date,
): Promise<SignOutcome> {
  return inTransaction(pool, (tx) => signTreeHeadWithin(tx, signer, signedAt), {
    isolation: "read committed",
    retries: 0,
  });
}

/** `signTreeHead` inside the caller's transaction. */
export async function signTreeHeadWithin(
  tx: DatabaseTransactionConnection,
  signer: TreeHeadSigner,
  signedAt: Date,
): Promise<SignOutcome> {
  // One signer at a time across replicas; the others find nothing to do.
  const leader = await tx.oneFirst(
    sql.unsafe`SELECT pg_try_advisory_xact_lock(hashtext('audit:checkpoint-signer'))`,
  );
  if (!leader) return { signed: false, why: "SIGNED_ELSEWHERE" };
  const head = await latestTreeHead(tx);
  if (!head) return { signed: false, why: "EMPTY_LOG" };
  const last = await latestCheckpoint(tx);
  if (last && last.size === head.size) return { signed: false, why: "UNCHANGED" };

  const compactRoot = CompactMerkleTree.fromState({ size: head.size, hashes: head.compact }).root();
  if (Buffer.compare(compactRoot, head.root) !== 0) {
    throw new LogIntegrityError(`tree head ${head.size}: stored root differs from its compact state`);
  }
  if (last) {
    // The root to extend is the one the last note signed, not a column anyone could edit.
    let signedRoot: Uint8Array;
    try {
      const checkpoint = verifyCheckpoint(last.note, signer.verifier, { origin: signer.origin });
      if (checkpoint.size !== last.size)
        throw new LogIntegrityError(`checkpoint row ${last.size} holds another size`);
      signedRoot = checkpoint.rootHash;
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      throw new LogIntegrityError(`checkpoint ${last.size} does not verify: ${error.message}`);
    }
    if (last.size > head.size) {
      throw new LogIntegrityError(`tree head ${head.size} is behind checkpoint ${last.size}`);
    }
    const proof = await withStoredTree(tx, head.size, (reader) =>
      consistencyProof(last.size, head.size, reader),
    );
    try {
      verifyConsistency(last.size, head.size, proof, signedRoot, head.root);
    } catch (error) {
      if (!(error instanceof MerkleError)) throw error;
      throw new LogIntegrityError(
        `tree head ${head.size} does not extend checkpoint ${last.size}: ${error.message}`,
      );
    }
  }

  const note = signCheckpoint(
    formatCheckpointBody({ origin: signer.origin, size: head.size, rootHash: head.root }),
    signer.signer,
  );
  if (!(await insertCheckpoint(tx, { size: head.size, root: head.root, note, signedAt }))) {
    return { signed: false, why: "SIGNED_ELSEWHERE" };
  }
  await signer.outbox.write(tx, {
    topic: signer.checkpointsTopic,
    schema: CheckpointSignedSchema,
    payload: create(CheckpointSignedSchema, {
      note,
      origin: signer.origin,
      size: BigInt(head.size),
      rootHash: head.root,
      signedAt: timestampFromDate(signedAt),
    }),
    aggregateType: "audit_log",
    aggregateId: signer.origin,
    occurredAt: signedAt,
  });
  return { signed: true, size: head.size, note };
}
