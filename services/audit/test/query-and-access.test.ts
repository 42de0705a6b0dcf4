import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "@money/db";
import type { AuditRecord } from "@money/proto/audit/v1/audit_pb";
import type { Role } from "@money/rpc";
import { auditEvent } from "./support/audit-events.js";
import { startAudit, type AuditHarness } from "./support/audit-harness.js";
import { waitUntil } from "@money/testkit";

let audit: AuditHarness;
const base = new Date("2026-03-01T10:00:00Z");
const minutes = (n: number) => new Date(base.getTime() + n * 60_000);

beforeAll(async () => {
  audit = await startAudit();
  // A small world: two services, three actors, a terminal, one account with a history.
  await audit.publish([
    auditEvent({
      service: "ledger",
      action: "account.opened",
      objectType: "account",
      objectId: "acc-1",
      principalId: "alice",
      occurredAt: minutes(0),
    }),
    auditEvent({
      service: "ledger",
      action: "transaction.posted",
      objectType: "transaction",
      objectId: "tx-1",
      principalId: "svc-checkout",
      role: "service",
      correlationId: "acc-1",
      occurredAt: minutes(1),
    }),
    auditEvent({
      service: "loyalty",
      action: "loyalty_card.earn",
      objectType: "loyalty_card",
      objectId: "card-1",
      principalId: "pos-9",
      role: "terminal",
      deviceId: "pos-9",
      occurredAt: minutes(2),
    }),
    auditEvent({
      service: "ledger",
      action: "account.frozen",
      objectType: "account",
      objectId: "acc-1",
      principalId: "bob",
      reason: "fraud check",
      occurredAt: minutes(3),
    }),
    auditEvent({
      service: "loyalty",
      action: "loyalty_card.earn",
      objectType: "loyalty_card",
      objectId: "card-2",
      principalId: "pos-9",
      role: "terminal",
      deviceId: "pos-9",
      occurredAt: minutes(4),
    }),
    auditEvent({
      service: "ledger",
      action: "account.unfrozen",
      objectType: "account",
      objectId: "acc-1",
      principalId: "alice",
      occurredAt: minutes(5),
    }),
  ]);
  await waitUntil("six entries", async () => (await audit.entryCount()) >= 6);
}, 60_000);

afterAll(async () => {
  await audit?.stop();
});

const actions = (records: readonly AuditRecord[]) => records.map((r) => r.action);

describe("QueryEvents", () => {
  it("filters by service, actor, device, object, action and time, in log order", async () => {
    const client = audit.client();
    const query = async (filter: Parameters<typeof client.queryEvents>[0]) =>
      actions((await client.queryEvents({ ...filter })).records).filter((a) => a !== "audit.queried");
    expect(await query({ service: "loyalty" })).toEqual(["loyalty_card.earn", "loyalty_card.earn"]);
    expect(await query({ actor: "alice" })).toEqual(["account.opened", "account.unfrozen"]);
    expect(await query({ deviceId: "pos-9" })).toEqual(["loyalty_card.earn", "loyalty_card.earn"]);
    expect(await query({ objectType: "account", objectId: "acc-1" })).toEqual([
      "account.opened",
      "account.frozen",
      "account.unfrozen",
    ]);
    expect(await query({ action: "account.frozen" })).toEqual(["account.frozen"]);
    expect(
      await query({
        service: "ledger",
        occurredFrom: timestampFromDate(minutes(1)),
        occurredTo: timestampFromDate(minutes(5)),
      }),
    ).toEqual(["transaction.posted", "account.frozen"]);
    expect(await query({ service: "ledger", actor: "alice", action: "account.unfrozen" })).toEqual([
      "account.unfrozen",
    ]);
  });

  it("returns who, what, why and when, with the leaf to check proofs against", async () => {
    const { records } = await audit.client().queryEvents({ action: "account.frozen" });
    expect(records[0]).toMatchObject({
      service: "ledger",
      objectType: "account",
      objectId: "acc-1",
      reason: "fraud check",
      actor: { principalId: "bob", principalRole: "admin", ip: "10.0.0.1", userAgent: "test-agent/1.0" },
      occurredAt: timestampFromDate(minutes(3)),
    });
    expect(records[0]!.leafHash).toHaveLength(32);
    expect(records[0]!.recordedAt).toBeDefined();
  });

  it("pages with a token bound to the query", async () => {
    const client = audit.client();
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await client.queryEvents({ service: "ledger", pageSize: 2, pageToken });
      expect(page.records.length).toBeLessThanOrEqual(2);
      seen.push(...actions(page.records));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toEqual(["account.opened", "transaction.posted", "account.frozen", "account.unfrozen"]);

    const first = await client.queryEvents({ service: "ledger", pageSize: 1 });
    const misused = await client
      .queryEvents({ service: "loyalty", pageSize: 1, pageToken: first.nextPageToken })
      .catch((e: unknown) => ConnectError.from(e));
    expect(misused).toMatchObject({ code: Code.InvalidArgument });
    expect((misused as ConnectError).metadata.get("error-reason")).toBe("INVALID_PAGE_TOKEN");
    const tooBig = await client.queryEvents({ pageSize: 501 }).catch((e: unknown) => ConnectError.from(e));
    expect(tooBig).toMatchObject({ code: Code.InvalidArgument });
  });
});

describe("GetObjectHistory", () => {
  it("gives every event of one object, oldest first, a page at a time", async () => {
    const client = audit.client();
    const first = await client.getObjectHistory({ objectType: "account", objectId: "acc-1", pageSize: 2 });
    const rest = await client.getObjectHistory({
      objectType: "account",
      objectId: "acc-1",
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    expect([...actions(first.records), ...actions(rest.records)]).toEqual([
      "account.opened",
      "account.frozen",
      "account.unfrozen",
    ]);
    expect(rest.nextPageToken).toBe("");
    const sequences = [...first.records, ...rest.records].map((r) => r.sequence);
    expect([...sequences].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequences);
  });

  it("requires the object", async () => {
    const refused = await audit
      .client()
      .getObjectHistory({ objectType: "account" })
      .catch((e: unknown) => ConnectError.from(e));
    expect(refused).toMatchObject({ code: Code.InvalidArgument });
  });
});

describe("auditor access", () => {
  const calls = {
    GetEntry: (c: ReturnType<AuditHarness["client"]>) =>
      c.getEntry({ entry: { case: "sequence", value: 0n } }),
    GetConsistencyProof: (c: ReturnType<AuditHarness["client"]>) => c.getConsistencyProof({ firstSize: 1n }),
    GetLatestCheckpoint: (c: ReturnType<AuditHarness["client"]>) => c.getLatestCheckpoint({}),
    QueryEvents: (c: ReturnType<AuditHarness["client"]>) => c.queryEvents({}),
    GetObjectHistory: (c: ReturnType<AuditHarness["client"]>) =>
      c.getObjectHistory({ objectType: "a", objectId: "b" }),
    ExportBundle: async (c: ReturnType<AuditHarness["client"]>) => {
      for await (const chunk of c.exportBundle({})) void chunk;
    },
    CheckCompleteness: (c: ReturnType<AuditHarness["client"]>) => c.checkCompleteness({}),
  };

  it("refuses every reading method to every role but auditor, and erasure to all but admin", async () => {
    await audit.waitForCheckpoint(6);
    const roles: Role[] = ["user", "staff", "admin", "approver", "service", "terminal"];
    for (const [method, call] of Object.entries(calls)) {
      for (const role of roles) {
        const error = await call(audit.client(role)).then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        expect([method, role, error?.code]).toEqual([method, role, Code.PermissionDenied]);
      }
      await expect(call(audit.client("auditor"))).resolves.not.toThrow();
    }
    const erase = await audit
      .client("auditor")
      .erasePersonalData({ customerRef: "x" })
      .catch((e: unknown) => ConnectError.from(e));
    expect(erase).toMatchObject({ code: Code.PermissionDenied });
  });

  it("refuses a call without a token", async () => {
    const response = await fetch(`${audit.service.url}/audit.v1.AuditService/QueryEvents`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(401);
  });

  it("records every auditor query in the trail itself, with the auditor as actor", async () => {
    const carol = audit.client("auditor", "carol");
    await carol.queryEvents({ service: "loyalty", reason: "quarterly review" });
    await carol.getObjectHistory({ objectType: "account", objectId: "acc-1" });
    await waitUntil(
      "carol's two queries in the trail",
      async () =>
        Number(
          await audit.admin.oneFirst(
            sql.unsafe`SELECT count(*) FROM audit.entries WHERE action = 'audit.queried' AND principal_id = 'carol'`,
          ),
        ) === 2,
    );
    const { records } = await audit
      .client("auditor", "dave")
      .queryEvents({ action: "audit.queried", actor: "carol" });
    // Each query's event is keyed by its own id, so the two may sit in different partitions and be
    // sequenced in either order.
    expect(records.map((r) => r.after?.["method"]).sort()).toEqual(["GetObjectHistory", "QueryEvents"]);
    const query = records.find((r) => r.after?.["method"] === "QueryEvents");
    expect(query).toMatchObject({
      service: "audit",
      reason: "quarterly review",
      actor: { principalId: "carol", principalRole: "auditor", userAgent: "auditor-console/2.0" },
      after: { method: "QueryEvents", service: "loyalty" },
    });
    expect(query!.actor!.ip).toMatch(/127\.0\.0\.1|::1/);
  });
});
