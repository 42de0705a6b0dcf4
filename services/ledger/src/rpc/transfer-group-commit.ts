import { create } from "@bufbuild/protobuf";
import { type DatabasePool, type PipelinedConnections, type PipelinedTransaction } from "@money/db";
import {
  TransferRequestSchema,
  TransferResponseSchema,
  type TransferRequest,
  type TransferResponse,
} from "@money/proto/ledger/v1/ledger_pb";
import { encodeStoredResponse, hashRequest, type Caller } from "@money/rpc";
import { recordedKeysAmong, type IdempotencyRecord } from "../db/idempotency-keys-table.js";
import { KEYS_TAKEN } from "../db/journal-writes.js";
import type { LedgerEventSink } from "../domain/ledger-events.js";
import { LedgerError } from "../domain/ledger-error.js";
import { Book } from "../domain/posting/book.js";
import { Journal } from "../domain/posting/journal.js";
import type { ShapedTransaction } from "../domain/posting/new-transaction.js";
import type { TransactionRecord } from "../domain/transactions/transaction.js";
import { postShapedTransfer, postTransfer, shapeTransfer } from "../domain/posting/post-transfer.js";
import { idempotencyScope, WRITE_RETRIES, type IdempotentWrite } from "./idempotent-write.js";
import { accountBalanceToWire, transactionToWire } from "./transaction-mapper.js";

export interface GroupCommitOptions {
  /** Most transfers written in one database transaction. */
  maxGroupSize?: number;
  /**
   * Most group transactions in flight at once, of all callers; a caller has at most one. Calls
   * arriving meanwhile wait for the next group.
   */
  maxGroupsInFlight?: number;
}

interface Pending {
  caller: Caller;
  request: TransferRequest;
  resolve: (response: TransferResponse) => void;
  reject: (error: unknown) => void;
}

/** One call's part of a group, once shaped and hashed. */
interface Member {
  pending: Pending;
  shaped: ShapedTransaction;
  scope: string;
  requestHash: Buffer;
}

/**
 * Group commit for Transfer: concurrent calls of one caller are queued for
 * the rest of the event loop turn and written together, in one serializable
 * database transaction of two statements on a pipelined connection (the
 * locks sent with BEGIN, one write of everything sent with COMMIT: two round
 * trips), instead of one transaction each. Each call still gets its own
 * answer:
 *
 * - Every call has already taken its accounts' KeyedMutex (the handler
 *   submits inside it), so the members of a group name disjoint accounts, and
 *   the group itself never waits on a mutex: no cycle can form.
 * - The group locks all its members' balance rows FOR UPDATE in one
 *   statement, in account id order, and posts each member against the locked
 *   balances in memory (the Book), as a non-atomic batch does: a refused
 *   member leaves the book untouched, costs the others nothing, and is left
 *   out of the group.
 * - Each posted member's idempotency key is recorded with its own response,
 *   in the group's write, in runIdempotent's table and format. A key given
 *   twice in the group is posted once; its later calls go alone after the
 *   group. If a key is already taken (a replay), the write fails and the
 *   group rolls back whole; the calls whose keys were taken go alone, and the
 *   rest is written once more.
 * - Every call that was refused, left out or rolled back runs again alone
 *   through the ordinary idempotent write, which refuses, replays or posts it
 *   exactly as it would have without the group. So a refusal, a replay and a
 *   conflict mean the same as before; only the fresh, valid calls share.
 */
export class TransferGroupCommit {
  private readonly queues = new Map<string, Pending[]>();
  /** The group keys (callers) with a group transaction in flight. */
  private readonly writing = new Set<string>();
  private flushScheduled = false;
  private readonly maxGroupSize: number;
  private readonly maxGroupsInFlight: number;

  constructor(
    private readonly pool: DatabasePool,
    private readonly connections: PipelinedConnections,
    private readonly events: LedgerEventSink,
    private readonly write: IdempotentWrite,
    options: GroupCommitOptions = {},
  ) {
    this.maxGroupSize = options.maxGroupSize ?? 256;
    this.maxGroupsInFlight = options.maxGroupsInFlight ?? 4;
  }

  /**
   * Posts one Transfer call, within a group when others are waiting. The
   * caller must hold the KeyedMutex of the request's two accounts until the
   * promise settles.
   *
   * Errors: those of postTransfer and of runIdempotent, as for a call alone.
   */
  submit(caller: Caller, request: TransferRequest): Promise<TransferResponse> {
    return new Promise((resolve, reject) => {
      const group = groupKeyOf(caller);
      let queue = this.queues.get(group);
      if (!queue) this.queues.set(group, (queue = []));
      queue.push({ caller, request, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** The ordinary path: one call, one idempotent transaction. */
  alone(caller: Caller, request: TransferRequest): Promise<TransferResponse> {
    return this.write(
      {
        method: "Transfer",
        requestSchema: TransferRequestSchema,
        request,
        responseSchema: TransferResponseSchema,
        caller,
      },
      async (tx) => {
        const posted = await postTransfer(tx, { caller, events: this.events }, request, "transfer");
        return create(TransferResponseSchema, {
          transaction: transactionToWire(posted.transaction),
          balances: posted.balances.map(accountBalanceToWire),
        });
      },
    );
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // The rest of this turn's I/O callbacks (other calls read from the same
    // socket) run first, so they join the group.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /**
   * Starts a group for each caller with calls queued and no group in flight, while fewer than
   * maxGroupsInFlight are. Why one group per caller at a time: a caller's calls that arrive
   * while its group is written then wait and form one large group, instead of a few of them
   * starting a small group beside it at once (its round trips and commit cost as much as a
   * large group's); measured at 64 callers, that cut the ledger's and Postgres's CPU per
   * transfer by a quarter. Different callers' groups still run side by side.
   */
  private flush(): void {
    for (const [group, queue] of this.queues) {
      if (this.writing.size >= this.maxGroupsInFlight) return;
      if (this.writing.has(group)) continue;
      const members = queue.splice(0, this.maxGroupSize);
      if (queue.length === 0) this.queues.delete(group);
      this.writing.add(group);
      void this.run(members).finally(() => {
        this.writing.delete(group);
        if (this.queues.size > 0) this.scheduleFlush();
      });
    }
  }

  private async run(calls: Pending[]): Promise<void> {
    if (calls.length === 1) return this.settleAlone(calls[0]!);
    const members: Member[] = [];
    for (const pending of calls) {
      const member = memberOf(pending);
      if (member) members.push(member);
      else this.settleAlone(pending);
    }
    // A key given twice in the group: its later calls go alone once the group is over, where
    // they replay the first (or are refused), as they would after it without the group.
    const repeats: Member[] = [];
    try {
      await this.postGroup(withoutRepeatedKeys(members, (repeat) => repeats.push(repeat)));
    } finally {
      for (const repeat of repeats) this.settleAlone(repeat.pending);
    }
  }

  /** Writes the group, answers its posted members, and sends every other member alone. */
  private async postGroup(members: Member[]): Promise<void> {
    let remaining = members;
    let answered: { member: Member; response: TransferResponse }[];
    for (let attempt = 0; ; attempt++) {
      try {
        answered = await this.commit(remaining);
        break;
      } catch (error) {
        if (isKeysTaken(error) && attempt === 0) {
          // Replays go alone (they replay); the rest of the group tries once more.
          const taken = await recordedKeysAmong(
            this.pool,
            remaining.map((m) => ({ scope: m.scope, key: m.pending.request.idempotencyKey })),
          ).catch(() => null);
          if (taken) {
            const isTaken = (m: Member) => taken.has(`${m.scope} ${m.pending.request.idempotencyKey}`);
            for (const member of remaining.filter(isTaken)) this.settleAlone(member.pending);
            remaining = remaining.filter((m) => !isTaken(m));
            if (remaining.length > 0) continue;
            return;
          }
        }
        // Keys taken twice in a row, or the shared transaction failed otherwise (conflicts beyond
        // the retries, a lost connection): nothing committed, and each call tries again on its
        // own, so that none is answered for another's sake.
        for (const member of remaining) this.settleAlone(member.pending);
        return;
      }
    }
    const posted = new Set(answered.map((a) => a.member));
    for (const { member, response } of answered) member.pending.resolve(response);
    for (const member of remaining) if (!posted.has(member)) this.settleAlone(member.pending);
  }

  /**
   * Posts what it can of the group in one serializable transaction of two round trips on a
   * pipelined connection (the locks sent with BEGIN, the write with COMMIT); returns the posted
   * members with their answers. A serialization failure runs it again.
   */
  private commit(members: readonly Member[]): Promise<{ member: Member; response: TransferResponse }[]> {
    return this.connections.transaction((tx) => this.post(tx, members), { retries: WRITE_RETRIES });
  }

  private async post(
    tx: PipelinedTransaction,
    members: readonly Member[],
  ): Promise<{ member: Member; response: TransferResponse }[]> {
    const caller = members[0]!.pending.caller;
    const book = await Book.lock(
      tx,
      members.flatMap((m) => m.shaped.legs.map((leg) => leg.accountId)),
    );
    const journal = new Journal(book, { caller, events: this.events });
    const answered: { member: Member; response: TransferResponse }[] = [];
    for (const member of members) {
      let transaction: TransactionRecord;
      try {
        transaction = postShapedTransfer(journal, member.shaped, "transfer");
      } catch (error) {
        if (error instanceof LedgerError) continue; // answered alone, after the group
        throw error;
      }
      const balances = [...new Set(member.shaped.legs.map((leg) => leg.accountId))]
        .sort()
        .map((id) => book.get(id));
      answered.push({
        member,
        response: create(TransferResponseSchema, {
          transaction: transactionToWire(transaction),
          balances: balances.map(accountBalanceToWire),
        }),
      });
    }
    if (answered.length === 0) return answered;
    const idempotencyKeys: IdempotencyRecord[] = answered.map(({ member, response }) => ({
      scope: member.scope,
      key: member.pending.request.idempotencyKey,
      requestHash: member.requestHash,
      response: encodeStoredResponse(TransferResponseSchema, response),
    }));
    // One statement writes the journal, its events and the keys, with COMMIT behind it; a
    // key taken fails it (KEYS_TAKEN), and nothing commits.
    await journal.commit(tx, { idempotencyKeys, andCommit: true });
    return answered;
  }

  private settleAlone(pending: Pending): void {
    this.alone(pending.caller, pending.request).then(pending.resolve, pending.reject);
  }
}

/**
 * A call ready to join a group, or null when it must go alone: a missing or
 * over-long key, or input the ordinary path refuses (it refuses it the same
 * way, with the key's replay first).
 */
function memberOf(pending: Pending): Member | null {
  const key = pending.request.idempotencyKey;
  // runIdempotent's bounds on a key; it refuses the others itself.
  if (!key || key.length > 200) return null;
  let shaped: ShapedTransaction;
  try {
    shaped = shapeTransfer(pending.request);
  } catch {
    return null;
  }
  return {
    pending,
    shaped,
    scope: idempotencyScope("Transfer", pending.caller),
    requestHash: hashRequest(TransferRequestSchema, pending.request),
  };
}

/** Calls share a group only when everything recorded about who acted is the same. */
function groupKeyOf(caller: Caller): string {
  return JSON.stringify([
    caller.principalId,
    caller.role,
    caller.merchantId ?? null,
    caller.actingDeviceId ?? null,
    caller.ip ?? null,
    caller.userAgent ?? null,
  ]);
}

/** The group's write found a key taken, and nothing committed. */
const isKeysTaken = (error: unknown) => (error as { code?: unknown } | null)?.code === KEYS_TAKEN;

/** `members` with each key once; a later call with a key seen goes to `repeat` (alone, it replays the first). */
function withoutRepeatedKeys(members: readonly Member[], repeat: (member: Member) => void): Member[] {
  const seen = new Set<string>();
  return members.filter((m) => {
    const id = `${m.scope} ${m.pending.request.idempotencyKey}`;
    if (seen.has(id)) {
      repeat(m);
      return false;
    }
    seen.add(id);
    return true;
  });
}
