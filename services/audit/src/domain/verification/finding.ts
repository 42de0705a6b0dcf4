/**
 * What the verifier can find wrong with a bundle. Entry kinds name the entry
 * (its sequence number); checkpoint kinds name the tree size.
 *
 * - `MALFORMED_BUNDLE`: not a well-formed bundle file; nothing else is checked.
 * - `MALFORMED_ENTRY`: an entry record is not a LogEntry.
 * - `KEY_MISMATCH`: the bundle names another verifier key than the pinned one.
 * - `ORIGIN_MISMATCH`: the bundle is of another log.
 * - `BAD_SIGNATURE`: a checkpoint does not verify with the pinned key.
 * - `NO_CHECKPOINT`: no verified checkpoint covers the entries.
 * - `PAYLOAD_MODIFIED`: the entry's content differs from what the log committed to.
 * - `ENTRY_MISSING`: the log committed to entries that are not in the bundle.
 * - `ENTRIES_REORDERED`: the entry sits at another position than the one it was sequenced at.
 * - `FORGED_ENTRY`: an entry the log never committed to.
 * - `LOG_TRUNCATED`: the tail of the log is gone: entries, or whole checkpoints the auditor pinned.
 * - `ROOT_MISMATCH`: a checkpoint's root does not match the entries, and no entry finding explains it.
 * - `INCONSISTENT_CHECKPOINTS`: two checkpoints are not versions of one append-only log (a fork).
 * - `BAD_PROOF`: a proof in the bundle does not verify.
 * - `LEAF_HASH_MISMATCH`: the entry is authentic but the leaf hash stored beside it is not its hash.
 * - `PERSONAL_DATA_MISMATCH`: a disclosed personal value is not the one its salted hash commits to.
 * - `UNVERIFIED_ENTRIES`: entries beyond every checkpoint: nothing signed vouches for them.
 */
export type FindingKind =
  | "MALFORMED_BUNDLE"
  | "MALFORMED_ENTRY"
  | "KEY_MISMATCH"
  | "ORIGIN_MISMATCH"
  | "BAD_SIGNATURE"
  | "NO_CHECKPOINT"
  | "PAYLOAD_MODIFIED"
  | "ENTRY_MISSING"
  | "ENTRIES_REORDERED"
  | "FORGED_ENTRY"
  | "LOG_TRUNCATED"
  | "ROOT_MISMATCH"
  | "INCONSISTENT_CHECKPOINTS"
  | "BAD_PROOF"
  | "LEAF_HASH_MISMATCH"
  | "PERSONAL_DATA_MISMATCH"
  | "UNVERIFIED_ENTRIES";

export interface Finding {
  readonly kind: FindingKind;
  /** The entry concerned (its sequence number), or the first of a run. */
  readonly sequence?: number;
  /** The last entry of a run (ENTRY_MISSING over several entries). */
  readonly lastSequence?: number;
  /** Where the entry was found instead, as the sequence number of its position in the bundle. */
  readonly foundAt?: number;
  /** The checkpoint concerned, by tree size. */
  readonly size?: number;
  /** The other checkpoint of a pair. */
  readonly otherSize?: number;
  readonly detail: string;
}

/** One line per finding, for people. */
export function describeFinding(finding: Finding): string {
  const where: string[] = [];
  if (finding.sequence !== undefined) {
    where.push(
      finding.lastSequence !== undefined && finding.lastSequence !== finding.sequence
        ? `entries ${finding.sequence}-${finding.lastSequence}`
        : `entry ${finding.sequence}`,
    );
  }
  if (finding.foundAt !== undefined) where.push(`found at ${finding.foundAt}`);
  if (finding.size !== undefined) where.push(`checkpoint ${finding.size}`);
  if (finding.otherSize !== undefined) where.push(`and ${finding.otherSize}`);
  return `${finding.kind}${where.length > 0 ? ` (${where.join(", ")})` : ""}: ${finding.detail}`;
}
