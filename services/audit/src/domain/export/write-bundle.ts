import { create, toBinary } from "@bufbuild/protobuf";
import type { CommonQueryMethods } from "@money/db";
import {
  BundleConsistencyProofSchema,
  BundleDisclosureSchema,
  BundleHeaderSchema,
  BundleInclusionProofSchema,
} from "@money/proto/audit/v1/bundle_pb";
import { checkpointsBetween, latestCheckpoint, type StoredCheckpoint } from "../../db/checkpoints-table.js";
import { leavesBetween } from "../../db/entries-table.js";
import { personalRecords } from "../../db/personal-data-table.js";
import { firstSequenceRecordedFrom } from "../../db/tree-table.js";
import { AuditError } from "../audit-error.js";
import {
  BUNDLE_MAGIC,
  endRecordBody,
  entryRecordBody,
  frameRecord,
  RecordKind,
} from "../bundle/bundle-format.js";
import { decodeLogEntry } from "../log/log-entry-codec.js";
import { consistencyProof, inclusionProof, type SubtreeHashReader } from "../merkle/index.js";
import { refOfPseudonym } from "../personal-data/personal-value.js";
import { withStoredTree } from "../tree/stored-tree.js";

/** What to export. */
export interface BundleRequest {
  readonly range:
    | { readonly kind: "sequences"; readonly first: number; readonly end: number }
    | { readonly kind: "recorded"; readonly from: Date | undefined; readonly to: Date | undefined };
  /** Sizes of checkpoints the auditor pinned: a consistency proof from each to the latest. */
  readonly consistencyFromSizes: readonly number[];
  readonly includeInclusionProofs: boolean;
  readonly includePersonalData: boolean;
  /** Most in-range checkpoints to include (evenly thinned); the latest is always in. */
  readonly maxCheckpoints?: number;
}

/** The log's identity, as written in the header. */
export interface LogIdentity {
  readonly origin: string;
  readonly verifierKey: string;
}

const PAGE_ROWS = 2_000;
const PROOF_BATCH = 512;
const DEFAULT_MAX_CHECKPOINTS = 1_000;

/**
 * Writes a bundle (proto/audit/v1/bundle.proto) of a range of the log to
 * `emit`, record by record. The range ends at the latest checkpoint, the
 * bundle's anchor; when it ends earlier, a consistency proof ties the
 * range's end to the anchor, and when it starts later than 0, the header's
 * left edge sums up what comes before.
 *
 * The header states how many entries the tree holds in the range; entries
 * are then read row by row, whatever the table holds, so that a verifier
 * sees the table as it is. Run it in one snapshot (REPEATABLE READ).
 *
 * Errors: INVALID_ARGUMENT (a range or pinned size out of bounds),
 * NOTHING_CHECKPOINTED, RANGE_EMPTY.
 */
export async function writeBundle(
  db: CommonQueryMethods,
  log: LogIdentity,
  request: BundleRequest,
  emit: (bytes: Uint8Array) => Promise<void>,
): Promise<void> {
  const anchor = await latestCheckpoint(db);
  if (!anchor) throw new AuditError("NOTHING_CHECKPOINTED", "the log has no checkpoint to export against");
  const { first, end } = await rangeOf(db, request.range, anchor.size);
  for (const size of request.consistencyFromSizes) {
    if (!Number.isSafeInteger(size) || size < 1 || size > anchor.size) {
      throw new AuditError(
        "INVALID_ARGUMENT",
        `consistency_from_sizes: ${size} is not in [1, ${anchor.size}]`,
      );
    }
  }

  let records = 0;
  const write = async (kind: RecordKind, body: Uint8Array) => {
    records++;
    await emit(frameRecord(kind, body));
  };
  await emit(BUNDLE_MAGIC);

  const leftEdge =
    first === 0 ? [] : await withStoredTree(db, first, (reader) => compactState(reader, first));
  await write(
    RecordKind.header,
    toBinary(
      BundleHeaderSchema,
      create(BundleHeaderSchema, {
        origin: log.origin,
        verifierKey: log.verifierKey,
        firstSequence: BigInt(first),
        entryCount: BigInt(end - first),
        leftEdge,
      }),
    ),
  );

  const refs = new Map<string, Uint8Array>();
  for (let cursor = first; cursor < end;) {
    const page = await leavesBetween(db, cursor, end, PAGE_ROWS);
    if (page.length === 0) break;
    for (const row of page) {
      await write(RecordKind.entry, entryRecordBody(row.leafHash, row.leaf));
      if (request.includePersonalData) collectRefs(row.leaf, refs);
    }
    cursor = page[page.length - 1]!.sequence + 1;
  }

  const inRange = thin(
    await checkpointsBetween(db, first, end),
    request.maxCheckpoints ?? DEFAULT_MAX_CHECKPOINTS,
  );
  const checkpoints = inRange.some((c) => c.size === anchor.size) ? inRange : [...inRange, anchor];
  for (const checkpoint of checkpoints)
    await write(RecordKind.checkpoint, new TextEncoder().encode(checkpoint.note));

  const proofFrom = new Set<number>(request.consistencyFromSizes);
  if (end < anchor.size && end > 0) proofFrom.add(end);
  proofFrom.delete(anchor.size);
  for (const size1 of [...proofFrom].sort((x, y) => x - y)) {
    const hashes = await withStoredTree(db, anchor.size, (reader) =>
      consistencyProof(size1, anchor.size, reader),
    );
    await write(
      RecordKind.consistency,
      toBinary(
        BundleConsistencyProofSchema,
        create(BundleConsistencyProofSchema, { size1: BigInt(size1), size2: BigInt(anchor.size), hashes }),
      ),
    );
  }

  if (request.includeInclusionProofs) {
    for (let from = first; from < end; from += PROOF_BATCH) {
      const to = Math.min(end, from + PROOF_BATCH);
      const proofs = await withStoredTree(db, anchor.size, (reader) => {
        const batch: Uint8Array[][] = [];
        for (let index = from; index < to; index++) batch.push(inclusionProof(index, anchor.size, reader));
        return batch;
      });
      for (const [i, hashes] of proofs.entries()) {
        await write(
          RecordKind.inclusion,
          toBinary(
            BundleInclusionProofSchema,
            create(BundleInclusionProofSchema, {
              leafIndex: BigInt(from + i),
              treeSize: BigInt(anchor.size),
              hashes,
            }),
          ),
        );
      }
    }
  }

  if (request.includePersonalData) {
    for (const record of await personalRecords(db, [...refs.values()])) {
      await write(
        RecordKind.disclosure,
        toBinary(
          BundleDisclosureSchema,
          create(BundleDisclosureSchema, {
            ref: record.ref,
            kind: record.kind,
            salt: record.salt,
            value: record.value,
          }),
        ),
      );
    }
  }
  await emit(frameRecord(RecordKind.end, endRecordBody(records)));
}

async function rangeOf(
  db: CommonQueryMethods,
  range: BundleRequest["range"],
  anchorSize: number,
): Promise<{ first: number; end: number }> {
  let first: number;
  let end: number;
  if (range.kind === "sequences") {
    if (
      !Number.isSafeInteger(range.first) ||
      range.first < 0 ||
      !Number.isSafeInteger(range.end) ||
      range.end < 0
    ) {
      throw new AuditError("INVALID_ARGUMENT", "the sequence range is out of bounds");
    }
    if (range.end !== 0 && range.end < range.first) {
      throw new AuditError(
        "INVALID_ARGUMENT",
        `sequence range end ${range.end} is before its first ${range.first}`,
      );
    }
    first = range.first;
    end = range.end === 0 ? anchorSize : Math.min(range.end, anchorSize);
  } else {
    if (range.from && range.to && range.from > range.to) {
      throw new AuditError("INVALID_ARGUMENT", "the time range ends before it starts");
    }
    first = range.from ? ((await firstSequenceRecordedFrom(db, range.from)) ?? anchorSize) : 0;
    end = range.to
      ? Math.min(anchorSize, (await firstSequenceRecordedFrom(db, range.to)) ?? anchorSize)
      : anchorSize;
  }
  if (first >= end) {
    throw new AuditError(
      "RANGE_EMPTY",
      `no checkpointed entries in [${first}, ${end}) (latest checkpoint: ${anchorSize})`,
    );
  }
  return { first, end };
}

/** The compact tree of the first `size` leaves: one perfect subtree per set bit, largest first. */
function compactState(reader: SubtreeHashReader, size: number): Uint8Array[] {
  const hashes: Uint8Array[] = [];
  let offset = 0;
  for (let level = Math.floor(Math.log2(size)); level >= 0; level--) {
    const width = 2 ** level;
    if (Math.floor(size / width) % 2 === 1) {
      hashes.push(new Uint8Array(reader.perfectSubtreeHash(level, offset / width)));
      offset += width;
    }
  }
  return hashes;
}

/** At most `max` checkpoints, evenly spread, the first and last kept. */
function thin(checkpoints: StoredCheckpoint[], max: number): StoredCheckpoint[] {
  if (checkpoints.length <= max) return checkpoints;
  const step = (checkpoints.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => checkpoints[Math.round(i * step)]!);
}

/** The personal-data refs a leaf points to. */
function collectRefs(leaf: Uint8Array, refs: Map<string, Uint8Array>): void {
  const entry = decodeLogEntry(leaf);
  const add = (ref: Uint8Array | undefined) => {
    if (ref && ref.length > 0) refs.set(Buffer.from(ref).toString("hex"), ref);
  };
  add(entry.actor?.ipRef);
  add(entry.actor?.userAgentRef);
  add(refOfPseudonym(entry.actor?.principalId ?? ""));
  for (const json of [entry.beforeJson, entry.afterJson]) {
    for (const match of json.matchAll(/"pd:([0-9a-f]{64})"/g)) add(Buffer.from(match[1]!, "hex"));
  }
}
