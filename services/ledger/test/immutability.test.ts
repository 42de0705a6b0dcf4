import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import pg from "pg";
import { sql } from "@money/db";
import { withUser } from "@money/db/testing";
import { key, LedgerHarness } from "./support/ledger-harness.js";

/*
 * Entries and status history rows never change, and accounts and
 * transactions are never removed. Two walls, each tested with raw SQL: the
 * service's own database role lacks the privilege, and a trigger refuses
 * the change even to the owner.
 */

let ledger: LedgerHarness;
let serviceRole: pg.Client;
let superuser: pg.Client;
let transactionId: string;

beforeAll(async () => {
  ledger = await LedgerHarness.start("immutability");
  const from = await ledger.fundedAccount("10.00");
  const to = await ledger.openAccount();
  const { transaction } = await ledger.adminClient.transfer({
    idempotencyKey: key(),
    fromAccountId: from.id,
    toAccountId: to.id,
    amount: "1",
  });
  transactionId = transaction!.id;
  serviceRole = new pg.Client({ connectionString: withUser(ledger.db.adminUrl, "ledger_service", "dev") });
  await serviceRole.connect();
  superuser = new pg.Client({ connectionString: ledger.db.adminUrl });
  await superuser.connect();
});
afterAll(async () => {
  await serviceRole?.end();
  await superuser?.end();
  await ledger?.stop();
});

const TAMPERING = {
  entries: [
    "UPDATE ledger.entries SET amount_minor = amount_minor + 1",
    "DELETE FROM ledger.entries",
    "TRUNCATE ledger.entries CASCADE",
  ],
  transaction_status_history: [
    "UPDATE ledger.transaction_status_history SET to_status = 'failed'",
    "DELETE FROM ledger.transaction_status_history",
    "TRUNCATE ledger.transaction_status_history",
  ],
  // Accounts and transactions change (a status, a balance's version) but are never removed:
  // the journal's rows name them without foreign keys.
  accounts: ["DELETE FROM ledger.accounts", "TRUNCATE ledger.accounts CASCADE"],
  transactions: ["DELETE FROM ledger.transactions", "TRUNCATE ledger.transactions CASCADE"],
};

const failure = (client: { query(text: string): Promise<unknown> }, text: string) =>
  client.query(text).then(
    () => null,
    (error: { code?: string; message: string }) => ({ code: error.code, message: error.message }),
  );

describe.each(Object.entries(TAMPERING))("%s", (table, statements) => {
  it.each(statements)("the service role may not: %s", async (statement) => {
    expect(await failure(serviceRole, statement)).toMatchObject({
      code: "42501", // insufficient_privilege
      message: expect.stringContaining(`permission denied for table ${table}`),
    });
  });

  it.each(statements)("the trigger refuses even the table owner: %s", async (statement) => {
    await superuser.query("BEGIN");
    try {
      await superuser.query("SET LOCAL ROLE ledger_owner");
      expect(await failure(superuser, statement)).toMatchObject({
        code: "23001", // restrict_violation, raised by the trigger
        message: expect.stringContaining(
          table === "accounts" || table === "transactions" ? "never deleted" : "append-only",
        ),
      });
    } finally {
      await superuser.query("ROLLBACK");
    }
  });
});

it("still holds every row it held", async () => {
  const counts = await ledger.admin.one(sql.unsafe`
    SELECT (SELECT count(*) FROM ledger.entries WHERE transaction_id = ${transactionId}) AS entries,
           (SELECT count(*) FROM ledger.transaction_status_history WHERE transaction_id = ${transactionId}) AS history`);
  expect(counts).toEqual({ entries: "2", history: "1" });
});
