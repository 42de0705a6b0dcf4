import { describe, expect, it } from "@jest/globals";
import { decide, type SagaInput, type SagaView } from "../../src/domain/saga/saga-decision.js";
import {
  backoffMs,
  blankStep,
  FORWARD_STEPS,
  stepDeadlineMs,
  type SagaSettings,
  type SagaStepName,
  type StepRecord,
} from "../../src/domain/saga/saga-definition.js";

/* The saga's rules, as a plain unit test: no database, no broker. */

const settings: SagaSettings = {
  stepTimeoutMs: 1_000,
  maxAttemptsPerStep: 3,
  retryBaseMs: 100,
  retryMaxMs: 1_000,
};
const now = new Date("2026-01-01T00:00:00Z");
const half = () => 0.5;

function view(
  phase: SagaView["phase"],
  currentStep: SagaStepName,
  statuses: Partial<Record<SagaStepName, Partial<StepRecord>>>,
): SagaView {
  const steps = new Map<SagaStepName, StepRecord>();
  for (const step of FORWARD_STEPS) steps.set(step, blankStep(step));
  for (const [step, patch] of Object.entries(statuses)) {
    steps.set(step as SagaStepName, { ...blankStep(step as SagaStepName), ...patch });
  }
  return { phase, currentStep, steps };
}

const inFlight = (attempts = 1): Partial<StepRecord> => ({
  status: "in_flight",
  attempts,
  attemptsSinceRetry: attempts,
  deadlineAt: new Date(now.getTime() - 1),
});
const done: Partial<StepRecord> = { status: "succeeded" };

function reply(
  step: SagaStepName,
  outcome: Extract<SagaInput, { type: "reply" }>["outcome"],
  attempt = 1,
  reason = "",
): SagaInput {
  return { type: "reply", step, attempt, outcome, reason, message: reason ? "because" : "", result: {} };
}

describe("forward", () => {
  it("a success sends the next step; the last success finishes the saga", () => {
    const started = view("forward", "mark_refund_processing", { mark_refund_processing: inFlight() });
    expect(decide(started, reply("mark_refund_processing", "succeeded"), settings, now)).toEqual({
      effects: [
        { kind: "complete_step", step: "mark_refund_processing", status: "succeeded", error: "", result: {} },
        { kind: "send", step: "reverse_ledger_transaction" },
      ],
    });
    const last = view("forward", "complete_ledger_refund", {
      mark_refund_processing: done,
      reverse_ledger_transaction: done,
      reverse_loyalty_points: done,
      complete_ledger_refund: inFlight(),
    });
    expect(decide(last, reply("complete_ledger_refund", "succeeded"), settings, now)).toMatchObject({
      effects: [{ kind: "complete_step" }, { kind: "finish", status: "succeeded" }],
    });
  });

  it("skips a step with nothing to do", () => {
    const noLoyalty = view("forward", "reverse_ledger_transaction", {
      mark_refund_processing: done,
      reverse_ledger_transaction: inFlight(),
      reverse_loyalty_points: { status: "skipped" },
    });
    expect(decide(noLoyalty, reply("reverse_ledger_transaction", "succeeded"), settings, now)).toMatchObject({
      effects: [{ kind: "complete_step" }, { kind: "send", step: "complete_ledger_refund" }],
    });
  });
});

describe("a refusal", () => {
  it("compensates the steps done, last first", () => {
    const atLoyalty = view("forward", "reverse_loyalty_points", {
      mark_refund_processing: done,
      reverse_ledger_transaction: done,
      reverse_loyalty_points: inFlight(),
    });
    expect(
      decide(
        atLoyalty,
        reply("reverse_loyalty_points", "refused", 1, "ORDER_AMOUNT_MISMATCH"),
        settings,
        now,
      ),
    ).toEqual({
      effects: [
        {
          kind: "complete_step",
          step: "reverse_loyalty_points",
          status: "refused",
          error: "ORDER_AMOUNT_MISMATCH: because",
          result: {},
        },
        { kind: "start_compensating", reason: "ORDER_AMOUNT_MISMATCH", message: "because" },
        { kind: "send", step: "cancel_ledger_reversal" },
      ],
    });
    const compensating = view("compensating", "cancel_ledger_reversal", {
      mark_refund_processing: done,
      reverse_ledger_transaction: done,
      reverse_loyalty_points: { status: "refused" },
      cancel_ledger_reversal: inFlight(),
    });
    expect(decide(compensating, reply("cancel_ledger_reversal", "succeeded"), settings, now)).toMatchObject({
      effects: [{ kind: "complete_step" }, { kind: "send", step: "restore_settled" }],
    });
    const lastCompensation = view("compensating", "restore_settled", {
      mark_refund_processing: done,
      reverse_ledger_transaction: done,
      reverse_loyalty_points: { status: "refused" },
      cancel_ledger_reversal: done,
      restore_settled: inFlight(),
    });
    expect(decide(lastCompensation, reply("restore_settled", "succeeded"), settings, now)).toMatchObject({
      effects: [{ kind: "complete_step" }, { kind: "finish", status: "failed" }],
    });
  });

  it("of the first step fails the saga with nothing to undo", () => {
    const first = view("forward", "mark_refund_processing", { mark_refund_processing: inFlight() });
    expect(
      decide(first, reply("mark_refund_processing", "refused", 1, "INVALID_TRANSITION"), settings, now),
    ).toMatchObject({
      effects: [
        { kind: "complete_step", status: "refused" },
        { kind: "start_compensating" },
        { kind: "finish", status: "failed", reason: "INVALID_TRANSITION" },
      ],
    });
  });

  it("after the point of no return parks the saga rather than undo half of it", () => {
    const afterLoyalty = view("forward", "complete_ledger_refund", {
      mark_refund_processing: done,
      reverse_ledger_transaction: done,
      reverse_loyalty_points: done,
      complete_ledger_refund: inFlight(),
    });
    expect(
      decide(
        afterLoyalty,
        reply("complete_ledger_refund", "refused", 1, "INVALID_TRANSITION"),
        settings,
        now,
      ),
    ).toMatchObject({
      effects: [
        { kind: "complete_step", status: "refused" },
        { kind: "finish", status: "requires_attention", reason: "CANNOT_COMPENSATE" },
      ],
    });
  });

  it("of a compensation parks the saga", () => {
    const compensating = view("compensating", "cancel_ledger_reversal", {
      mark_refund_processing: done,
      reverse_ledger_transaction: done,
      cancel_ledger_reversal: inFlight(),
    });
    expect(
      decide(compensating, reply("cancel_ledger_reversal", "refused", 1, "ACCOUNT_FROZEN"), settings, now),
    ).toMatchObject({
      effects: [
        { kind: "complete_step", status: "failed" },
        { kind: "finish", status: "requires_attention", reason: "COMPENSATION_REFUSED" },
      ],
    });
  });
});

describe("failures", () => {
  const atReverse = (attempts: number) =>
    view("forward", "reverse_ledger_transaction", {
      mark_refund_processing: done,
      reverse_ledger_transaction: inFlight(attempts),
    });

  it("a transient failure schedules the step again after a backoff, until the attempts run out", () => {
    expect(
      decide(
        atReverse(1),
        reply("reverse_ledger_transaction", "transient_failure", 1, "CONFLICT_RETRIES_EXHAUSTED"),
        settings,
        now,
        half,
      ),
    ).toEqual({
      effects: [
        {
          kind: "note_error",
          step: "reverse_ledger_transaction",
          error: "CONFLICT_RETRIES_EXHAUSTED: because",
        },
        { kind: "schedule_retry", step: "reverse_ledger_transaction", at: new Date(now.getTime() + 100) },
      ],
    });
    expect(
      decide(atReverse(3), reply("reverse_ledger_transaction", "transient_failure", 3, "X"), settings, now),
    ).toMatchObject({
      effects: [
        { kind: "complete_step", status: "failed" },
        { kind: "finish", status: "requires_attention", reason: "RETRIES_EXHAUSTED" },
      ],
    });
  });

  it("an unclassified failure, or an outcome this version does not know, parks the saga", () => {
    expect(
      decide(atReverse(1), reply("reverse_ledger_transaction", "failed", 1, "TypeError"), settings, now),
    ).toMatchObject({
      effects: [
        { kind: "complete_step", status: "failed" },
        { kind: "finish", status: "requires_attention", reason: "STEP_FAILED" },
      ],
    });
    expect(decide(atReverse(1), reply("reverse_ledger_transaction", "unknown"), settings, now)).toMatchObject(
      {
        effects: [
          { kind: "complete_step" },
          { kind: "finish", status: "requires_attention", reason: "UNKNOWN_REPLY" },
        ],
      },
    );
  });

  it("a missed deadline sends the step again, until the attempts run out", () => {
    expect(
      decide(atReverse(1), { type: "deadline_passed", step: "reverse_ledger_transaction" }, settings, now),
    ).toMatchObject({
      effects: [{ kind: "note_error" }, { kind: "send", step: "reverse_ledger_transaction" }],
    });
    expect(
      decide(atReverse(3), { type: "deadline_passed", step: "reverse_ledger_transaction" }, settings, now),
    ).toMatchObject({
      effects: [
        { kind: "complete_step", status: "failed" },
        { kind: "finish", status: "requires_attention", reason: "DEADLINE_EXCEEDED" },
      ],
    });
  });
});

describe("stale input", () => {
  const atReverse = view("forward", "reverse_ledger_transaction", {
    mark_refund_processing: done,
    reverse_ledger_transaction: inFlight(2),
  });

  it("ignores a reply for another step, and a failure of an earlier attempt", () => {
    expect(decide(atReverse, reply("mark_refund_processing", "succeeded"), settings, now)).toHaveProperty(
      "ignored",
    );
    expect(
      decide(atReverse, reply("reverse_ledger_transaction", "refused", 1, "X"), settings, now),
    ).toHaveProperty("ignored");
    expect(
      decide(atReverse, reply("reverse_ledger_transaction", "transient_failure", 1, "X"), settings, now),
    ).toHaveProperty("ignored");
  });

  it("takes a success of an earlier attempt: the step is done whichever attempt carried it", () => {
    expect(
      decide(atReverse, reply("reverse_ledger_transaction", "succeeded", 1), settings, now),
    ).toMatchObject({
      effects: [
        { kind: "complete_step", status: "succeeded" },
        { kind: "send", step: "reverse_loyalty_points" },
      ],
    });
  });

  it("ignores a deadline or retry timer the step has moved past", () => {
    const resent = view("forward", "reverse_ledger_transaction", {
      mark_refund_processing: done,
      reverse_ledger_transaction: { ...inFlight(2), deadlineAt: new Date(now.getTime() + 500) },
    });
    expect(
      decide(resent, { type: "deadline_passed", step: "reverse_ledger_transaction" }, settings, now),
    ).toHaveProperty("ignored");
    expect(
      decide(resent, { type: "retry_due", step: "reverse_ledger_transaction" }, settings, now),
    ).toHaveProperty("ignored");
  });
});

describe("timing", () => {
  it("doubles the backoff and the deadline per attempt, within their caps", () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, settings, half))).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => stepDeadlineMs(n, settings))).toEqual([
      1000, 2000, 4000, 8000, 16000, 16000,
    ]);
  });
});
