import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "@money/db";
import { findCurrency, formatAmount } from "@money/money";
import type { TransferResponse } from "@money/proto/ledger/v1/ledger_pb";
import { expectRefusal, key, LedgerHarness } from "./support/ledger-harness.js";

/*
 * Concurrent Transfer calls of one caller are written together (see
 * src/rpc/transfer-group-commit.ts). Whatever else shares its group, each
 * call must get the answer it would have got alone.
 */

const EUR = findCurrency("EUR")!;

type Settled = { response?: TransferResponse; error?: ConnectError };

let ledger: LedgerHarness;
beforeAll(async () => {
  ledger = await LedgerHarness.start("group_commit");
});
afterAll(async () => ledger?.stop());

describe("Transfer calls arriving together", () => {
  it("each get their own answer: fresh ones post, a replay replays, reuse, refusals and bad input are refused", async () => {
    const payers = await Promise.all(Array.from({ length: 20 }, () => ledger.fundedAccount("10.00")));
    const payee = await ledger.openAccount();
    // Distinct payees: calls naming a common account queue on its mutex instead of sharing a group.
    const payees = await Promise.all(payers.map(() => ledger.openAccount()));
    const poor = await ledger.fundedAccount("10.00");
    const client = ledger.adminClient;

    const replayed = { idempotencyKey: key(), fromAccountId: poor.id, toAccountId: payee.id, amount: "1.00" };
    const first = await client.transfer(replayed);
    const reused = { idempotencyKey: key(), fromAccountId: poor.id, toAccountId: payee.id, amount: "2.00" };
    await client.transfer(reused);
    const twice = {
      idempotencyKey: key(),
      fromAccountId: payers[0]!.id,
      toAccountId: payee.id,
      amount: "0.50",
    };

    const fresh = payers.slice(1).map((payer, i) => ({
      idempotencyKey: key(),
      fromAccountId: payer.id,
      toAccountId: payees[i + 1]!.id,
      amount: formatAmount(100n + BigInt(i), EUR),
    }));
    const settle = (call: Promise<TransferResponse>): Promise<Settled> =>
      call.then(
        (response) => ({ response }),
        (error: unknown) => ({ error: error as ConnectError }),
      );
    const [freshOutcomes, replay, reuse, short, bad, twiceA, twiceB] = await Promise.all([
      Promise.all(fresh.map((request) => client.transfer(request))),
      settle(client.transfer(replayed)),
      settle(client.transfer({ ...reused, amount: "3.00" })),
      settle(
        client.transfer({
          idempotencyKey: key(),
          fromAccountId: poor.id,
          toAccountId: payee.id,
          amount: "50.00",
        }),
      ),
      settle(
        client.transfer({
          idempotencyKey: key(),
          fromAccountId: "nope",
          toAccountId: payee.id,
          amount: "1.00",
        }),
      ),
      settle(client.transfer(twice)),
      settle(client.transfer(twice)),
    ]);

    // Fresh calls: each posted its own amount, and reports its own accounts' balances after it.
    freshOutcomes.forEach((response, i) => {
      const transaction = response.transaction!;
      expect(transaction.amount).toBe(fresh[i]!.amount);
      expect(transaction.entries.map((e) => e.accountId).sort()).toEqual(
        [fresh[i]!.fromAccountId, fresh[i]!.toAccountId].sort(),
      );
      const payer = response.balances.find((b) => b.accountId === fresh[i]!.fromAccountId)!;
      expect(payer.posted).toBe(formatAmount(1_000n - (100n + BigInt(i)), EUR));
    });
    // A replay answers with the first response; a reused key and a short account are refused.
    expect(replay).toEqual({ response: first });
    await expectRefusal(Promise.reject(reuse.error), Code.AlreadyExists, "IDEMPOTENCY_KEY_REUSED");
    await expectRefusal(Promise.reject(short.error), Code.FailedPrecondition, "INSUFFICIENT_FUNDS");
    await expectRefusal(Promise.reject(bad.error), Code.InvalidArgument, "INVALID_ARGUMENT");
    // One key sent twice at once: one posting, both calls answered with it.
    expect(twiceA.response?.transaction?.id).toBeDefined();
    expect(twiceB.response?.transaction?.id).toBe(twiceA.response?.transaction?.id);

    const ids = freshOutcomes.map((r) => r.transaction!.id);
    const written = await ledger.admin.one(sql.unsafe`
      SELECT count(*)::int AS transactions, count(DISTINCT xmin::text)::int AS database_transactions
      FROM ledger.transactions WHERE id = ANY(${sql.array(ids, "uuid")})`);
    expect(written["transactions"]).toBe(19);
    // They were written by fewer database transactions than calls: they shared.
    expect(written["database_transactions"]).toBeLessThan(19);
    const postings = await ledger.admin.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM ledger.transactions t JOIN ledger.entries e ON e.transaction_id = t.id
      WHERE e.account_id = ${payers[0]!.id} AND e.direction = 'debit'`);
    expect(postings).toBe(1);
    const poorBalance = (await client.getBalance({ accountId: poor.id })).balance!;
    expect(poorBalance.posted).toBe("7.00");
    await ledger.expectBooksBalance();
  });

  it("write each caller's calls in groups of their own, callers side by side", async () => {
    const callers = [ledger.adminClient, ledger.as("service", "payments")];
    const payers = await Promise.all(Array.from({ length: 30 }, () => ledger.fundedAccount("10.00")));
    const payees = await Promise.all(payers.map(() => ledger.openAccount()));
    const requests = payers.map((payer, i) => ({
      caller: callers[i % 2]!,
      request: { idempotencyKey: key(), fromAccountId: payer.id, toAccountId: payees[i]!.id, amount: "1.00" },
    }));
    const answers = await Promise.all(requests.map(({ caller, request }) => caller.transfer(request)));

    const byCaller = await ledger.admin.any(sql.unsafe`
      SELECT performed_by, count(*)::int AS transactions, count(DISTINCT xmin::text)::int AS database_transactions
      FROM ledger.transactions WHERE id = ANY(${sql.array(
        answers.map((a) => a.transaction!.id),
        "uuid",
      )}) GROUP BY performed_by ORDER BY performed_by`);
    expect(byCaller.map((r) => [r["performed_by"], r["transactions"]])).toEqual([
      ["admin-1", 15],
      ["payments", 15],
    ]);
    // No database transaction wrote calls of both callers.
    const shared = await ledger.admin.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM (
        SELECT xmin::text FROM ledger.transactions WHERE id = ANY(${sql.array(
          answers.map((a) => a.transaction!.id),
          "uuid",
        )}) GROUP BY xmin::text HAVING count(DISTINCT performed_by) > 1) both_callers`);
    expect(shared).toBe(0);
    await ledger.expectBooksBalance();
  });

  it("answer one key given at once for two different transfers as alone: one posts, the other is refused", async () => {
    const payers = await Promise.all(Array.from({ length: 8 }, () => ledger.fundedAccount("10.00")));
    const payees = await Promise.all(payers.map(() => ledger.openAccount()));
    const client = ledger.adminClient;
    const shared = key();
    const settle = (call: Promise<TransferResponse>): Promise<Settled> =>
      call.then(
        (response) => ({ response }),
        (error: unknown) => ({ error: error as ConnectError }),
      );
    // Two calls share a key on different accounts; six more fresh calls arrive with them.
    const outcomes = await Promise.all(
      payers.map((payer, i) =>
        settle(
          client.transfer({
            idempotencyKey: i < 2 ? shared : key(),
            fromAccountId: payer.id,
            toAccountId: payees[i]!.id,
            amount: "1.00",
          }),
        ),
      ),
    );
    const [first, second, ...fresh] = outcomes;
    for (const outcome of fresh) expect(outcome.response?.transaction?.amount).toBe("1.00");
    expect([first, second].filter((o) => o!.response)).toHaveLength(1);
    const refused = [first, second].find((o) => o!.error)!;
    await expectRefusal(Promise.reject(refused.error), Code.AlreadyExists, "IDEMPOTENCY_KEY_REUSED");
    // Money moved for the posted one only.
    const posted = await Promise.all(
      payers.slice(0, 2).map(async (p) => (await client.getBalance({ accountId: p.id })).balance!.posted),
    );
    expect(posted.sort()).toEqual(["10.00", "9.00"]);
  });
});
