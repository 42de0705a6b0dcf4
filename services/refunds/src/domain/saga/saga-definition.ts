/**
 * The refund saga: its forward steps in order, who performs each, and the
 * compensation that undoes it. A step without a compensation is a point of
 * no return: once it succeeded, the saga can only go forward (retrying, or
 * parking for an operator), never back.
 */

export const FORWARD_STEPS = [
  "mark_refund_processing",
  "reverse_ledger_transaction",
  "reverse_loyalty_points",
  "complete_ledger_refund",
] as const;
export type ForwardStep = (typeof FORWARD_STEPS)[number];

export const COMPENSATION_STEPS = ["cancel_ledger_reversal", "restore_settled"] as const;
export type CompensationStep = (typeof COMPENSATION_STEPS)[number];

export type SagaStepName = ForwardStep | CompensationStep;

export type ParticipantName = "ledger" | "loyalty";

export const PARTICIPANT_OF: Readonly<Record<SagaStepName, ParticipantName>> = {
  mark_refund_processing: "ledger",
  reverse_ledger_transaction: "ledger",
  // Loyalty has no way to give reversed points back, so its step is the pivot:
  // the ledger steps before it can be undone, the one after it can only be retried.
  reverse_loyalty_points: "loyalty",
  complete_ledger_refund: "ledger",
  cancel_ledger_reversal: "ledger",
  restore_settled: "ledger",
};

export const COMPENSATION_OF: Readonly<Record<ForwardStep, CompensationStep | null>> = {
  mark_refund_processing: "restore_settled",
  reverse_ledger_transaction: "cancel_ledger_reversal",
  reverse_loyalty_points: null,
  complete_ledger_refund: null,
};

export function isCompensation(step: SagaStepName): step is CompensationStep {
  return (COMPENSATION_STEPS as readonly string[]).includes(step);
}

export function isSagaStep(name: string): name is SagaStepName {
  return (FORWARD_STEPS as readonly string[]).includes(name) || isCompensation(name as SagaStepName);
}

export type StepStatus =
  "pending" | "in_flight" | "retry_scheduled" | "succeeded" | "refused" | "failed" | "skipped";

/** A step of one saga as the refunds service tracks it. */
export interface StepRecord {
  step: SagaStepName;
  compensation: boolean;
  status: StepStatus;
  /** Commands sent so far; the attempt number of the last one. */
  attempts: number;
  /** Commands sent since the saga last started or an operator retried it: the retry budget counts these. */
  attemptsSinceRetry: number;
  lastError: string;
  deadlineAt: Date | null;
  nextAttemptAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
  /** What the participant reported; values are strings (ids, minor units, counts). */
  result: Record<string, string>;
}

export function blankStep(step: SagaStepName, status: StepStatus = "pending"): StepRecord {
  return {
    step,
    compensation: isCompensation(step),
    status,
    attempts: 0,
    attemptsSinceRetry: 0,
    lastError: "",
    deadlineAt: null,
    nextAttemptAt: null,
    startedAt: null,
    completedAt: null,
    result: {},
  };
}

/** Timing of the saga: per-step deadlines and the retry budget with its backoff. */
export interface SagaSettings {
  /** How long a participant has to answer one command before it is sent again. */
  stepTimeoutMs: number;
  /** Commands per step (since the last operator retry) before the saga parks. */
  maxAttemptsPerStep: number;
  /** Backoff after a transient failure: base × 2^(n-1), capped, with ±20% jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
}

export const DEFAULT_SAGA_SETTINGS: SagaSettings = {
  stepTimeoutMs: 15_000,
  maxAttemptsPerStep: 8,
  retryBaseMs: 250,
  retryMaxMs: 30_000,
};

/**
 * How long attempt `n` (1 for the first since the saga started or was
 * retried) of a step waits for its reply: the step timeout, doubled with each
 * attempt up to 16 times it. A participant or broker that is down for a while
 * (a restart, a deployment) costs a few resends, not the saga.
 */
export function stepDeadlineMs(attempt: number, settings: SagaSettings): number {
  return settings.stepTimeoutMs * 2 ** Math.min(Math.max(0, attempt - 1), 4);
}

/** The wait before the next attempt after `failures` transient failures in a row (1 for the first). */
export function backoffMs(
  failures: number,
  settings: SagaSettings,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}
