import type { DatabaseTransactionConnection } from "@money/db";
import type { Actor } from "@money/kafka";
import { releaseOriginals, updateOriginal, type OriginalRecord } from "../db/originals-table.js";
import { insertRefunds, updateRefunds } from "../db/refunds-table.js";
import { saveSteps } from "../db/saga-steps-table.js";
import { insertTransitions } from "../db/transitions-table.js";
import { writeTogether } from "../db/write-together.js";
import {
  isFinal,
  RELEASING_STATUSES,
  requireTransition,
  type RefundRecord,
  type RefundStatus,
  type TransitionRecord,
} from "./refund.js";
import type { RefundEvent, RefundsContext, StampedEvent } from "./refunds-context.js";
import {
  FORWARD_STEPS,
  type ForwardStep,
  type SagaStepName,
  type StepRecord,
} from "./saga/saga-definition.js";

/**
 * The unit of work of one database transaction: the refunds created and
 * moved, their history, saga steps and events, gathered in memory and
 * written at commit in as few statements as it takes. Every status change
 * goes through `move`, so none escapes the history, the audit trail or the
 * refunds.events topic.
 */
export class RefundWriter {
  private readonly created = new Map<string, RefundRecord>();
  private readonly updated = new Map<string, RefundRecord>();
  private readonly transitions: TransitionRecord[] = [];
  private readonly steps = new Map<string, Map<SagaStepName, StepRecord>>();
  private readonly released: RefundRecord[] = [];
  private readonly originals = new Map<string, OriginalRecord>();
  private readonly events: StampedEvent[] = [];

  constructor(
    readonly context: RefundsContext,
    /** The one instant of this transaction. */
    readonly now: Date,
  ) {}

  /** A new refund in its first status. */
  create(refund: RefundRecord, actor: Actor, reason: string): void {
    this.created.set(refund.id, refund);
    this.transitions.push(this.transition(refund.id, null, refund.status, actor, reason));
    this.emit({ type: "status_changed", refund, from: null, to: refund.status, actor, reason });
  }

  /** Moves a refund to `to`, with the fields that change with it; returns it as it now is. */
  move(
    refund: RefundRecord,
    to: RefundStatus,
    actor: Actor,
    reason: string,
    patch: Partial<RefundRecord> = {},
  ): RefundRecord {
    requireTransition(refund.status, to);
    const moved: RefundRecord = {
      ...refund,
      ...patch,
      status: to,
      updatedAt: this.now,
      ...(isFinal(to) ? { completedAt: this.now, sagaPhase: patch.sagaPhase ?? refund.sagaPhase } : {}),
    };
    this.put(moved);
    this.transitions.push(this.transition(refund.id, refund.status, to, actor, reason));
    this.emit({ type: "status_changed", refund: moved, from: refund.status, to, actor, reason });
    if (isFinal(to)) this.released.push(moved);
    return moved;
  }

  /** Changes fields of a refund without moving its status. */
  patch(refund: RefundRecord, patch: Partial<RefundRecord>): RefundRecord {
    const changed: RefundRecord = { ...refund, ...patch, updatedAt: this.now };
    this.put(changed);
    return changed;
  }

  saveStep(refund: RefundRecord, step: StepRecord, actor: Actor, audited = true): void {
    const steps = this.steps.get(refund.id) ?? new Map<SagaStepName, StepRecord>();
    steps.set(step.step, step);
    this.steps.set(refund.id, steps);
    if (audited) this.emit({ type: "step_changed", refund, step, actor });
  }

  /** The original's new committed total and active refund (a request took its share), written at commit. */
  updateOriginal(original: OriginalRecord): void {
    this.originals.set(original.transactionId, original);
  }

  emit(event: RefundEvent): void {
    this.events.push({ ...event, occurredAt: this.now });
  }

  async commit(tx: DatabaseTransactionConnection): Promise<void> {
    // No row is written twice (created and updated refunds are apart, and an
    // original is updated or released, never both): the writes may share one statement.
    if (this.released.some((refund) => this.originals.has(refund.originalTransactionId))) {
      throw new Error("an original updated and released in one unit of work");
    }
    await writeTogether(tx, [
      ...[...this.originals.values()].map(updateOriginal),
      insertRefunds([...this.created.values()]),
      updateRefunds([...this.updated.values()]),
      saveSteps(
        [...this.steps].flatMap(([refundId, steps]) =>
          [...steps.values()].map((step) => ({ refundId, step })),
        ),
      ),
      insertTransitions(this.transitions),
      releaseOriginals(this.released.map(releaseOf)),
    ]);
    await this.context.events.write(tx, this.events);
  }

  /**
   * A refund this unit of work created, as it will be once committed, with
   * its steps and history: what the caller gets back without reading it again.
   */
  createdView(refundId: string): { refund: RefundRecord; steps: StepRecord[]; history: TransitionRecord[] } {
    const refund = this.created.get(refundId);
    if (!refund) throw new Error(`refund ${refundId} was not created in this transaction`);
    const order = (step: StepRecord) =>
      (step.compensation ? 10 : 0) + FORWARD_STEPS.indexOf(step.step as ForwardStep);
    return {
      refund,
      steps: [...(this.steps.get(refundId)?.values() ?? [])].sort((a, b) => order(a) - order(b)),
      history: this.transitions.filter((t) => t.refundId === refundId),
    };
  }

  private put(refund: RefundRecord): void {
    if (this.created.has(refund.id)) this.created.set(refund.id, refund);
    else this.updated.set(refund.id, refund);
  }

  private transition(
    refundId: string,
    from: RefundStatus | null,
    to: RefundStatus,
    actor: Actor,
    reason: string,
  ): TransitionRecord {
    return {
      refundId,
      from,
      to,
      actorId: actor.principalId,
      actorRole: actor.role,
      reason,
      occurredAt: this.now,
    };
  }
}

/**
 * A refund reached a final status: the original is free for the next refund,
 * and what a failed, rejected, expired or canceled refund had committed is
 * refundable again.
 */
function releaseOf(refund: RefundRecord): { transactionId: string; refundId: string; releasedMinor: bigint } {
  return {
    transactionId: refund.originalTransactionId,
    refundId: refund.id,
    releasedMinor: RELEASING_STATUSES.includes(refund.status) ? refund.amountMinor : 0n,
  };
}
