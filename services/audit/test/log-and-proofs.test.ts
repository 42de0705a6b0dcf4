import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "@money/db";
import { decodeEnvelope, payloadAs, type IncomingMessage } from "@money/kafka";
import { uniqueName } from "@money/kafka/testing";
import { CheckpointSignedSchema } from "@money/proto/audit/v1/events_pb";
import { parseVerifierKey, verifyCheckpoint } from "../src/domain/checkpoint/index.js";
import {
  leafHash,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from "../src/domain/merkle/index.js";
import { auditEvent } from "./support/audit-events.js";
import { startAudit, type AuditHarness } from "./support/audit-harness.js";
import { waitUntil } from "@money/testkit";

let audit: AuditHarness;
const published: IncomingMessage[] = [];

beforeAll(async () => {
  audit = await startAudit();
  // Three waves, so the log grows through several batches and checkpoints.
  for (const wave of [7, 20, 13]) {
    const size = (await audit.entryCount()) + wave;
    await audit.publish(Array.from({ length: wave }, () => auditEvent()));
    await audit.waitForCheckpoint(size);
  }
  await audit.bus.subscribe({
    groupId: uniqueName("checkpoint-reader"),
    topics: [audit.checkpointsTopic],
    handle: async (message) => void published.push(message),
  });
});

afterAll(async () => {
  await audit?.stop();
});

const pinnedKey = () => parseVerifierKey(audit.verifierKey);

describe("the Merkle log", () => {
  it("stores each leaf with its RFC 6962 hash, and a tree head per batch whose root covers them all", async () => {
    const rows = await audit.admin.any(
      sql.unsafe`SELECT sequence, leaf, leaf_hash FROM audit.entries ORDER BY sequence`,
    );
    expect(rows.map((r) => Number(r["sequence"]))).toEqual(rows.map((_, i) => i));
    for (const row of rows) expect(Buffer.from(leafHash(row["leaf"] as Buffer))).toEqual(row["leaf_hash"]);
    const heads = await audit.admin.any(sql.unsafe`SELECT * FROM audit.tree_heads ORDER BY size`);
    // Batches tile the log without gaps, in order.
    heads.forEach((head, i) =>
      expect(Number(head["first_sequence"])).toBe(i === 0 ? 0 : Number(heads[i - 1]!["size"])),
    );
    const last = heads[heads.length - 1]!;
    expect(Number(last["size"])).toBe(rows.length);
    expect(
      Buffer.from(rootFromLeafHashes(rows.map((r) => new Uint8Array(r["leaf_hash"] as Buffer)))),
    ).toEqual(last["root"]);
  });

  it("signs checkpoints that verify with the log's key and publishes each to the checkpoints topic", async () => {
    const checkpoints = await audit.admin.any(sql.unsafe`SELECT * FROM audit.checkpoints ORDER BY size`);
    expect(checkpoints.length).toBeGreaterThanOrEqual(3);
    for (const row of checkpoints) {
      const checkpoint = verifyCheckpoint(row["note"] as string, pinnedKey(), { origin: audit.origin });
      expect(checkpoint.size).toBe(Number(row["size"]));
      expect(Buffer.from(checkpoint.rootHash)).toEqual(row["root"]);
    }
    await waitUntil("every checkpoint on the topic", () => published.length >= checkpoints.length);
    const notes = published.map((m) => payloadAs(decodeEnvelope(m.value), CheckpointSignedSchema)!.note);
    expect(notes).toEqual(checkpoints.map((c) => c["note"]));
    expect(published.every((m) => m.key === audit.origin)).toBe(true);
  });
});

describe("proofs", () => {
  it("GetLatestCheckpoint returns a checkpoint the pinned key verifies", async () => {
    const { checkpoint, verifierKey } = await audit.client().getLatestCheckpoint({});
    expect(verifierKey).toBe(audit.verifierKey);
    const verified = verifyCheckpoint(checkpoint!.note, pinnedKey(), { origin: audit.origin });
    // Auditors' own queries are logged too, so the log only grows from the 40 events published.
    expect(verified.size).toBeGreaterThanOrEqual(40);
    expect(checkpoint).toMatchObject({ size: BigInt(verified.size), origin: audit.origin });
  });

  it("GetEntry proves every entry's inclusion in the latest checkpoint and in an older one", async () => {
    const client = audit.client();
    const latest = verifyCheckpoint((await client.getLatestCheckpoint({})).checkpoint!.note, pinnedKey());
    for (let sequence = 0; sequence < latest.size; sequence++) {
      const { record, inclusionProof, checkpoint } = await client.getEntry({
        entry: { case: "sequence", value: BigInt(sequence) },
      });
      expect(record!.sequence).toBe(BigInt(sequence));
      const signed = verifyCheckpoint(checkpoint!.note, pinnedKey());
      verifyInclusion(sequence, signed.size, leafHash(record!.leaf), inclusionProof, signed.rootHash);
    }
    const older = Number(await audit.admin.oneFirst(sql.unsafe`SELECT min(size) FROM audit.checkpoints`));
    const { record, inclusionProof, checkpoint } = await client.getEntry({
      entry: { case: "sequence", value: 0n },
      treeSize: BigInt(older),
    });
    const signed = verifyCheckpoint(checkpoint!.note, pinnedKey());
    expect(signed.size).toBe(older);
    verifyInclusion(0, older, leafHash(record!.leaf), inclusionProof, signed.rootHash);
  });

  it("GetEntry finds an entry by event id too", async () => {
    const eventId = (await audit.admin.oneFirst(
      sql.unsafe`SELECT event_id FROM audit.entries WHERE sequence = 9`,
    )) as string;
    const { record } = await audit.client().getEntry({ entry: { case: "eventId", value: eventId } });
    expect(record).toMatchObject({ sequence: 9n, eventId });
  });

  it("GetConsistencyProof proves each older checkpoint a prefix of the latest", async () => {
    const client = audit.client();
    const sizes = (
      await audit.admin.anyFirst(sql.unsafe`SELECT size FROM audit.checkpoints ORDER BY size`)
    ).map(Number);
    const notes = new Map(
      (await audit.admin.any(sql.unsafe`SELECT size, note FROM audit.checkpoints`)).map((r) => [
        Number(r["size"]),
        verifyCheckpoint(r["note"] as string, pinnedKey()),
      ]),
    );
    for (const first of [1, ...sizes]) {
      const { proof, checkpoint, secondSize } = await client.getConsistencyProof({
        firstSize: BigInt(first),
      });
      const newer = verifyCheckpoint(checkpoint!.note, pinnedKey());
      expect(Number(secondSize)).toBe(newer.size);
      const older = notes.get(first);
      if (older) verifyConsistency(first, newer.size, proof, older.rootHash, newer.rootHash);
    }
  });

  it("refuses with a code and a reason", async () => {
    const client = audit.client();
    const refusal = (call: Promise<unknown>) =>
      call.then(
        () => undefined,
        (error: unknown) => {
          const e = ConnectError.from(error);
          return { code: e.code, reason: e.metadata.get("error-reason") };
        },
      );
    expect(await refusal(client.getEntry({ entry: { case: "sequence", value: 1_000_000n } }))).toEqual({
      code: Code.NotFound,
      reason: "ENTRY_NOT_FOUND",
    });
    expect(await refusal(client.getEntry({ entry: { case: "eventId", value: "nope" } }))).toEqual({
      code: Code.InvalidArgument,
      reason: "INVALID_ARGUMENT",
    });
    expect(await refusal(client.getEntry({ entry: { case: "sequence", value: 39n }, treeSize: 7n }))).toEqual(
      {
        code: Code.FailedPrecondition,
        reason: "ENTRY_NOT_CHECKPOINTED",
      },
    );
    expect(
      await refusal(client.getEntry({ entry: { case: "sequence", value: 0n }, treeSize: 999_999n })),
    ).toEqual({
      code: Code.NotFound,
      reason: "CHECKPOINT_NOT_FOUND",
    });
    expect(await refusal(client.getConsistencyProof({ firstSize: 0n }))).toEqual({
      code: Code.InvalidArgument,
      reason: "INVALID_ARGUMENT",
    });
    expect(await refusal(client.getConsistencyProof({ firstSize: 1_000_000n }))).toEqual({
      code: Code.InvalidArgument,
      reason: "INVALID_ARGUMENT",
    });
  });

  it("answers Connect JSON over HTTP/1.1 with hashes in base64 and 64-bit numbers as strings", async () => {
    const { mintToken } = await import("@money/rpc");
    const response = await fetch(`${audit.service.url}/audit.v1.AuditService/GetConsistencyProof`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await mintToken({ sub: "carol", role: "auditor" })}`,
      },
      body: JSON.stringify({ firstSize: "7" }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { firstSize: string; secondSize: string; proof: string[] };
    expect(body.firstSize).toBe("7");
    expect(Number(body.secondSize)).toBeGreaterThanOrEqual(40);
    expect(body.proof.every((h) => Buffer.from(h, "base64").length === 32)).toBe(true);
  });
});
