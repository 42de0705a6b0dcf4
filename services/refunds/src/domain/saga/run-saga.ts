import type { DatabaseTransactionConnection } from "@money/db";
import type { Actor } from "@money/kafka";
import { lockSagas } from "../../db/refunds-table.js";
import { listSteps } from "../../db/saga-steps-table.js";
import type { RefundRecord } from "../refund.js";
import { SAGA_ACTOR, type RefundsContext } from "../refunds-context.js";
import { RefundWriter } from "../refund-writer.js";
import { decide, nextForward, type SagaEffect, type SagaInput, type SagaView } from "./saga-decision.js";
import {
  blankStep,
  FORWARD_STEPS,
  stepDeadlineMs,
  type SagaStepName,
  type StepRecord,
} from "./saga-definition.js";

/** Step statuses worth a line in the audit trail (a command sent is not one: its outcome is). */
const AUDITED_STEP_STATUSES = new Set(["succeeded", "refused", "failed", "skipped", "retry_scheduled"]);

/**
 * Starts the saga of an approved refund: PROCESSING, its forward steps laid
 * out (the loyalty step skipped when the original names no order), and the
 * first command on its way, all in the writer's transaction.
 */
export function startSaga(
  writer: RefundWriter,
  refund: RefundRecord,
  actor: Actor,
  reason: string,
): RefundRecord {
  const steps = new Map<SagaStepName, StepRecord>();
  for (const step of FORWARD_STEPS) {
    const nothingToDo =
      step === "reverse_loyalty_points" && (refund.merchantId === "" || refund.orderReference === "");
    steps.set(
      step,
      nothingToDo ? { ...blankStep(step, "skipped"), completedAt: writer.now } : blankStep(step),
    );
  }
  const processing = writer.move(refund, "processing", actor, reason, { sagaPhase: "forward" });
  const view: SagaView = { phase: "forward", currentStep: "mark_refund_processing", steps };
  const first = nextForward(view, null)!;
  for (const step of steps.values()) writer.saveStep(processing, step, actor, step.status === "skipped");
  return new SagaRun(writer, processing, steps).apply([{ kind: "send", step: first }]);
}

export type SagaOutcome = "applied" | "ignored" | "not_found";

/**
 * Applies one input (a participant's reply, a deadline passed, a retry due)
 * to a processing saga, under its refund's row lock: the decision and its
 * effects (steps, status, next command) commit together, with the inbox
 * record of the reply that caused them.
 */
export async function advanceSaga(
  tx: DatabaseTransactionConnection,
  context: RefundsContext,
  refundId: string,
  input: SagaInput,
  { skipLocked = false } = {},
): Promise<{ outcome: SagaOutcome; why?: string }> {
  const [moved] = await advanceSagas(tx, context, [{ refundId, input }], { skipLocked });
  return moved!;
}

/**
 * Applies inputs to their sagas in order, as `advanceSaga` does one, with
 * the refunds and their steps read and locked in one statement and every
 * effect written at the end in one unit of work: a batch of replies costs a
 * handful of statements, not a handful per reply. Two inputs for one saga
 * see each other: the second is decided on the saga as the first left it.
 */
export async function advanceSagas(
  tx: DatabaseTransactionConnection,
  context: RefundsContext,
  inputs: readonly { refundId: string; input: SagaInput }[],
  { skipLocked = false } = {},
): Promise<{ outcome: SagaOutcome; why?: string }[]> {
  if (inputs.length === 0) return [];
  const sagas = await lockSagas(tx, [...new Set(inputs.map((i) => i.refundId))], { skipLocked });
  const now = context.clock.now();
  const writer = new RefundWriter(context, now);
  const runs = new Map<string, SagaRun>();
  const outcomes = inputs.map(({ refundId, input }): { outcome: SagaOutcome; why?: string } => {
    let run = runs.get(refundId);
    if (!run) {
      const saga = sagas.get(refundId);
      if (!saga) return { outcome: "not_found" };
      run = new SagaRun(writer, saga.refund, new Map(saga.steps.map((s) => [s.step, s])));
      runs.set(refundId, run);
    }
    const refund = run.current;
    if (refund.status !== "processing" || refund.sagaPhase === null || refund.currentStep === null) {
      return { outcome: "ignored", why: `refund ${refundId} is ${refund.status}` };
    }
    const view: SagaView = {
      phase: refund.sagaPhase,
      currentStep: refund.currentStep as SagaStepName,
      steps: run.stepRecords,
    };
    const decision = decide(view, input, context.saga, now);
    if ("ignored" in decision) return { outcome: "ignored", why: decision.ignored };
    run.apply(decision.effects);
    return { outcome: "applied" };
  });
  await writer.commit(tx);
  return outcomes;
}

/**
 * Sends the current step of a parked saga again with a fresh retry budget
 * (RetrySaga): an operator fixed its cause. The refund is PROCESSING again.
 */
export async function resumeParkedSaga(
  tx: DatabaseTransactionConnection,
  writer: RefundWriter,
  refund: RefundRecord,
  actor: Actor,
  reason: string,
): Promise<RefundRecord> {
  const steps = new Map((await listSteps(tx, refund.id)).map((s) => [s.step, s]));
  const step = refund.currentStep as SagaStepName;
  const current = steps.get(step) ?? blankStep(step);
  steps.set(step, { ...current, attemptsSinceRetry: 0 });
  const processing = writer.move(refund, "processing", actor, reason);
  return new SagaRun(writer, processing, steps).apply([{ kind: "send", step }]);
}

/** Applies a decision's effects to one refund and its steps, in order, through the writer. */
class SagaRun {
  constructor(
    private readonly writer: RefundWriter,
    private refund: RefundRecord,
    private readonly steps: Map<SagaStepName, StepRecord>,
  ) {}

  /** The refund as the effects applied so far left it. */
  get current(): RefundRecord {
    return this.refund;
  }

  get stepRecords(): ReadonlyMap<SagaStepName, StepRecord> {
    return this.steps;
  }

  apply(effects: readonly SagaEffect[]): RefundRecord {
    for (const effect of effects) this.applyOne(effect);
    return this.refund;
  }

  private applyOne(effect: SagaEffect): void {
    const now = this.writer.now;
    switch (effect.kind) {
      case "complete_step":
        this.saveStep({
          ...this.step(effect.step),
          status: effect.status,
          lastError: effect.error || this.step(effect.step).lastError,
          result: effect.result,
          deadlineAt: null,
          nextAttemptAt: null,
          completedAt: now,
        });
        if (effect.status === "succeeded") this.absorb(effect.step, effect.result);
        return;
      case "note_error":
        this.saveStep({ ...this.step(effect.step), lastError: effect.error }, false);
        return;
      case "send": {
        const row = this.step(effect.step);
        const attempt = row.attempts + 1;
        this.saveStep(
          {
            ...row,
            status: "in_flight",
            attempts: attempt,
            attemptsSinceRetry: row.attemptsSinceRetry + 1,
            deadlineAt: new Date(
              now.getTime() + stepDeadlineMs(row.attemptsSinceRetry + 1, this.writer.context.saga),
            ),
            nextAttemptAt: null,
            startedAt: row.startedAt ?? now,
            completedAt: null,
          },
          false,
        );
        this.refund = this.writer.patch(this.refund, { currentStep: effect.step });
        this.writer.emit({ type: "command", refund: this.refund, step: effect.step, attempt });
        return;
      }
      case "schedule_retry":
        this.saveStep({
          ...this.step(effect.step),
          status: "retry_scheduled",
          deadlineAt: null,
          nextAttemptAt: effect.at,
        });
        return;
      case "start_compensating":
        this.refund = this.writer.patch(this.refund, {
          sagaPhase: "compensating",
          failureReason: effect.reason,
          failureMessage: effect.message,
        });
        return;
      case "finish":
        this.finish(effect);
        return;
    }
  }

  private finish(effect: Extract<SagaEffect, { kind: "finish" }>): void {
    switch (effect.status) {
      case "succeeded":
        this.refund = this.writer.move(this.refund, "succeeded", SAGA_ACTOR, "every step succeeded");
        return;
      case "failed": {
        const why = effect.reason ? { reason: effect.reason, message: effect.message } : this.refusal();
        this.refund = this.writer.move(
          this.refund,
          "failed",
          SAGA_ACTOR,
          `compensated: ${why.reason}: ${why.message}`,
          {
            failureReason: why.reason,
            failureMessage: why.message,
          },
        );
        return;
      }
      case "requires_attention":
        this.refund = this.writer.move(
          this.refund,
          "requires_attention",
          SAGA_ACTOR,
          `${effect.reason}: ${effect.message}`,
          {
            failureReason: effect.reason,
            failureMessage: effect.message,
          },
        );
        return;
    }
  }

  /** Why the saga is compensating: the refused forward step's error, "REASON: message". */
  private refusal(): { reason: string; message: string } {
    const refused = FORWARD_STEPS.map((s) => this.steps.get(s)).find((s) => s?.status === "refused");
    const error = refused?.lastError ?? `${this.refund.failureReason}: ${this.refund.failureMessage}`;
    const colon = error.indexOf(": ");
    return colon < 0
      ? { reason: error, message: "" }
      : { reason: error.slice(0, colon), message: error.slice(colon + 2) };
  }

  /** What a step's result means for the refund itself. */
  private absorb(step: SagaStepName, result: Record<string, string>): void {
    if (step === "reverse_ledger_transaction" && result["reversal_transaction_id"]) {
      this.refund = this.writer.patch(this.refund, {
        reversalTransactionId: result["reversal_transaction_id"],
      });
    }
    if (step === "reverse_loyalty_points") {
      this.refund = this.writer.patch(this.refund, {
        pointsReversed: BigInt(result["points_reversed"] ?? "0"),
        pointsShortfall: BigInt(result["points_forgiven"] ?? "0"),
      });
    }
  }

  private step(step: SagaStepName): StepRecord {
    return this.steps.get(step) ?? blankStep(step);
  }

  private saveStep(step: StepRecord, audited = AUDITED_STEP_STATUSES.has(step.status)): void {
    this.steps.set(step.step, step);
    this.writer.saveStep(this.refund, step, SAGA_ACTOR, audited);
  }
}
