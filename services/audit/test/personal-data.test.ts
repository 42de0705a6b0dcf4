import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { sql } from "@money/db";
import { leafHash, verifyInclusion } from "../src/domain/merkle/index.js";
import { parseVerifierKey, verifyCheckpoint } from "../src/domain/checkpoint/index.js";
import { verifyBundle } from "../src/domain/verification/verify-bundle.js";
import { auditEvent } from "./support/audit-events.js";
import { startAudit, type AuditHarness } from "./support/audit-harness.js";
import { exportBundle } from "./support/bundles.js";
import { waitUntil } from "@money/testkit";

let audit: AuditHarness;
const CUSTOMER = "cust-4711";

beforeAll(async () => {
  audit = await startAudit();
  await audit.publish([
    // The customer acting on the web, from an IP and browser of their own.
    auditEvent({
      service: "ledger",
      action: "wallet.created",
      objectType: "wallet",
      objectId: "w-1",
      principalId: CUSTOMER,
      role: "user",
      ip: "203.0.113.7",
      userAgent: "Mozilla/5.0 (their phone)",
      after: { owner_ref: CUSTOMER, mobile_number: "+31600000001", daily_limit_minor: "50000" },
    }),
    // Staff acting on the customer's account from the office network, shared with others.
    auditEvent({
      service: "ledger",
      action: "account.frozen",
      objectType: "account",
      objectId: "acc-9",
      principalId: "staff-3",
      role: "staff",
      ip: "10.1.1.1",
      userAgent: "backoffice/3",
      before: { owner_ref: CUSTOMER, status: "active" },
      after: { owner_ref: CUSTOMER, status: "frozen" },
    }),
    auditEvent({
      service: "ledger",
      action: "account.opened",
      objectType: "account",
      objectId: "acc-10",
      principalId: "staff-3",
      role: "staff",
      ip: "10.1.1.1",
      userAgent: "backoffice/3",
      after: { owner_ref: "cust-other" },
    }),
  ]);
  await audit.waitForCheckpoint(3);
}, 60_000);

afterAll(async () => {
  await audit?.stop();
});

async function leaves(): Promise<Buffer[]> {
  return (await audit.admin.anyFirst(
    sql.unsafe`SELECT leaf FROM audit.entries ORDER BY sequence`,
  )) as Buffer[];
}

describe("personal data", () => {
  it("stays out of the leaves: IPs, user agents and customer references are salted hashes", async () => {
    for (const leaf of await leaves()) {
      for (const secret of [CUSTOMER, "203.0.113.7", "Mozilla", "+31600000001", "10.1.1.1", "cust-other"]) {
        expect([secret, leaf.includes(secret)]).toEqual([secret, false]);
      }
    }
    const side = await audit.admin.any(
      sql.unsafe`SELECT kind, value FROM audit.personal_data ORDER BY kind, value`,
    );
    expect(side.map((r) => `${r["kind"] as string}:${r["value"] as string}`)).toEqual([
      "customer:+31600000001",
      `customer:${CUSTOMER}`,
      "customer:cust-other",
      "ip:10.1.1.1",
      "ip:203.0.113.7",
      "user_agent:Mozilla/5.0 (their phone)",
      "user_agent:backoffice/3",
    ]);
  });

  it("is resolved for auditors, and a customer is found by their reference", async () => {
    const { records } = await audit.client().queryEvents({ actor: CUSTOMER });
    expect(records.filter((r) => r.service === "ledger")).toEqual([
      expect.objectContaining({
        action: "wallet.created",
        actor: expect.objectContaining({
          principalId: CUSTOMER,
          ip: "203.0.113.7",
          userAgent: "Mozilla/5.0 (their phone)",
          personalDataErased: false,
        }),
        after: { owner_ref: CUSTOMER, mobile_number: "+31600000001", daily_limit_minor: "50000" },
      }),
    ]);
  });

  it("is erased without breaking a single proof", async () => {
    const before = await leaves();
    const latest = async () => (await audit.client().getLatestCheckpoint({})).checkpoint!;
    const pinned = await latest();
    const bundleBefore = await exportBundle(audit.client(), { includePersonalData: true });
    expect(verifyBundle(bundleBefore, { verifierKeys: [audit.verifierKey] }).findings).toEqual([]);

    const { erased } = await audit
      .client("admin")
      .erasePersonalData({ customerRef: CUSTOMER, reason: "GDPR art. 17 request 88" });
    // The customer reference, and their own IP and browser; not the office IP others share.
    expect(erased).toBe(3);
    const remaining = await audit.admin.anyFirst(
      sql.unsafe`SELECT value FROM audit.personal_data ORDER BY value`,
    );
    expect(remaining).toEqual(
      expect.arrayContaining(["+31600000001", "10.1.1.1", "backoffice/3", "cust-other"]),
    );
    for (const gone of [CUSTOMER, "203.0.113.7", "Mozilla/5.0 (their phone)"])
      expect(remaining).not.toContain(gone);

    // Leaves unchanged, so every root, checkpoint and proof still holds.
    expect((await leaves()).slice(0, before.length)).toEqual(before);
    const { record, inclusionProof, checkpoint } = await audit.client().getEntry({
      entry: { case: "sequence", value: 0n },
      treeSize: pinned.size,
    });
    const signed = verifyCheckpoint(checkpoint!.note, parseVerifierKey(audit.verifierKey));
    verifyInclusion(0, signed.size, leafHash(record!.leaf), inclusionProof, pinned.rootHash);
    const bundleAfter = await exportBundle(audit.client(), { includePersonalData: true });
    const report = verifyBundle(bundleAfter, {
      verifierKeys: [audit.verifierKey],
      pinned: [
        {
          source: "before erasure",
          checkpoints: [pinned.note],
          leafHashes: verifyBundle(bundleBefore, { verifierKeys: [audit.verifierKey] }).verified.leafHashes!,
        },
      ],
    });
    expect(report.findings).toEqual([]);
    expect(report.summary.disclosuresChecked).toBeLessThan(
      verifyBundle(bundleBefore, { verifierKeys: [audit.verifierKey] }).summary.disclosuresChecked,
    );

    // Auditors now see that data was erased, not the data.
    const wallet = (await audit.client().queryEvents({ action: "wallet.created" })).records[0]!;
    expect(wallet.actor).toMatchObject({ ip: "", userAgent: "", personalDataErased: true });
    expect(wallet.actor!.principalId).toMatch(/^pd:[0-9a-f]{64}$/);
    expect(wallet.after?.["owner_ref"]).toMatch(/^pd:[0-9a-f]{64}$/);
    expect(wallet.after?.["mobile_number"]).toBe("+31600000001");
  });

  it("records the erasure in the trail, without the values", async () => {
    await waitUntil("the erasure in the trail", async () =>
      Boolean(
        await audit.admin.maybeOneFirst(
          sql.unsafe`SELECT 1 FROM audit.entries WHERE action = 'personal_data.erased'`,
        ),
      ),
    );
    const { records } = await audit.client().queryEvents({ action: "personal_data.erased" });
    expect(records[0]).toMatchObject({
      service: "audit",
      reason: "GDPR art. 17 request 88",
      actor: { principalRole: "admin" },
      after: { erased: 3, customer: true },
    });
    const leaf = Buffer.from(records[0]!.leaf);
    expect(leaf.includes(CUSTOMER)).toBe(false);
  });

  it("gives a customer seen again after erasure a new, unlinked pseudonym", async () => {
    const old = (await audit.client().queryEvents({ action: "wallet.created" })).records[0]!.actor!
      .principalId;
    await audit.publish([auditEvent({ principalId: CUSTOMER, role: "user", action: "wallet.topped_up" })]);
    await waitUntil("the new event", async () =>
      Boolean(
        await audit.admin.maybeOneFirst(
          sql.unsafe`SELECT 1 FROM audit.entries WHERE action = 'wallet.topped_up'`,
        ),
      ),
    );
    const stored = (await audit.admin.oneFirst(
      sql.unsafe`SELECT principal_id FROM audit.entries WHERE action = 'wallet.topped_up'`,
    )) as string;
    expect(stored).toMatch(/^pd:/);
    expect(stored).not.toBe(old);
  });
});
