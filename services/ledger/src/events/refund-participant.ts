import { create } from "@bufbuild/protobuf";
import type { DatabaseTransactionConnection } from "@money/db";
import { formatAmount } from "@money/money";
import {
  LedgerReversalResultSchema,
  LedgerStatusResultSchema,
  Participant,
  type RefundSagaCommand,
} from "@money/proto/refunds/v1/saga_pb";
import { startRefundParticipant, type StepResult } from "@money/refunds/saga-participant";
import { actorOf, type Caller } from "@money/rpc";
import type { ServiceDeps } from "@money/runtime";
import type { LedgerEventSink, StampedEvent, WriteContext } from "../domain/ledger-events.js";
import { LedgerError } from "../domain/ledger-error.js";
import { transitionTransaction } from "../domain/lifecycle/transition-transaction.js";
import { cancelReversal } from "../domain/reversal/cancel-reversal.js";
import { reverseTransaction } from "../domain/reversal/reverse-transaction.js";
import { getTransaction } from "../domain/transactions/get-transaction.js";
import type { TransactionRecord } from "../domain/transactions/transaction.js";
import { OutboxEventSink } from "./outbox-event-sink.js";

/**
 * The ledger's part in the refund saga, in the ledger's process: consumes the
 * refunds service's commands addressed to the ledger (refunds.commands),
 * performs each with the ledger's own use cases in the inbox's transaction,
 * and replies through the ledger's outbox (refunds.replies). Each step takes
 * effect at most once per saga, however often its command arrives.
 *
 * Steps: mark the original REFUND_PROCESSING (from SETTLED, through
 * REFUND_INITIATED); post the reversal; complete (REFUNDED when all of it is
 * reversed, SETTLED when some is left); and the compensations: cancel the
 * reversal, and put the original back to SETTLED.
 */
export async function startLedgerRefundParticipant(deps: ServiceDeps): Promise<{ stop(): Promise<void> }> {
  const outbox = new OutboxEventSink(deps.audit);
  return startRefundParticipant(deps, {
    participant: Participant.LEDGER,
    consumer: "ledger.refund-participant",
    // Optimistic locks are not used by the saga's postings; a conflict is still "later", never "no".
    transientReasons: ["ACCOUNT_VERSION_MISMATCH"],
    openBatch: () => {
      const events = new BatchEvents(outbox);
      return {
        perform: async (tx, command) => {
          const step = events.ofStep();
          const result = await performStep(tx, { caller: sagaCaller(command), events: step }, command);
          step.keep();
          return result;
        },
        finish: (tx) => events.write(tx),
      };
    },
  });
}

/**
 * The events of a batch's steps, written to the outbox together when the
 * batch's steps are done (in its transaction, before the replies): a
 * statement or two per batch instead of one per status change. The events
 * of a step that did not take effect (its savepoint rolled back) are dropped
 * with it.
 */
class BatchEvents {
  private readonly kept: { events: readonly StampedEvent[]; caller: Caller }[] = [];

  constructor(private readonly outbox: LedgerEventSink) {}

  /** A sink for one step's events: kept for the batch once `keep` is called. */
  ofStep(): LedgerEventSink & { keep(): void } {
    const written: { events: readonly StampedEvent[]; caller: Caller }[] = [];
    return {
      write: async (_tx, events, caller) => {
        written.push({ events, caller });
      },
      insertFragment: (_tx, events, caller) => {
        written.push({ events, caller });
        return null;
      },
      keep: () => this.kept.push(...written),
    };
  }

  /**
   * Writes the kept events in order; one write for each run of them whose
   * callers act as the same principal (the outbox records the actor, not the
   * saga step's request id): in a batch of saga steps, one.
   */
  async write(tx: DatabaseTransactionConnection): Promise<void> {
    let run: { events: StampedEvent[]; caller: Caller } | undefined;
    for (const { events, caller } of this.kept) {
      if (run && sameActor(run.caller, caller)) {
        run.events.push(...events);
        continue;
      }
      if (run) await this.outbox.write(tx, run.events, run.caller);
      run = { events: [...events], caller };
    }
    if (run) await this.outbox.write(tx, run.events, run.caller);
  }
}

function sameActor(a: Caller, b: Caller): boolean {
  return JSON.stringify(actorOf(a)) === JSON.stringify(actorOf(b));
}

/** The saga acts as the refunds service; the command names the saga, step and attempt. */
function sagaCaller(command: RefundSagaCommand): Caller {
  return {
    principalId: "refunds-saga",
    role: "service",
    requestId: `${command.sagaId}/${command.step}/${command.attempt}`,
  };
}

async function performStep(
  tx: DatabaseTransactionConnection,
  context: WriteContext,
  command: RefundSagaCommand,
): Promise<StepResult> {
  const body = command.body;
  switch (body.case) {
    case "markRefundProcessing": {
      const { transactionId, reason } = body.value;
      // Through REFUND_INITIATED, unless the original is there already. Tried
      // rather than read first: the transition reads the original under its
      // lock anyway, and refuses (before writing anything) what it cannot do.
      const initiated = await transitionTransaction(tx, context, {
        transactionId,
        to: "refund_initiated",
        reason,
      }).catch((error: unknown) => {
        if (error instanceof LedgerError && error.reason === "INVALID_TRANSITION") return error;
        throw error;
      });
      try {
        return statusResult(
          await transitionTransaction(tx, context, { transactionId, to: "refund_processing", reason }),
        );
      } catch (error) {
        // Neither transition applies: the first refusal says why (a refunded original, say).
        throw initiated instanceof LedgerError ? initiated : error;
      }
    }
    case "reverseLedgerTransaction": {
      const { transactionId, amount, reason } = body.value;
      const { reversal, original } = await reverseTransaction(tx, context, { transactionId, amount, reason });
      return {
        case: "ledgerReversal",
        value: create(LedgerReversalResultSchema, {
          reversalTransactionId: reversal.id,
          originalReversedAmount: formatAmount(original.reversedMinor, original.currency!),
        }),
      };
    }
    case "completeLedgerRefund": {
      const { transactionId, reason } = body.value;
      const original = await getTransaction(tx, transactionId);
      const fullyReversed = original.amountMinor !== null && original.reversedMinor >= original.amountMinor;
      return statusResult(
        await transitionTransaction(tx, context, {
          transactionId,
          to: fullyReversed ? "refunded" : "settled",
          reason,
        }),
      );
    }
    case "cancelLedgerReversal": {
      const { transactionId, reversalTransactionId, reason } = body.value;
      const { cancellation } = await cancelReversal(tx, context, {
        transactionId,
        reversalTransactionId,
        reason,
      });
      return {
        case: "ledgerReversal",
        value: create(LedgerReversalResultSchema, { reversalTransactionId: cancellation.id }),
      };
    }
    case "restoreSettled": {
      const { transactionId, reason } = body.value;
      return statusResult(await transitionTransaction(tx, context, { transactionId, to: "settled", reason }));
    }
    case "reverseLoyaltyPoints":
    case undefined:
      throw new LedgerError(
        "INVALID_ARGUMENT",
        `the ledger does not perform ${body.case ?? "an empty command"}`,
      );
  }
}

function statusResult(transaction: TransactionRecord): StepResult {
  return { case: "ledgerStatus", value: create(LedgerStatusResultSchema, { status: transaction.status }) };
}
