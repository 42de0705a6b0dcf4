import { Buffer } from "node:buffer";
import { BundleFormatError } from "../bundle/bundle-error.js";
import { readBundle, type ParsedBundle } from "../bundle/read-bundle.js";
import {
  CheckpointError,
  encodeVerifierKey,
  parseVerifierKey,
  type NoteVerifier,
} from "../checkpoint/index.js";
import { scanLeaf } from "../log/log-entry-codec.js";
import {
  HASH_SIZE_BYTES,
  leafHash,
  MerkleError,
  verifyConsistency,
  verifyInclusion,
} from "../merkle/index.js";
import { personalRef, PERSONAL_KINDS, type PersonalKind } from "../personal-data/personal-value.js";
import { analyseLayout, type Layout } from "./entry-layout.js";
import type { Finding } from "./finding.js";
import { rootsAlong } from "./roots-along.js";
import { addTrusted, verifyNotes, type TrustedRoot } from "./trusted-checkpoints.js";

/** What the auditor kept from earlier verifications. */
export interface PinnedState {
  /** Where it came from (a file name), for the findings. */
  readonly source: string;
  /** Checkpoint notes accepted before. */
  readonly checkpoints: readonly string[];
  /**
   * Leaf hashes verified before, of sequences [first, first + n), packed 32
   * bytes each: the auditor's memory of the entries themselves. Roots alone
   * prove that a log changed; these say which entry did.
   */
  readonly leafHashes?: { readonly first: number; readonly packed: Uint8Array };
}

export interface VerifyOptions {
  /**
   * Verifier keys pinned out of band ("<name>+<hash>+<base64>"). Empty: the
   * key named in the bundle is used, which proves only that the bundle is
   * self-consistent; the report says so.
   */
  readonly verifierKeys: readonly string[];
  /** The log's origin; default the bundle's. */
  readonly origin?: string;
  readonly pinned?: readonly PinnedState[];
}

export interface VerificationSummary {
  readonly origin: string;
  readonly firstSequence: number;
  readonly entries: number;
  readonly checkpoints: number;
  /** Size and root (hex) of the largest verified checkpoint, if any. */
  readonly latestSize: number;
  readonly latestRoot: string;
  readonly pinnedCheckpointsChecked: number;
  /** Pinned checkpoints the bundle gives no way to check (outside its range, no proof). */
  readonly pinnedCheckpointsUnchecked: number[];
  /** Consistency proofs from sizes neither pinned nor covered by the entries: left unchecked. */
  readonly consistencyProofsUnchecked: number[];
  readonly consistencyProofsChecked: number;
  readonly inclusionProofsChecked: number;
  readonly disclosuresChecked: number;
  readonly keyPinned: boolean;
}

export interface VerificationReport {
  readonly ok: boolean;
  readonly findings: Finding[];
  readonly summary: VerificationSummary;
  /** What to pin after a clean run: the verified checkpoints and leaf hashes. */
  readonly verified: PinnedState;
}

/**
 * Verifies an audit bundle offline: every checkpoint signature against the
 * pinned keys; the root recomputed from all entries (after the bundle's left
 * edge) against every checkpoint, pinned ones included; every consistency
 * and inclusion proof it carries; every personal-data disclosure. Nothing
 * in the bundle is trusted but what a pinned key signed.
 *
 * When something is wrong it says what and where: the entries are laid out
 * by the sequence number inside each leaf (moves, deletions, insertions,
 * truncation), and each entry's hash is compared with the best authentic
 * hash available for its sequence number: the auditor's pinned leaf hashes,
 * else the leaf hashes stored beside the entries when their tree reproduces
 * a signed root.
 *
 * Pure: no I/O, no clock. Never throws on bad input; every problem is a finding.
 */
export function verifyBundle(bytes: Uint8Array, options: VerifyOptions): VerificationReport {
  const findings: Finding[] = [];
  let bundle: ParsedBundle;
  try {
    bundle = readBundle(bytes);
  } catch (error) {
    if (!(error instanceof BundleFormatError)) throw error;
    return failedEarly(findings, { kind: "MALFORMED_BUNDLE", detail: error.message });
  }
  const { header } = bundle;
  const first = safe(header.firstSequence);
  const intended = safe(header.entryCount);
  if (first === undefined || intended === undefined) {
    return failedEarly(findings, { kind: "MALFORMED_BUNDLE", detail: "header sequence numbers beyond 2^53" });
  }
  const origin = options.origin ?? header.origin;
  if (header.origin !== origin) {
    findings.push({
      kind: "ORIGIN_MISMATCH",
      detail: `the bundle is of ${JSON.stringify(header.origin)}, not ${JSON.stringify(origin)}`,
    });
  }

  // Keys: the pinned ones; the bundle's own only when none is pinned.
  const verifiers: NoteVerifier[] = [];
  const pinnedTexts = new Set<string>();
  for (const text of options.verifierKeys) {
    const verifier = parseVerifierKey(text);
    verifiers.push(verifier);
    pinnedTexts.add(encodeVerifierKey(verifier));
  }
  let bundleKey: string | undefined;
  try {
    bundleKey = encodeVerifierKey(parseVerifierKey(header.verifierKey));
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
  }
  const keyPinned = verifiers.length > 0;
  if (!keyPinned && bundleKey !== undefined) verifiers.push(parseVerifierKey(bundleKey));
  if (bundleKey === undefined || (keyPinned && !pinnedTexts.has(bundleKey))) {
    findings.push({
      kind: "KEY_MISMATCH",
      detail: `the bundle names verifier key ${JSON.stringify(header.verifierKey)}, not a pinned one`,
    });
  }

  // Checkpoints: the bundle's and the pinned ones, one root per size.
  const trusted = new Map<number, TrustedRoot>();
  const bundleCheckpoints = verifyNotes(bundle.checkpoints, verifiers, origin, "bundle", findings);
  addTrusted(trusted, bundleCheckpoints, "bundle", findings);
  const pinnedSizes = new Set<number>();
  for (const pin of options.pinned ?? []) {
    const checkpoints = verifyNotes(pin.checkpoints, verifiers, origin, `pinned ${pin.source}`, findings);
    addTrusted(trusted, checkpoints, `pinned ${pin.source}`, findings);
    for (const c of checkpoints) pinnedSizes.add(c.size);
  }
  const anchor = Math.max(-1, ...bundleCheckpoints.map((c) => c.size));
  if (bundleCheckpoints.length === 0) {
    findings.push({
      kind: "NO_CHECKPOINT",
      detail: "no checkpoint in the bundle verifies: nothing vouches for it",
    });
  }

  // Entries: keys, recomputed leaf hashes, and the hashes the log stored.
  const count = bundle.entryCount;
  const computed = new Uint8Array(count * HASH_SIZE_BYTES);
  const stored = new Uint8Array(count * HASH_SIZE_BYTES);
  for (let i = 0; i < count; i++) {
    computed.set(leafHash(bundle.leaf(i)), i * HASH_SIZE_BYTES);
    stored.set(bundle.storedLeafHash(i), i * HASH_SIZE_BYTES);
  }
  const computedAt = (p: number) => computed.subarray(p * HASH_SIZE_BYTES, (p + 1) * HASH_SIZE_BYTES);
  const storedAt = (p: number) => stored.subarray(p * HASH_SIZE_BYTES, (p + 1) * HASH_SIZE_BYTES);
  const pinnedHash = pinnedLeafHashes(options.pinned ?? []);

  const leftEdge = header.leftEdge;
  if (leftEdge.length !== popCount(first) || leftEdge.some((h) => h.length !== HASH_SIZE_BYTES)) {
    return failedEarly(findings, {
      kind: "MALFORMED_BUNDLE",
      detail: `the left edge of a bundle starting at ${first} must hold ${popCount(first)} hashes`,
    });
  }

  // The log as the bundle lays it out: position i is sequence first + i.
  const end = first + count;
  const sizesOfInterest = [...trusted.keys(), end, ...bundle.consistencyProofs.map((p) => Number(p.size1))];
  const positional = rootsAlong(first, leftEdge, count, computedAt, sizesOfInterest);
  let authenticBelow = first;
  const mismatched: TrustedRoot[] = [];
  for (const root of [...trusted.values()].sort((x, y) => x.size - y.size)) {
    const mine = positional.get(root.size);
    if (mine === undefined) continue;
    if (equal(mine, root.root)) authenticBelow = Math.max(authenticBelow, root.size);
    else mismatched.push(root);
  }

  // Consistency proofs: older checkpoints (pinned or signed) and the entries' own root, to later ones.
  let consistencyProofsChecked = 0;
  const uncheckedProofs: number[] = [];
  const pinsProven = new Set<number>();
  for (const proof of bundle.consistencyProofs) {
    const size1 = safe(proof.size1);
    const size2 = safe(proof.size2);
    const later = size2 === undefined ? undefined : trusted.get(size2);
    if (size1 === undefined || size2 === undefined || !later) {
      findings.push({
        kind: "BAD_PROOF",
        detail: `consistency proof ${proof.size1} → ${proof.size2} leads to no verified checkpoint`,
      });
      continue;
    }
    consistencyProofsChecked++;
    const earlier = trusted.get(size1);
    if (earlier && !consistent(size1, size2, proof.hashes, earlier.root, later.root)) {
      findings.push({
        kind: "INCONSISTENT_CHECKPOINTS",
        size: size1,
        otherSize: size2,
        detail: `checkpoint ${size2} does not extend checkpoint ${size1} (${earlier.sources.join(", ")})`,
      });
    } else if (earlier && pinnedSizes.has(size1)) {
      pinsProven.add(size1);
    }
    const mine = positional.get(size1);
    if (mine !== undefined && !(earlier && equal(mine, earlier.root))) {
      if (consistent(size1, size2, proof.hashes, mine, later.root)) {
        authenticBelow = Math.max(authenticBelow, size1);
      } else if (!earlier) {
        mismatched.push({ size: size2, root: later.root, sources: later.sources });
      }
    } else if (!earlier && mine === undefined) {
      // A proof from a size the auditor did not pin here: nothing to check it against.
      consistencyProofsChecked--;
      uncheckedProofs.push(size1);
    }
  }

  // Where each entry sits, by the sequence number inside its leaf. Only
  // needed when something is off: entries that reproduce every signed root
  // up to their end are in place by construction.
  const suspicious = count !== intended || mismatched.length > 0 || (count > 0 && authenticBelow < end);
  const layout = suspicious
    ? analyseLayout({
        first,
        intended,
        keys: Array.from({ length: count }, (_, i) => scanLeaf(bundle.leaf(i))),
        original: (sequence, positions) => {
          // The pinned leaf hash decides; failing that, the last claimant: an
          // inserted row pushes the one it displaces to a later position.
          const known = pinnedHash(sequence);
          const match = known && positions.find((p) => equal(computedAt(p), known));
          return match ?? positions[positions.length - 1]!;
        },
      })
    : inPlaceLayout(intended);
  findings.push(...layout.findings);

  // Content: each entry's hash against the most authentic hash known for its sequence number.
  const intendedEnd = first + intended;
  const anomalies = layout.findings.length > 0 || mismatched.length > 0;
  // When the entries contradict what the auditor pinned, only the pins are
  // authorities: a checkpoint in the bundle that matches the entries while a
  // pinned one does not is the log signing a second history (a fork).
  const isPinned = (root: TrustedRoot) => root.sources.some((source) => source !== "bundle");
  const forkedFrom = mismatched.filter(isPinned).sort((x, y) => x.size - y.size)[0];
  const authorities = forkedFrom ? new Map([...trusted].filter(([, root]) => isPinned(root))) : trusted;
  if (forkedFrom) {
    const rewrite = [...trusted.values()]
      .filter(
        (root) =>
          root.size > forkedFrom.size && equal(positional.get(root.size) ?? new Uint8Array(), root.root),
      )
      .sort((x, y) => y.size - x.size)[0];
    if (rewrite) {
      findings.push({
        kind: "INCONSISTENT_CHECKPOINTS",
        size: forkedFrom.size,
        otherSize: rewrite.size,
        detail: `the log signed a checkpoint of ${rewrite.size} entries that does not extend the checkpoint of ${forkedFrom.size} the auditor pinned: its history was rewritten`,
      });
    }
  }
  const contentBelow = anomalies
    ? rootsMatchBelow(first, leftEdge, intended, layout.positionOf, computedAt, authorities)
    : authenticBelow;
  const storedBelow = anomalies
    ? rootsMatchBelow(first, leftEdge, intended, layout.positionOf, storedAt, authorities)
    : first;
  const entryFindingAt = new Set(layout.findings.map((f) => f.sequence).filter((s) => s !== undefined));
  for (let slot = 0; slot < intended; slot++) {
    const position = layout.positionOf[slot]!;
    if (position === -1) continue;
    const sequence = first + slot;
    const mine = computedAt(position);
    const kept = storedAt(position);
    if (sequence < contentBelow) {
      if (!equal(mine, kept)) {
        findings.push({
          kind: "LEAF_HASH_MISMATCH",
          sequence,
          detail: "the entry is authentic but the leaf hash stored beside it is not its hash",
        });
      }
      continue;
    }
    const remembered = pinnedHash(sequence);
    let why: string | undefined;
    if (remembered) {
      if (!equal(mine, remembered))
        why = "differs from the entry the auditor verified before (pinned leaf hash)";
    } else if (sequence < storedBelow) {
      if (!equal(mine, kept)) why = "does not hash to the leaf hash the signed tree committed to";
    } else if (!equal(mine, kept)) {
      why = "does not hash to the leaf hash the log stored for it";
    }
    if (why) {
      findings.push({ kind: "PAYLOAD_MODIFIED", sequence, detail: `the entry's content ${why}` });
      entryFindingAt.add(sequence);
    }
  }

  // Checkpoint mismatches that no entry finding explains.
  const explainedBelow = (size: number) => [...entryFindingAt].some((s) => s !== undefined && s < size);
  for (const root of mismatched) {
    if (explainedBelow(root.size) || layout.findings.some((f) => f.kind === "LOG_TRUNCATED")) continue;
    const below = [...trusted.keys()].filter(
      (s) => s < root.size && positional.has(s) && !mismatched.some((m) => m.size === s),
    );
    const from = Math.max(first, ...below);
    findings.push({
      kind: "ROOT_MISMATCH",
      size: root.size,
      sequence: from,
      lastSequence: root.size - 1,
      detail: `the entries do not lead to the root of checkpoint ${root.size} (${root.sources.join(", ")}); the change lies in entries ${from} to ${root.size - 1}`,
    });
  }

  // Pins beyond the log, pins the bundle cannot reach, entries nothing signed.
  const unchecked: number[] = [];
  let pinnedChecked = 0;
  const lost = [...pinnedSizes].filter((size) => size > anchor && size > end);
  if (lost.length > 0) {
    const shown = Math.max(anchor, end);
    findings.push({
      kind: "LOG_TRUNCATED",
      sequence: shown,
      size: Math.max(...lost),
      detail: `the auditor pinned a checkpoint of ${Math.max(...lost)} entries; the log now shows only ${shown}`,
    });
  }
  for (const size of [...pinnedSizes].sort((x, y) => x - y)) {
    if (lost.includes(size)) continue;
    if (positional.has(size) || pinsProven.has(size) || size === anchor) pinnedChecked++;
    else unchecked.push(size);
  }
  if (count > 0 && authenticBelow < end && !anomalies && bundleCheckpoints.length > 0) {
    findings.push({
      kind: "UNVERIFIED_ENTRIES",
      sequence: authenticBelow,
      lastSequence: end - 1,
      detail: `no signed checkpoint vouches for entries ${authenticBelow} to ${end - 1}`,
    });
  }
  if (intendedEnd > anchor && anchor >= 0 && intended > 0) {
    findings.push({
      kind: "UNVERIFIED_ENTRIES",
      sequence: anchor,
      lastSequence: intendedEnd - 1,
      detail: `the bundle's range ends at ${intendedEnd}, beyond its latest checkpoint ${anchor}`,
    });
  }

  // Inclusion proofs, against signed roots.
  let inclusionProofsChecked = 0;
  for (const proof of bundle.inclusionProofs) {
    const index = safe(proof.leafIndex);
    const size = safe(proof.treeSize);
    const root = size === undefined ? undefined : trusted.get(size);
    if (index === undefined || size === undefined || !root || index < first || index >= end) {
      findings.push({
        kind: "BAD_PROOF",
        detail: `inclusion proof of entry ${proof.leafIndex} in ${proof.treeSize} has no entry or no signed root`,
      });
      continue;
    }
    inclusionProofsChecked++;
    try {
      verifyInclusion(index, size, computedAt(index - first), proof.hashes, root.root);
    } catch (error) {
      if (!(error instanceof MerkleError)) throw error;
      if (!entryFindingAt.has(index)) {
        findings.push({
          kind: "BAD_PROOF",
          sequence: index,
          size,
          detail: `the inclusion proof of entry ${index} in checkpoint ${size} fails: ${error.message}`,
        });
      }
    }
  }

  // Disclosed personal data must be what the salted hashes commit to.
  for (const disclosure of bundle.disclosures) {
    const kind = disclosure.kind as PersonalKind;
    const ok =
      PERSONAL_KINDS.includes(kind) &&
      disclosure.ref.length === HASH_SIZE_BYTES &&
      equal(personalRef(disclosure.salt, kind, disclosure.value), disclosure.ref);
    if (!ok) {
      findings.push({
        kind: "PERSONAL_DATA_MISMATCH",
        detail: `disclosed ${disclosure.kind} for ref ${Buffer.from(disclosure.ref).toString("hex")} does not match its salted hash`,
      });
    }
  }

  const latest = trusted.get(anchor);
  return {
    ok: findings.length === 0,
    findings,
    summary: {
      origin: header.origin,
      firstSequence: first,
      entries: count,
      checkpoints: bundleCheckpoints.length,
      latestSize: Math.max(anchor, 0),
      latestRoot: latest ? Buffer.from(latest.root).toString("hex") : "",
      pinnedCheckpointsChecked: pinnedChecked,
      pinnedCheckpointsUnchecked: unchecked,
      consistencyProofsUnchecked: uncheckedProofs,
      consistencyProofsChecked,
      inclusionProofsChecked,
      disclosuresChecked: bundle.disclosures.length,
      keyPinned,
    },
    verified: {
      source: "bundle",
      checkpoints: bundleCheckpoints.map((c) => c.note),
      leafHashes: { first, packed: computed },
    },
  };
}

/**
 * The largest signed size below which the entries, laid out by the
 * sequence number in each leaf and hashed with `hashAt`, reproduce the
 * signed roots; `first` when none does.
 */
function rootsMatchBelow(
  first: number,
  leftEdge: readonly Uint8Array[],
  intended: number,
  positionOf: Int32Array,
  hashAt: (position: number) => Uint8Array,
  trusted: ReadonlyMap<number, TrustedRoot>,
): number {
  const roots = rootsAlong(
    first,
    leftEdge,
    intended,
    (slot) => (positionOf[slot] === -1 ? undefined : hashAt(positionOf[slot]!)),
    trusted.keys(),
  );
  let below = first;
  for (const [size, root] of roots) if (equal(root, trusted.get(size)!.root)) below = Math.max(below, size);
  return below;
}

/** The pinned leaf hash of a sequence number, from whichever pin covers it. */
function pinnedLeafHashes(pins: readonly PinnedState[]): (sequence: number) => Uint8Array | undefined {
  const withHashes = pins.filter((p) => p.leafHashes !== undefined).map((p) => p.leafHashes!);
  return (sequence) => {
    for (const { first, packed } of withHashes) {
      const offset = (sequence - first) * HASH_SIZE_BYTES;
      if (offset >= 0 && offset + HASH_SIZE_BYTES <= packed.length) {
        return packed.subarray(offset, offset + HASH_SIZE_BYTES);
      }
    }
    return undefined;
  };
}

function consistent(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  try {
    verifyConsistency(size1, size2, proof, root1, root2);
    return true;
  } catch (error) {
    if (error instanceof MerkleError) return false;
    throw error;
  }
}

function failedEarly(findings: Finding[], finding: Finding): VerificationReport {
  findings.push(finding);
  return {
    ok: false,
    findings,
    summary: {
      origin: "",
      firstSequence: 0,
      entries: 0,
      checkpoints: 0,
      latestSize: 0,
      latestRoot: "",
      pinnedCheckpointsChecked: 0,
      pinnedCheckpointsUnchecked: [],
      consistencyProofsUnchecked: [],
      consistencyProofsChecked: 0,
      inclusionProofsChecked: 0,
      disclosuresChecked: 0,
      keyPinned: false,
    },
    verified: { source: "bundle", checkpoints: [] },
  };
}

/** The layout of a bundle whose entries all sit at their own positions. */
function inPlaceLayout(intended: number): Layout {
  const positionOf = new Int32Array(intended);
  for (let i = 0; i < intended; i++) positionOf[i] = i;
  return { positionOf, extras: new Set(), inPlace: true, findings: [] };
}

function safe(value: bigint): number | undefined {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function popCount(x: number): number {
  let count = 0;
  for (let v = x; v > 0; v = Math.floor(v / 2)) count += v % 2;
  return count;
}
