import { Buffer } from "node:buffer";
import {
  CheckpointError,
  parseCheckpoint,
  verifyCheckpoint,
  type NoteVerifier,
  type SignedCheckpoint,
} from "../checkpoint/index.js";
import type { Finding } from "./finding.js";

/** A root some signed checkpoint vouches for, and who brought it. */
export interface TrustedRoot {
  readonly size: number;
  readonly root: Uint8Array;
  /** "bundle" or the pinned file it came from. */
  readonly sources: string[];
}

/** A checkpoint that verified, with its note as given. */
export interface VerifiedNote extends SignedCheckpoint {
  readonly note: string;
}

/**
 * Verifies checkpoint notes with the pinned keys and the expected origin.
 *
 * @returns the verified checkpoints; a finding for each that does not verify.
 */
export function verifyNotes(
  notes: readonly string[],
  verifiers: readonly NoteVerifier[],
  origin: string,
  source: string,
  findings: Finding[],
): VerifiedNote[] {
  const verified: VerifiedNote[] = [];
  notes.forEach((note, i) => {
    let problem: CheckpointError | undefined;
    for (const verifier of verifiers) {
      try {
        verified.push({ ...verifyCheckpoint(note, verifier, { origin }), note });
        return;
      } catch (error) {
        if (!(error instanceof CheckpointError)) throw error;
        problem = error;
      }
    }
    let size: number | undefined;
    try {
      size = parseCheckpoint(note).size;
    } catch {
      size = undefined;
    }
    findings.push({
      kind: problem?.code === "ORIGIN_MISMATCH" ? "ORIGIN_MISMATCH" : "BAD_SIGNATURE",
      ...(size === undefined ? {} : { size }),
      detail: `${source} checkpoint #${i + 1} does not verify with the pinned key: ${problem?.message ?? "no key"}`,
    });
  });
  return verified;
}

/**
 * Merges verified checkpoints into one root per size. Two different roots
 * for one size mean the log showed two histories: a fork.
 */
export function addTrusted(
  trusted: Map<number, TrustedRoot>,
  checkpoints: readonly SignedCheckpoint[],
  source: string,
  findings: Finding[],
): void {
  for (const checkpoint of checkpoints) {
    const known = trusted.get(checkpoint.size);
    if (!known) {
      trusted.set(checkpoint.size, { size: checkpoint.size, root: checkpoint.rootHash, sources: [source] });
    } else if (Buffer.compare(known.root, checkpoint.rootHash) !== 0) {
      findings.push({
        kind: "INCONSISTENT_CHECKPOINTS",
        size: checkpoint.size,
        detail: `${source} and ${known.sources.join(", ")} hold signed checkpoints of ${checkpoint.size} entries with different roots: the log forked`,
      });
    } else if (!known.sources.includes(source)) {
      known.sources.push(source);
    }
  }
}
