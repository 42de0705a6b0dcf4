import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "@money/db";
import { BUNDLE_MAGIC } from "../src/domain/bundle/bundle-format.js";
import { encodeVerifierKey, generateCheckpointKeyPair } from "../src/domain/checkpoint/index.js";
import { verifyBundle } from "../src/domain/verification/verify-bundle.js";
import { auditEvent } from "./support/audit-events.js";
import { startAudit, type AuditHarness } from "./support/audit-harness.js";
import { exportBundle, runVerifier, saveFile } from "./support/bundles.js";

let audit: AuditHarness;
let full: Buffer;
let midRecordedAt: Date;

beforeAll(async () => {
  audit = await startAudit();
  for (const [i, wave] of [12, 9, 17].entries()) {
    const size = (await audit.entryCount()) + wave;
    await audit.publish(
      Array.from({ length: wave }, (_, j) =>
        auditEvent({
          principalId: j % 3 === 0 ? `customer-${j}` : "staff-9",
          role: j % 3 === 0 ? "user" : "staff",
          after: { owner_ref: `cust-${i}-${j}`, amount_minor: String(100 * j) },
        }),
      ),
    );
    await audit.waitForCheckpoint(size);
    if (i === 1) midRecordedAt = new Date();
  }
  full = await exportBundle(audit.client());
}, 120_000);

afterAll(async () => {
  await audit?.stop();
});

const pinnedKey = () => [audit.verifierKey];

describe("ExportBundle and audit-verify", () => {
  it("exports the whole log, which verifies offline with the pinned key", async () => {
    const report = verifyBundle(full, { verifierKeys: pinnedKey() });
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.summary.entries).toBe(report.summary.latestSize);
    expect(report.summary.entries).toBeGreaterThanOrEqual(38);
    expect(report.summary.checkpoints).toBeGreaterThanOrEqual(3);
  });

  it("runs as a CLI with no network: exit 0 and a summary when clean", async () => {
    const path = saveFile(full);
    const { code, stdout } = await runVerifier([path, "--key", audit.verifierKey]);
    expect(stdout).toContain("OK: every signature, inclusion and consistency check passed");
    expect(code).toBe(0);
  });

  it("exports a sequence range with its left edge, proofs to the latest checkpoint, and disclosures", async () => {
    const checkpoints = (
      await audit.admin.anyFirst(sql.unsafe`SELECT size FROM audit.checkpoints ORDER BY size`)
    ).map(Number);
    const oldest = checkpoints[0]!;
    const bundle = await exportBundle(audit.client(), {
      range: { case: "sequences", value: { first: 5n, end: 30n } },
      consistencyFromSizes: [BigInt(oldest)],
      includeInclusionProofs: true,
      includePersonalData: true,
    });
    const oldNote = (await audit.admin.oneFirst(
      sql.unsafe`SELECT note FROM audit.checkpoints WHERE size = ${oldest}`,
    )) as string;
    const report = verifyBundle(bundle, {
      verifierKeys: pinnedKey(),
      pinned: [{ source: "old checkpoint", checkpoints: [oldNote] }],
    });
    expect(report.findings).toEqual([]);
    expect(report.summary).toMatchObject({
      firstSequence: 5,
      entries: 25,
      inclusionProofsChecked: 25,
      pinnedCheckpointsChecked: 1,
    });
    expect(report.summary.consistencyProofsChecked).toBeGreaterThanOrEqual(2);
    expect(report.summary.disclosuresChecked).toBeGreaterThan(0);
  });

  it("exports a time range: the entries recorded from an instant on", async () => {
    const bundle = await exportBundle(audit.client(), {
      range: { case: "recorded", value: { from: timestampFromDate(midRecordedAt) } },
    });
    const report = verifyBundle(bundle, { verifierKeys: pinnedKey() });
    expect(report.findings).toEqual([]);
    expect(report.summary.firstSequence).toBeGreaterThanOrEqual(21);
    expect(report.summary.firstSequence + report.summary.entries).toBe(report.summary.latestSize);
  });

  it("refuses an empty range with FAILED_PRECONDITION", async () => {
    const error = await exportBundle(audit.client(), {
      range: { case: "sequences", value: { first: 1_000_000n } },
    }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((error as ConnectError).message).toMatch(/RANGE_EMPTY/);
  });

  it("rejects a single flipped bit anywhere in the file", () => {
    const small = full;
    fc.assert(
      fc.property(fc.nat({ max: small.length * 8 - 1 }), (bit) => {
        const copy = Buffer.from(small);
        copy[bit >> 3]! ^= 1 << (bit & 7);
        const report = verifyBundle(copy, { verifierKeys: pinnedKey() });
        return !report.ok && report.findings.length > 0;
      }),
      { numRuns: 1_000 },
    );
  });

  it("rejects a flipped bit in every record of a bundle with proofs and disclosures", async () => {
    const oldest = await audit.admin.one(
      sql.unsafe`SELECT size, note FROM audit.checkpoints ORDER BY size LIMIT 1`,
    );
    const rich = await exportBundle(audit.client(), {
      range: {
        case: "sequences",
        value: { first: BigInt(oldest["size"] as string) + 3n, end: BigInt(oldest["size"] as string) + 9n },
      },
      consistencyFromSizes: [BigInt(oldest["size"] as string)],
      includeInclusionProofs: true,
      includePersonalData: true,
    });
    const options = {
      verifierKeys: pinnedKey(),
      pinned: [{ source: "oldest", checkpoints: [oldest["note"] as string] }],
    };
    const clean = verifyBundle(rich, options);
    expect(clean.findings).toEqual([]);
    expect(clean.summary.consistencyProofsUnchecked).toEqual([]);
    // In the magic line, and in each record: its kind, its length and bytes across its body.
    const targets: number[] = [0, 7, BUNDLE_MAGIC.length - 1];
    for (let at = BUNDLE_MAGIC.length; at < rich.length;) {
      const length = rich.readUInt32BE(at + 1);
      const body = at + 5;
      targets.push(at, at + 1, at + 4, body, body + length - 1);
      for (let k = 1; k < 8; k++) targets.push(body + Math.floor((length * k) / 8));
      at = body + length;
    }
    for (const byte of new Set(targets)) {
      for (const bit of [0, 3, 7]) {
        const copy = Buffer.from(rich);
        copy[byte]! ^= 1 << bit;
        expect([byte, bit, verifyBundle(copy, options).ok]).toEqual([byte, bit, false]);
      }
    }
  });

  it("refuses a bundle whose checkpoints another key signed", () => {
    const other = encodeVerifierKey(generateCheckpointKeyPair("test.money-platform/audit").verifier);
    const report = verifyBundle(full, { verifierKeys: [other] });
    expect(report.ok).toBe(false);
    expect(report.findings.map((f) => f.kind)).toEqual(
      expect.arrayContaining(["KEY_MISMATCH", "BAD_SIGNATURE", "NO_CHECKPOINT"]),
    );
  });

  it("exits 1 with findings on a damaged file and 2 on bad usage; pins carry over between runs", async () => {
    const damaged = Buffer.from(full);
    damaged[damaged.length - 300]! ^= 0x10;
    const failed = await runVerifier([saveFile(damaged), "--key", audit.verifierKey]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/FAILED: \d+ finding/);

    expect((await runVerifier([])).code).toBe(2);

    const pins = saveFile("", "pins");
    const first = await runVerifier([saveFile(full), "--key", audit.verifierKey, "--save-pins", pins]);
    expect(first.code).toBe(0);
    expect(JSON.parse(readFileSync(pins, "utf8"))).toMatchObject({ format: "money-audit-pins v1" });
    await audit.publish([auditEvent()]);
    const size = Number(await audit.admin.oneFirst(sql.unsafe`SELECT max(size) FROM audit.tree_heads`));
    await audit.waitForCheckpoint(size);
    const later = await exportBundle(audit.client());
    const second = await runVerifier([saveFile(later), "--key", audit.verifierKey, "--pinned", pins]);
    expect(second.stdout).toMatch(/pinned +\d+ checkpoints checked/);
    expect(second.code).toBe(0);
  });
});
