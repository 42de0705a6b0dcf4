import { randomUUID } from "node:crypto";
import { isRetryableConflict, type PipelinedConnections, type PipelinedTransaction } from "@money/db";
import type { Actor, AuditEntry, NewEvent } from "@money/kafka";
import type { DescMessage } from "@bufbuild/protobuf";
import type { Logger } from "@money/rpc";
import type { Currency } from "@money/money";
import {
  BATCH_KEY_TAKEN,
  lookUpBatch,
  writeBatchAndCommit,
  type BatchLookup,
} from "../../db/posting-batches.js";
import type { NewLot } from "../../db/lots-table.js";
import { transactionPosted } from "../../events/transaction-posted.js";
import type { Acting } from "../acting.js";
import type { Card } from "../cards/card.js";
import type { Posted } from "../cards/posted.js";
import { addDays, addSeconds } from "../clock.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { assertCardActive } from "../cards/open-card.js";
import { parsePurchase, pointsForPurchase, type EarnPoints } from "../points/earn-points.js";
import { breakdownOf, newLot, pointsAllExpired, type OpenLotSums } from "../points/points-lots.js";
import type { Program } from "../programs/program.js";
import { assertStampAllowed, type AddStamp } from "../stamps/add-stamp.js";
import type { VerifiedPinCache } from "../staff/pin-hash.js";
import { auditEntryOf, transactionOf } from "../transactions/post-transaction.js";
import type { LoyaltyTransaction } from "../transactions/loyalty-transaction.js";

/** An EarnPoints or AddStamp from a terminal, already parsed (see the RPC layer's batchable checks). */
export type BatchablePosting =
  | {
      kind: "earn";
      command: EarnPoints;
      orderReference: string;
      currency: Currency;
      amountMinor: bigint;
    }
  | { kind: "stamp"; command: AddStamp; stamps: number };

/** An EarnPoints the group commit may post; null when its request is malformed (alone refuses it). */
export function batchableEarn(command: EarnPoints): BatchablePosting | null {
  try {
    return { kind: "earn", command, ...parsePurchase(command) };
  } catch (error) {
    if (error instanceof LoyaltyError) return null;
    throw error;
  }
}

/** An AddStamp the group commit may post; null when its request is malformed (alone refuses it). */
export function batchableStamp(command: AddStamp): BatchablePosting | null {
  const stamps = command.stamps || 1;
  if (stamps < 0 || command.orderReference.length > 100 || command.notes.length > 500) return null;
  return { kind: "stamp", command, stamps };
}

/** One call offered to the group commit. */
export interface BatchedCall<Response> {
  posting: BatchablePosting;
  /** Lower-case UUIDs, checked by the caller. */
  cardId: string;
  deviceId: string;
  staffId: string;
  pin: string;
  /** The store the request names ("" for the device's own). */
  storeId: string;
  /** From the verified token. */
  actor: Actor;
  tokenMerchantId: string;
  idempotency: { scope: string; key: string; requestHash: Buffer };
  /** The response to a posting, with its bytes for the idempotency record. */
  respond(posted: Posted): { response: Response; bytes: Uint8Array };
  /**
   * The call on its own, through the one-posting path: for every call the
   * batch does not post (any refusal, anything unusual), and for all of a
   * batch that failed. It is the reference: the batch posts only what it
   * would post, the same way.
   */
  alone(): Promise<Response>;
}

interface Pending {
  call: BatchedCall<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export type GroupCommitDeps = LoyaltyDeps & { pins: VerifiedPinCache };

export interface GroupCommitOptions {
  /** Most postings in one transaction. */
  maxBatch?: number;
  /**
   * While a batch is in flight, another starts only once this many calls
   * wait (else when it ends). Why: every batch pays the same round trips,
   * planning and the relay's pass after its commit, however few postings it
   * carries; at 16 tills, batches that started whenever a slot was free
   * carried about 4 postings, and those of 8 or more cost about a third less
   * Postgres time per posting.
   */
  minBatchWhileBusy?: number;
  /** Where a batch that failed for an unforeseen reason is reported (its calls still run alone). */
  log?: Logger;
}

/**
 * Group commit of terminal postings (EarnPoints, AddStamp): the calls that
 * arrive while earlier batches are in flight are posted together, in one
 * transaction of two statements whatever their number, instead of a dozen
 * statements each: a lookup sent with BEGIN, a write sent with COMMIT, on
 * pipelined connections (two round trips). Each call keeps its own outcome: the batch posts a
 * call only when the one-posting path would post it (device paired and not
 * revoked, PIN verified recently, card active, guards passed, no lots due,
 * no daily cap set, no earlier earn of the order, its program's version in
 * the cache); every other call, and
 * every call of a batch that fails (a key taken meanwhile, a deadlock), runs
 * alone afterwards through that path, which refuses or replays it exactly as
 * it would have. Same READ COMMITTED, same locks: the batch takes its
 * orders' advisory locks, then its cards' row locks in id order. It reads
 * the clock once, before them, so that the same statement can sum the
 * cards' lots for the replies; a posting for which that instant could make
 * a difference (a lot near a boundary, a card posted to meanwhile) runs
 * alone.
 */
export class PostingGroupCommit {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private flushScheduled = false;
  private readonly maxBatch: number;
  private readonly minBatchWhileBusy: number;
  private readonly log: Logger | undefined;

  constructor(
    private readonly connections: PipelinedConnections,
    private readonly deps: GroupCommitDeps,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 64;
    this.minBatchWhileBusy = options.minBatchWhileBusy ?? 8;
    this.log = options.log;
  }

  submit<Response>(call: BatchedCall<Response>): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      this.queue.push({ call, resolve: resolve as (value: unknown) => void, reject });
      this.scheduleFlush();
    });
  }

  /** Whether a batch may start now. */
  private canStart(): boolean {
    // One batch in flight per connection.
    if (this.inFlight >= this.connections.size || this.queue.length === 0) return false;
    return this.inFlight === 0 || this.queue.length >= this.minBatchWhileBusy;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.canStart()) return;
    this.flushScheduled = true;
    // The rest of this turn of the event loop may bring more calls (requests
    // parsed from the same socket reads): they join the same batch.
    setImmediate(() => {
      this.flushScheduled = false;
      while (this.canStart()) {
        const batch = this.queue.splice(0, this.maxBatch);
        this.inFlight++;
        void this.run(batch).finally(() => {
          this.inFlight--;
          this.scheduleFlush();
        });
      }
    });
  }

  private async run(batch: Pending[]): Promise<void> {
    let outcomes: (Outcome | null)[];
    try {
      outcomes = await this.connections.transaction((tx) =>
        postBatch(
          tx,
          this.deps,
          batch.map((p) => p.call),
        ),
      );
    } catch (error) {
      // Nothing of the batch committed; each call's own path decides what it gets.
      // A taken key or order, or a deadlock, is expected; anything else would
      // quietly send every posting the slow way, so it is reported.
      if (!(isKeyTaken(error) || isRetryableConflict(error))) {
        this.log?.error(
          { err: error, postings: batch.length },
          "group commit batch failed; its postings run alone",
        );
      }
      outcomes = batch.map(() => null);
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i];
      if (outcome) pending.resolve(outcome.response);
      else pending.call.alone().then(pending.resolve, pending.reject);
    });
  }
}

interface Outcome {
  response: unknown;
}

/** The write found a key or an order of the batch taken, and the batch rolled back. */
const isKeyTaken = (error: unknown) => (error as { code?: unknown } | null)?.code === BATCH_KEY_TAKEN;

interface Accepted {
  index: number;
  transaction: LoyaltyTransaction;
  card: Card;
  program: Program;
  /** How many of the batch's new lots of this card were posted up to and including this one. */
  newLotsSoFar: number;
}

/**
 * Posts what it can of `calls` in `tx`, and commits; returns each call's
 * response, or null for a call to run alone once the transaction has ended.
 */
async function postBatch(
  tx: PipelinedTransaction,
  deps: GroupCommitDeps,
  calls: readonly BatchedCall<unknown>[],
): Promise<(Outcome | null)[]> {
  // The one instant of the batch, read before its locks so that the lookup
  // can sum the cards' lots at it. A posting whose lots could change state
  // within the next minute, or whose card saw a later posting meanwhile,
  // runs alone instead (its path reads the clock after the lock). No posting
  // waits a minute for its locks (statements time out sooner).
  const at = deps.clock.now();
  const found = await lookUpBatch(
    tx,
    calls.map((c) => ({
      cardId: c.cardId,
      deviceId: c.deviceId,
      staffId: c.staffId,
      order:
        c.posting.kind === "earn"
          ? { merchantId: c.tokenMerchantId, orderReference: c.posting.orderReference }
          : null,
    })),
    at,
    addSeconds(at, 60),
  );

  const cards = new Map<string, Card>();
  const newLots = new Map<string, NewLot[]>();
  const ordersSeen = new Set<string>();
  const keysSeen = new Set<string>();
  const accepted: Accepted[] = [];
  const audit: AuditEntry[] = [];
  const events: NewEvent<DescMessage>[] = [];
  for (const [index, call] of calls.entries()) {
    const lookup = found[index]!;
    const acting = actingOf(call, lookup, deps, at);
    if (!acting || !lookup.card || lookup.programVersion === null || !lotsSettled(lookup, at)) continue;
    const key = `${call.idempotency.scope}\u0000${call.idempotency.key}`;
    if (keysSeen.has(key)) continue;
    const card = cards.get(lookup.card.id) ?? lookup.card;
    if (card.merchantId !== call.tokenMerchantId) continue;
    // Loading a program would cost the batch a round trip: its calls run
    // alone, and the one-posting path loads it for the batches after.
    const program = deps.programs.cachedAt(card.merchantId, lookup.programVersion);
    if (!program || pointsAllExpired(card, program, at)) continue;
    const posting = call.posting;
    let made: { transaction: LoyaltyTransaction; card: Card; lot: NewLot | null } | null;
    if (posting.kind === "earn") {
      const order = `${card.merchantId}\u0000${posting.orderReference}`;
      if (ordersSeen.has(order)) continue;
      made = earnIn(card, program, posting, acting, at);
      if (made) ordersSeen.add(order);
    } else {
      made = stampIn(card, program, posting, acting, at);
    }
    if (!made) continue;
    keysSeen.add(key);
    cards.set(card.id, made.card);
    const lots = newLots.get(card.id) ?? [];
    if (made.lot) lots.push(made.lot);
    newLots.set(card.id, lots);
    accepted.push({
      index,
      transaction: made.transaction,
      card: made.card,
      program,
      newLotsSoFar: lots.length,
    });
    audit.push(auditEntryOf(made.transaction, card, made.card, acting));
    events.push(transactionPosted(made.transaction));
  }
  const outcomes: (Outcome | null)[] = calls.map(() => null);
  if (accepted.length === 0) return outcomes;

  const keys = accepted.map((a) => {
    const call = calls[a.index]!;
    const before = found[a.index]!.lots;
    const lots = newLots.get(a.card.id)!.slice(0, a.newLotsSoFar);
    const points = breakdownOf(a.card, a.program, at, withNewLots(before, lots, at, a.program));
    const { response, bytes } = call.respond({ transaction: a.transaction, card: { card: a.card, points } });
    outcomes[a.index] = { response };
    return { ...call.idempotency, response: bytes };
  });
  // The audit records and events go into the outbox in the write's own statement.
  const outbox = deps.audit.insertFragment(tx, audit, events);
  await writeBatchAndCommit(tx, {
    lots: [...newLots.values()].flat(),
    transactions: accepted.map((a) => a.transaction),
    cards: [...cards.values()],
    idempotencyKeys: keys,
    outbox,
  });
  return outcomes;
}

/**
 * Whether the lookup's lot sums hold for the posting at `at`: no lot due or
 * near a boundary, the card unchanged since the statement's snapshot, and no
 * posting on it later than `at` (the clock was read before the lock).
 */
function lotsSettled(lookup: BatchLookup, at: Date): boolean {
  return (
    !lookup.lotsDueBy &&
    !lookup.lotBoundaryNear &&
    !lookup.changedSinceSnapshot &&
    lookup.card !== null &&
    lookup.card.lastActivityAt <= at &&
    (lookup.card.lastStampAt === null || lookup.card.lastStampAt <= at)
  );
}

/**
 * The Acting the RPC layer's Callers would establish for this terminal
 * call, or null when it would refuse it (or verify the PIN by scrypt).
 */
function actingOf(
  call: BatchedCall<unknown>,
  lookup: BatchLookup,
  deps: { pins: VerifiedPinCache },
  at: Date,
): Acting | null {
  const { device, staff } = lookup;
  if (!device || device.revoked || device.merchantId !== call.tokenMerchantId) return null;
  if (call.storeId && call.storeId !== device.store.id) return null;
  if (!staff || staff.merchantId !== device.merchantId) return null;
  if (staff.pinLockedUntil !== null && staff.pinLockedUntil > at) return null; // as isPinLocked
  if (!deps.pins.has(staff.id, staff.pinVersion, call.pin, at.getTime())) return null;
  return {
    actor: call.actor,
    merchantId: device.merchantId,
    deviceId: device.id,
    staffId: staff.id,
    store: device.store,
  };
}

/** Whether a daily cap counts this posting (chargeDailyCaps would write usage). */
function capped(program: Program, charge: { stamps: number; points: bigint }): boolean {
  const caps = program.dailyCaps;
  const chargeable = (stampCap: number, pointCap: bigint) =>
    (charge.stamps > 0 && stampCap > 0) || (charge.points > 0n && pointCap > 0n);
  return (
    chargeable(caps.stampsPerCard, caps.pointsPerCard) ||
    chargeable(caps.stampsPerDevice, caps.pointsPerDevice)
  );
}

/** earnPoints' posting, when it would post without refusal, caps or debt; else null. */
function earnIn(
  card: Card,
  program: Program,
  posting: Extract<BatchablePosting, { kind: "earn" }>,
  acting: Acting,
  at: Date,
): { transaction: LoyaltyTransaction; card: Card; lot: NewLot | null } | null {
  let points: bigint;
  try {
    assertCardActive(card);
    points = pointsForPurchase(program, acting.store, posting.currency, posting.amountMinor);
  } catch (error) {
    if (error instanceof LoyaltyError) return null;
    throw error;
  }
  if (capped(program, { stamps: 0, points }) || (points > 0n && card.pointsDebt > 0n)) return null;
  const id = randomUUID();
  const credited =
    points > 0n ? newLot(card, program, { transactionId: id, points, at, fromPurchase: true }) : null;
  const { transaction, card: after } = transactionOf(
    {
      id,
      type: "points_earned",
      before: card,
      after: { ...(credited?.card ?? card), lastActivityAt: at },
      at,
      details: {
        orderReference: posting.orderReference,
        currency: posting.currency,
        purchaseAmountMinor: posting.amountMinor,
        notes: posting.command.notes,
        lotId: credited?.lot.id ?? null,
      },
    },
    acting,
  );
  return { transaction, card: after, lot: credited?.lot ?? null };
}

/** addStamp's posting, when it would post without refusal or caps; else null. */
function stampIn(
  card: Card,
  program: Program,
  posting: Extract<BatchablePosting, { kind: "stamp" }>,
  acting: Acting,
  at: Date,
): { transaction: LoyaltyTransaction; card: Card; lot: null } | null {
  try {
    assertStampAllowed(card, program, posting.stamps, at);
  } catch (error) {
    if (error instanceof LoyaltyError) return null;
    throw error;
  }
  if (capped(program, { stamps: posting.stamps, points: 0n })) return null;
  const { transaction, card: after } = transactionOf(
    {
      type: "stamp_added",
      before: card,
      after: { ...card, stamps: card.stamps + posting.stamps, lastStampAt: at, lastActivityAt: at },
      at,
      details: { orderReference: posting.command.orderReference || null, notes: posting.command.notes },
    },
    acting,
  );
  return { transaction, card: after, lot: null };
}

/** The open-lot sums of a card before the batch, plus the lots the batch has given it so far. */
function withNewLots(before: OpenLotSums, lots: readonly NewLot[], at: Date, program: Program): OpenLotSums {
  const soonUntil = addDays(at, program.expiringSoonDays);
  let { unlocked, locked, expiringSoon } = before;
  for (const lot of lots) {
    if (lot.remainingPoints <= 0n || (lot.expiresAt !== null && lot.expiresAt <= at)) continue;
    if (lot.availableAt <= at) unlocked += lot.remainingPoints;
    else locked += lot.remainingPoints;
    if (lot.expiresAt !== null && lot.expiresAt <= soonUntil) expiringSoon += lot.remainingPoints;
  }
  return { unlocked, locked, expiringSoon };
}
