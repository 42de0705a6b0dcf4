// The tamper drill: a log built through the real pipeline (events on Kafka → ingested → sequenced →
// checkpoints signed), an auditor who verified it once and kept what they verified, then a superuser
// who edits the database behind the service's back. Each edit runs in a transaction that exports a
// bundle from the edited tables and rolls back, so every case starts from the same clean log; the last
// cases commit their edit and go through the running service and the CLI.

import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { sql, type DatabaseTransactionConnection } from "@money/db";
import { LogEntrySchema } from "@money/proto/audit/v1/log_entry_pb";
import { writeBundle } from "../src/domain/export/write-bundle.js";
import { decodeLogEntry, encodeLogEntry } from "../src/domain/log/log-entry-codec.js";
import { CompactMerkleTree, leafHash } from "../src/domain/merkle/index.js";
import { signTreeHeadWithin } from "../src/domain/signing/sign-tree-head.js";
import type { Finding, FindingKind } from "../src/domain/verification/finding.js";
import { verifyBundle, type PinnedState } from "../src/domain/verification/verify-bundle.js";
import { auditEvent } from "./support/audit-events.js";
import { startAudit, type AuditHarness } from "./support/audit-harness.js";
import { exportBundle, runVerifier, saveFile } from "./support/bundles.js";
import { waitUntil } from "@money/testkit";

let audit: AuditHarness;
/** What the auditor kept from the first, clean verification: checkpoints and leaf hashes. */
let memory: PinnedState;
/** The same auditor keeping only the checkpoints. */
let checkpointsOnly: PinnedState;
let cleanBundlePath: string;
let pinnedSize: number;

const TARGET = 17;

beforeAll(async () => {
  audit = await startAudit();
  for (const wave of [10, 15, 20]) {
    const size = (await audit.entryCount()) + wave;
    await audit.publish(
      Array.from({ length: wave }, (_, i) =>
        auditEvent({
          action: "transaction.posted",
          after: { amount_minor: String(1000 + i), status: "posted" },
        }),
      ),
    );
    await audit.waitForCheckpoint(size);
  }
  const clean = await exportBundle(audit.client());
  cleanBundlePath = saveFile(clean, "clean");
  const report = verifyBundle(clean, { verifierKeys: [audit.verifierKey] });
  expect(report.findings).toEqual([]);
  memory = { ...report.verified, source: "first audit" };
  checkpointsOnly = { source: "first audit", checkpoints: report.verified.checkpoints };
  pinnedSize = report.summary.latestSize;
  expect(pinnedSize).toBeGreaterThanOrEqual(45);
}, 120_000);

afterAll(async () => {
  await audit?.stop();
});

class Rollback extends Error {}

/** Edits the tables as a superuser with the triggers off, exports what they then hold, rolls back. */
async function exportAfter(edit: (tx: DatabaseTransactionConnection) => Promise<void>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  await audit.admin
    .transaction(async (tx) => {
      await tx.query(sql.unsafe`SET LOCAL search_path = audit`);
      // Superuser only: ordinary triggers do not fire for a replica session.
      await tx.query(sql.unsafe`SET LOCAL session_replication_role = replica`);
      await edit(tx);
      await writeBundle(
        tx,
        { origin: audit.origin, verifierKey: audit.verifierKey },
        {
          range: { kind: "sequences", first: 0, end: 0 },
          consistencyFromSizes: [],
          includeInclusionProofs: false,
          includePersonalData: false,
        },
        async (bytes) => void chunks.push(bytes),
      );
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
  return Buffer.concat(chunks);
}

function verify(bundle: Uint8Array, pin: PinnedState = memory) {
  return verifyBundle(bundle, { verifierKeys: [audit.verifierKey], pinned: [pin] });
}

function kinds(findings: readonly Finding[]): FindingKind[] {
  return [...new Set(findings.map((f) => f.kind))];
}

async function leafAt(tx: DatabaseTransactionConnection, sequence: number) {
  return decodeLogEntry(
    (await tx.oneFirst(sql.unsafe`SELECT leaf FROM entries WHERE sequence = ${sequence}`)) as Buffer,
  );
}

/** The payload edit of the drill: the amount of entry `sequence` becomes 999999. */
async function editAmount(tx: DatabaseTransactionConnection, sequence: number): Promise<Uint8Array> {
  const entry = await leafAt(tx, sequence);
  entry.afterJson = entry.afterJson.replace(/"amount_minor":"\d+"/, '"amount_minor":"999999"');
  const leaf = encodeLogEntry(entry);
  await tx.query(
    sql.unsafe`UPDATE entries SET leaf = ${sql.binary(Buffer.from(leaf))} WHERE sequence = ${sequence}`,
  );
  return leaf;
}

/** What a thorough attacker does after an edit: every leaf hash, node and tree head recomputed. */
async function recomputeEveryHash(tx: DatabaseTransactionConnection): Promise<void> {
  const rows = await tx.any(sql.unsafe`SELECT sequence, leaf FROM entries ORDER BY sequence`);
  const tree = CompactMerkleTree.empty();
  const nodes: [number, number, Buffer][] = [];
  for (const row of rows) {
    const hash = leafHash(row["leaf"] as Buffer);
    await tx.query(
      sql.unsafe`UPDATE entries SET leaf_hash = ${sql.binary(Buffer.from(hash))} WHERE sequence = ${row["sequence"] as string}`,
    );
    tree.append(hash, (level, index, node) => {
      if (level > 0) nodes.push([level, index, Buffer.from(node)]);
    });
  }
  await tx.query(sql.unsafe`DELETE FROM tree_nodes`);
  await tx.query(sql.unsafe`DELETE FROM tree_heads`);
  await tx.query(sql.unsafe`
    INSERT INTO tree_nodes (level, index, hash) SELECT * FROM ${sql.unnest(nodes, ["int2", "int8", "bytea"])}
  `);
  const state = tree.toState();
  await tx.query(sql.unsafe`
    INSERT INTO tree_heads (size, first_sequence, root, compact, recorded_at)
    VALUES (${state.size}, 0, ${sql.binary(Buffer.from(tree.root()))}, ${sql.binary(Buffer.concat(state.hashes))}, now())
  `);
}

describe("tamper drill: the verifier, against the auditor's pinned state, says which entry and what", () => {
  it("gives no false alarm on the untouched log, which has grown since", async () => {
    const report = verify(await exportAfter(async () => {}));
    expect(report.findings).toEqual([]);
    expect(report.summary.pinnedCheckpointsChecked).toBeGreaterThanOrEqual(3);
    expect(verify(await exportAfter(async () => {}), checkpointsOnly).findings).toEqual([]);
  });

  it("changed payload: PAYLOAD_MODIFIED at that entry", async () => {
    const bundle = await exportAfter((tx) => editAmount(tx, TARGET).then(() => undefined));
    for (const pin of [memory, checkpointsOnly]) {
      const report = verify(bundle, pin);
      expect(report.ok).toBe(false);
      expect(report.findings.filter((f) => f.sequence !== undefined && f.kind !== "ROOT_MISMATCH")).toEqual([
        expect.objectContaining({ kind: "PAYLOAD_MODIFIED", sequence: TARGET }),
      ]);
    }
  });

  it("deleted row: ENTRY_MISSING at that entry, and nothing else blamed", async () => {
    const report = verify(
      await exportAfter((tx) =>
        tx.query(sql.unsafe`DELETE FROM entries WHERE sequence = ${TARGET}`).then(() => undefined),
      ),
    );
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: "ENTRY_MISSING", sequence: TARGET, lastSequence: TARGET }),
    ]);
  });

  it("two rows swapped: ENTRIES_REORDERED naming both", async () => {
    const report = verify(
      await exportAfter(async (tx) => {
        await tx.query(sql.unsafe`UPDATE entries SET sequence = 1000000000 WHERE sequence = 11`);
        await tx.query(sql.unsafe`UPDATE entries SET sequence = 11 WHERE sequence = 23`);
        await tx.query(sql.unsafe`UPDATE entries SET sequence = 23 WHERE sequence = 1000000000`);
      }),
    );
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: "ENTRIES_REORDERED", sequence: 11, foundAt: 23 }),
      expect.objectContaining({ kind: "ENTRIES_REORDERED", sequence: 23, foundAt: 11 }),
    ]);
  });

  it("tail cut: LOG_TRUNCATED from the first missing entry", async () => {
    const report = verify(
      await exportAfter((tx) =>
        tx.query(sql.unsafe`DELETE FROM entries WHERE sequence >= 30`).then(() => undefined),
      ),
    );
    expect(kinds(report.findings)).toEqual(["LOG_TRUNCATED"]);
    expect(report.findings[0]).toMatchObject({ sequence: 30 });
  });

  it("tail cut with the later tree heads and checkpoints gone too: the pinned checkpoint shows the loss", async () => {
    const report = verify(
      await exportAfter(async (tx) => {
        const keep = Number(
          await tx.oneFirst(sql.unsafe`SELECT max(size) FROM checkpoints WHERE size <= 30`),
        );
        await tx.query(sql.unsafe`DELETE FROM entries WHERE sequence >= ${keep}`);
        await tx.query(sql.unsafe`DELETE FROM tree_heads WHERE size > ${keep}`);
        await tx.query(sql.unsafe`DELETE FROM checkpoints WHERE size > ${keep}`);
      }),
    );
    expect(kinds(report.findings)).toEqual(["LOG_TRUNCATED"]);
    expect(report.findings[0]).toMatchObject({ size: pinnedSize });
  });

  it("forged row inserted, the later ones renumbered: FORGED_ENTRY at it, nothing truncated", async () => {
    const report = verify(
      await exportAfter(async (tx) => {
        await tx.query(
          sql.unsafe`UPDATE entries SET sequence = sequence + 1000000000 WHERE sequence >= ${TARGET}`,
        );
        await tx.query(
          sql.unsafe`UPDATE entries SET sequence = sequence - 999999999 WHERE sequence >= 1000000000`,
        );
        const genuine = await leafAt(tx, TARGET + 1);
        const forged = encodeLogEntry(
          create(LogEntrySchema, {
            ...genuine,
            sequence: BigInt(TARGET),
            eventId: randomUUID(),
            action: "refund.approved",
            approvalReference: "APPROVAL-FORGED",
          }),
        );
        await tx.query(sql.unsafe`
          INSERT INTO entries (sequence, event_id, leaf, leaf_hash, service, action, object_type, object_id,
                               principal_id, acting_device_id, occurred_at, recorded_at, correlation_id,
                               source_topic, source_partition, source_offset)
          VALUES (${TARGET}, ${randomUUID()}, ${sql.binary(Buffer.from(forged))}, ${sql.binary(Buffer.from(leafHash(forged)))},
                  'refunds', 'refund.approved', 'refund', 'r-1', 'mallory', '', now(), now(), '', 'forged', 0, 0)
        `);
      }),
    );
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: "FORGED_ENTRY", sequence: TARGET, foundAt: TARGET }),
    ]);
  });

  it("payload edited and every hash recomputed: PAYLOAD_MODIFIED from the pinned leaf hashes", async () => {
    const bundle = await exportAfter(async (tx) => {
      await editAmount(tx, TARGET);
      await recomputeEveryHash(tx);
    });
    const report = verify(bundle);
    expect(report.findings.filter((f) => f.kind !== "ROOT_MISMATCH")).toEqual([
      expect.objectContaining({ kind: "PAYLOAD_MODIFIED", sequence: TARGET }),
    ]);
    // With checkpoints only, the signed roots still catch it, and bound where the change lies.
    const bounded = verify(bundle, checkpointsOnly);
    expect(kinds(bounded.findings)).toEqual(["ROOT_MISMATCH"]);
    for (const finding of bounded.findings) {
      expect(finding.sequence!).toBeLessThanOrEqual(TARGET);
      expect(finding.lastSequence!).toBeGreaterThanOrEqual(TARGET);
    }
  });

  it("recomputed hashes and a fresh checkpoint signed over the rewrite: the pins expose the fork", async () => {
    // The service's own signer takes the signing lock now and then; keep it out of the way.
    await audit.parts.checkpoints.stop();
    const bundle = await exportAfter(async (tx) => {
      await editAmount(tx, TARGET);
      await recomputeEveryHash(tx);
      await tx.query(sql.unsafe`DELETE FROM checkpoints`);
      // What a signer with no memory of its past checkpoints would sign.
      const signed = await signTreeHeadWithin(
        tx,
        { ...signerOf(), outbox: audit.service.deps.outbox },
        new Date(),
      );
      expect(signed.signed).toBe(true);
    }).finally(() => audit.parts.checkpoints.start());
    const report = verify(bundle);
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "PAYLOAD_MODIFIED", sequence: TARGET }),
        expect.objectContaining({ kind: "INCONSISTENT_CHECKPOINTS", otherSize: report.summary.latestSize }),
      ]),
    );
    // The bundle alone is self-consistent; the pinned checkpoints are what give the rewrite away.
    expect(verifyBundle(bundle, { verifierKeys: [audit.verifierKey] }).findings).toEqual([]);
    expect(kinds(verify(bundle, checkpointsOnly).findings)).toContain("INCONSISTENT_CHECKPOINTS");
  });
});

describe("tamper drill through the running service and the CLI", () => {
  it("the service refuses to sign a log whose history was rewritten", async () => {
    const before = Number(await audit.admin.oneFirst(sql.unsafe`SELECT max(size) FROM audit.checkpoints`));
    await audit.admin.transaction(async (tx) => {
      await tx.query(sql.unsafe`SET LOCAL search_path = audit`);
      await tx.query(sql.unsafe`SET LOCAL session_replication_role = replica`);
      await editAmount(tx, TARGET);
      await recomputeEveryHash(tx);
    });
    await audit.publish([auditEvent()]);
    const size = Number(await audit.admin.oneFirst(sql.unsafe`SELECT max(size) FROM audit.tree_heads`));
    await waitUntil(
      "the next event to be sequenced",
      async () =>
        Number(await audit.admin.oneFirst(sql.unsafe`SELECT max(size) FROM audit.tree_heads`)) > size,
    );
    await audit.parts.checkpoints.signNow();
    expect(Number(await audit.admin.oneFirst(sql.unsafe`SELECT max(size) FROM audit.checkpoints`))).toBe(
      before,
    );
  });

  it("the CLI, given the auditor's earlier bundle, reports the entry and the kind and exits 1", async () => {
    const bundle = saveFile(await exportBundle(audit.client()));
    const { code, stdout } = await runVerifier([
      bundle,
      "--key",
      audit.verifierKey,
      "--pinned",
      cleanBundlePath,
    ]);
    expect(stdout).toContain(`PAYLOAD_MODIFIED (entry ${TARGET})`);
    expect(code).toBe(1);
  });
});

function signerOf() {
  const { config } = audit.parts;
  return {
    origin: config.origin,
    signer: config.signer,
    verifier: config.verifier,
    checkpointsTopic: config.checkpointsTopic,
  };
}
