import { afterAll, beforeAll, expect, it } from "@jest/globals";
import fc from "fast-check";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "@money/db";
import { findCurrency, formatAmount, parseAmount } from "@money/money";
import { AccountType } from "@money/proto/ledger/v1/ledger_pb";
import { key, LedgerHarness } from "./support/ledger-harness.js";

/*
 * Random sequences of transfers, holds, posts, voids and reversals against
 * the running service. After every step, whatever succeeded or was refused:
 * debits equal credits, no flagged account is past its limit, every balance
 * row equals the sum of its entries and open holds, and no transaction is
 * reversed past its amount. Refusals must be the domain's own, never a bug.
 */

let ledger: LedgerHarness;
beforeAll(async () => {
  ledger = await LedgerHarness.start("invariants");
});
afterAll(async () => ledger?.stop());

type Step =
  | { op: "transfer"; from: number; to: number; cents: number }
  | { op: "hold"; from: number; to: number; cents: number; timeoutSeconds: number }
  | { op: "post"; pick: number; part: number }
  | { op: "void"; pick: number }
  | { op: "reverse"; pick: number; part: number };

const ACCOUNTS = 4;
const account = fc.nat({ max: ACCOUNTS - 1 });
const cents = fc.integer({ min: 1, max: 4_000 });
/** Fraction of what is left, in percent; 100 means "all of it" (an empty amount). */
const part = fc.integer({ min: 1, max: 100 });

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({ op: fc.constant("transfer" as const), from: account, to: account, cents }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant("hold" as const),
      from: account,
      to: account,
      cents,
      timeoutSeconds: fc.constantFrom(1, 600),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant("post" as const), pick: fc.nat(), part }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("void" as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("reverse" as const), pick: fc.nat(), part }), weight: 2 },
);

/** Refusals a random but well-formed request may meet; anything else is a bug. */
const EXPECTED_REFUSALS = new Set([
  "INSUFFICIENT_FUNDS",
  "EXCEEDS_DEBITS",
  "DUPLICATE_LEG_ACCOUNT",
  "PENDING_NOT_OPEN",
  "PENDING_EXPIRED",
  "REVERSAL_EXCEEDS_ORIGINAL",
  "NOT_REVERSIBLE",
]);

const EUR = findCurrency("EUR")!;
const euros = (minor: bigint) => formatAmount(minor, EUR);
/** Minor units of an amount the ledger sent (never through a number). */
function minorOf(amount: string): bigint {
  const parsed = parseAmount(amount, EUR, { allowZero: true });
  if (!parsed.ok) throw new Error(`the ledger sent an amount that is not EUR: ${amount} (${parsed.problem})`);
  return parsed.minor;
}
/** `part` percent of `minor`, rounded down, at least one cent. */
const percentOf = (minor: bigint, part: number) => {
  const share = (minor * BigInt(part)) / 100n;
  return share > 1n ? share : 1n;
};

async function openBooks(): Promise<string[]> {
  const admin = ledger.adminClient;
  const cash = await ledger.openAccount({ type: AccountType.ASSET, ownerRef: "bank" });
  const alice = await ledger.openAccount({ debitsMustNotExceedCredits: true });
  const bob = await ledger.openAccount({ debitsMustNotExceedCredits: true, overdraftLimit: "5.00" });
  const float = await ledger.openAccount({ type: AccountType.ASSET, creditsMustNotExceedDebits: true });
  for (const to of [alice, bob]) {
    await admin.transfer({
      idempotencyKey: key(),
      fromAccountId: cash.id,
      toAccountId: to.id,
      amount: "30.00",
    });
  }
  await admin.transfer({
    idempotencyKey: key(),
    fromAccountId: float.id,
    toAccountId: alice.id,
    amount: "10.00",
  });
  return [cash.id, alice.id, bob.id, float.id];
}

async function run(step: Step, accounts: string[], posted: string[], pending: string[]): Promise<void> {
  const admin = ledger.adminClient;
  const pick = (list: string[], n: number) => list[n % list.length];
  switch (step.op) {
    case "transfer": {
      const { transaction } = await admin.transfer({
        idempotencyKey: key(),
        fromAccountId: accounts[step.from]!,
        toAccountId: accounts[step.to]!,
        amount: euros(BigInt(step.cents)),
      });
      posted.push(transaction!.id);
      return;
    }
    case "hold": {
      const { transaction } = await admin.createPending({
        idempotencyKey: key(),
        debitAccountId: accounts[step.from]!,
        creditAccountId: accounts[step.to]!,
        amount: euros(BigInt(step.cents)),
        timeoutSeconds: BigInt(step.timeoutSeconds),
      });
      pending.push(transaction!.id);
      return;
    }
    case "post": {
      const id = pick(pending, step.pick);
      if (!id) return;
      const held = (await admin.getTransaction({ transactionId: id })).transaction!.hold!;
      const amount = step.part === 100 ? "" : euros(percentOf(minorOf(held.amount), step.part));
      await admin.postPending({ idempotencyKey: key(), transactionId: id, amount });
      posted.push(id);
      return;
    }
    case "void": {
      const id = pick(pending, step.pick);
      if (!id) return;
      await admin.voidPending({ idempotencyKey: key(), transactionId: id, reason: "property test" });
      return;
    }
    case "reverse": {
      const id = pick(posted, step.pick);
      if (!id) return;
      const t = (await admin.getTransaction({ transactionId: id })).transaction!;
      const left = minorOf(t.amount) - minorOf(t.reversedAmount);
      const amount = step.part === 100 || left <= 0n ? "" : euros(percentOf(left, step.part));
      await admin.reverseTransaction({
        idempotencyKey: key(),
        transactionId: id,
        amount,
        reason: "property test",
      });
      return;
    }
  }
}

async function expectInvariants(): Promise<void> {
  const breaches = await ledger.admin.one(sql.unsafe`
    SELECT
      (SELECT count(*) FROM ledger.balances b JOIN ledger.accounts a ON a.id = b.account_id
        WHERE a.debits_must_not_exceed_credits
          AND b.posted_debits_minor + b.pending_debits_minor > b.posted_credits_minor + coalesce(a.overdraft_limit_minor, 0)
      ) AS past_debit_limit,
      (SELECT count(*) FROM ledger.balances b JOIN ledger.accounts a ON a.id = b.account_id
        WHERE a.credits_must_not_exceed_debits
          AND b.posted_credits_minor + b.pending_credits_minor > b.posted_debits_minor + coalesce(a.overdraft_limit_minor, 0)
      ) AS past_credit_limit,
      (SELECT count(*) FROM ledger.transactions WHERE reversed_minor > coalesce(amount_minor, 0)) AS over_reversed,
      (SELECT count(*) FROM ledger.transactions o WHERE o.reversed_minor <>
        (SELECT coalesce(sum(r.amount_minor), 0) FROM ledger.transactions r WHERE r.reverses_transaction_id = o.id)
      ) AS reversed_total_drift
  `);
  expect(breaches).toEqual({
    past_debit_limit: "0",
    past_credit_limit: "0",
    over_reversed: "0",
    reversed_total_drift: "0",
  });
  await ledger.expectBooksBalance();
}

it("keeps the books balanced through any sequence of operations", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 20 }), async (steps) => {
      const accounts = await openBooks();
      const posted: string[] = [];
      const pending: string[] = [];
      for (const s of steps) {
        try {
          await run(s, accounts, posted, pending);
        } catch (error) {
          if (!(error instanceof ConnectError)) throw error;
          const reason = error.metadata.get("error-reason") ?? `${Code[error.code]} without a reason`;
          if (!EXPECTED_REFUSALS.has(reason))
            throw new Error(`${JSON.stringify(s)} was refused: ${error.rawMessage}`, { cause: error });
        }
        await expectInvariants();
      }
    }),
    { numRuns: 12, endOnFailure: true },
  );
}, 240_000);
