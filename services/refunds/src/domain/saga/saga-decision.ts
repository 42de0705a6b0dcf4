import {
  backoffMs,
  COMPENSATION_OF,
  FORWARD_STEPS,
  type CompensationStep,
  type ForwardStep,
  type SagaSettings,
  type SagaStepName,
  type StepRecord,
} from "./saga-definition.js";

/** A participant's answer, reduced to what the saga decides on. */
export type ReplyOutcome = "succeeded" | "refused" | "transient_failure" | "failed" | "unknown";

/** Where a processing saga stands. */
export interface SagaView {
  phase: "forward" | "compensating";
  currentStep: SagaStepName;
  steps: ReadonlyMap<SagaStepName, StepRecord>;
}

export type SagaInput =
  | {
      type: "reply";
      step: SagaStepName;
      attempt: number;
      outcome: ReplyOutcome;
      /** The participant's reason code and message (empty on success). */
      reason: string;
      message: string;
      result: Record<string, string>;
    }
  /** The current step's deadline passed with no reply. */
  | { type: "deadline_passed"; step: SagaStepName }
  /** The current step's scheduled retry is due. */
  | { type: "retry_due"; step: SagaStepName };

/** What the saga does about an input, applied in order by the caller. */
export type SagaEffect =
  | {
      kind: "complete_step";
      step: SagaStepName;
      status: "succeeded" | "refused" | "failed";
      error: string;
      result: Record<string, string>;
    }
  | { kind: "note_error"; step: SagaStepName; error: string }
  | { kind: "send"; step: SagaStepName }
  | { kind: "schedule_retry"; step: SagaStepName; at: Date }
  | { kind: "start_compensating"; reason: string; message: string }
  | {
      kind: "finish";
      status: "succeeded" | "failed" | "requires_attention";
      reason: string;
      message: string;
    };

export type SagaDecision = { ignored: string } | { effects: SagaEffect[] };

/**
 * The saga's rules, with no I/O: given where a saga stands and what just
 * happened, what it does next.
 * - A success moves to the next forward step (or finishes SUCCEEDED), or,
 *   while compensating, to the next compensation (or finishes FAILED).
 * - A business refusal of a forward step compensates the steps done so far,
 *   last first; if one of them cannot be undone, the saga parks.
 * - A transient failure or a missed deadline sends the step again (after a
 *   backoff for failures) until the step's attempts run out; then it parks.
 * - A refused compensation, a failure the participant could not classify, or
 *   an outcome this version does not know parks the saga: REQUIRES_ATTENTION,
 *   rather than a guess.
 * Replies for another step, or failures of an attempt that is not the
 * latest, are stale and ignored; a success of any attempt counts, because
 * participants do each step at most once whichever attempt carried it.
 */
export function decide(
  view: SagaView,
  input: SagaInput,
  settings: SagaSettings,
  now: Date,
  random = Math.random,
): SagaDecision {
  if (input.step !== view.currentStep)
    return { ignored: `${input.step} is not the current step (${view.currentStep})` };
  const row = view.steps.get(input.step);
  if (!row || (row.status !== "in_flight" && row.status !== "retry_scheduled")) {
    return { ignored: `${input.step} is ${row?.status ?? "unknown"}, not waiting` };
  }
  switch (input.type) {
    case "deadline_passed":
      if (row.status !== "in_flight") return { ignored: `${input.step} is not in flight` };
      if (row.deadlineAt !== null && row.deadlineAt > now)
        return { ignored: `${input.step} was sent again since` };
      return resend(
        row,
        `DEADLINE_EXCEEDED: no reply to attempt ${row.attempts} by ${row.deadlineAt?.toISOString() ?? "its deadline"}`,
        settings,
      );
    case "retry_due":
      if (row.status !== "retry_scheduled") return { ignored: `${input.step} has no retry scheduled` };
      if (row.nextAttemptAt !== null && row.nextAttemptAt > now)
        return { ignored: `${input.step} is not due yet` };
      return { effects: [{ kind: "send", step: input.step }] };
    case "reply":
      break;
  }
  if (input.outcome !== "succeeded" && input.attempt !== row.attempts) {
    return { ignored: `attempt ${input.attempt} of ${input.step} is stale (latest ${row.attempts})` };
  }
  const error = input.reason ? `${input.reason}: ${input.message}` : input.message;
  switch (input.outcome) {
    case "succeeded":
      return {
        effects: [complete(input.step, "succeeded", "", input.result), ...afterSuccess(view, input.step)],
      };
    case "refused":
      if (view.phase === "compensating") {
        return park(input.step, error, "COMPENSATION_REFUSED", `${input.step} was refused: ${error}`);
      }
      return {
        effects: [
          complete(input.step, "refused", error, {}),
          ...compensate(view, input.step, input.reason, input.message),
        ],
      };
    case "transient_failure": {
      if (row.attemptsSinceRetry >= settings.maxAttemptsPerStep) {
        return park(
          input.step,
          error,
          "RETRIES_EXHAUSTED",
          `${input.step} failed ${row.attemptsSinceRetry} times: ${error}`,
        );
      }
      const at = new Date(now.getTime() + backoffMs(row.attemptsSinceRetry, settings, random));
      return {
        effects: [
          { kind: "note_error", step: input.step, error },
          { kind: "schedule_retry", step: input.step, at },
        ],
      };
    }
    case "failed":
      return park(input.step, error, "STEP_FAILED", `${input.step} failed: ${error}`);
    case "unknown":
      return park(
        input.step,
        error,
        "UNKNOWN_REPLY",
        `${input.step} got a reply this version does not understand`,
      );
  }
}

function complete(
  step: SagaStepName,
  status: "succeeded" | "refused" | "failed",
  error: string,
  result: Record<string, string>,
): SagaEffect {
  return { kind: "complete_step", step, status, error, result };
}

function park(step: SagaStepName, error: string, reason: string, message: string): SagaDecision {
  return {
    effects: [
      complete(step, "failed", error, {}),
      { kind: "finish", status: "requires_attention", reason, message },
    ],
  };
}

function resend(row: StepRecord, error: string, settings: SagaSettings): SagaDecision {
  if (row.attemptsSinceRetry >= settings.maxAttemptsPerStep) {
    return park(
      row.step,
      error,
      "DEADLINE_EXCEEDED",
      `${row.step} got no reply after ${row.attemptsSinceRetry} attempts`,
    );
  }
  return {
    effects: [
      { kind: "note_error", step: row.step, error },
      { kind: "send", step: row.step },
    ],
  };
}

function afterSuccess(view: SagaView, done: SagaStepName): SagaEffect[] {
  if (view.phase === "forward") {
    const next = nextForward(view, done as ForwardStep);
    return next
      ? [{ kind: "send", step: next }]
      : [{ kind: "finish", status: "succeeded", reason: "", message: "" }];
  }
  const next = pendingCompensations(view, done)[0];
  return next
    ? [{ kind: "send", step: next }]
    : [{ kind: "finish", status: "failed", reason: "", message: "" }];
}

/** The forward step after `done`, skipping those with nothing to do. */
export function nextForward(view: SagaView, done: ForwardStep | null): ForwardStep | null {
  const from = done === null ? 0 : FORWARD_STEPS.indexOf(done) + 1;
  for (const step of FORWARD_STEPS.slice(from)) {
    if (view.steps.get(step)?.status !== "skipped") return step;
  }
  return null;
}

/**
 * The compensations still to run, in the order they run: those of the
 * succeeded forward steps, last step first, leaving out any already done
 * (and `justDone`, whose success is being recorded).
 */
function pendingCompensations(view: SagaView, justDone: SagaStepName | null): CompensationStep[] {
  const list: CompensationStep[] = [];
  for (const step of [...FORWARD_STEPS].reverse()) {
    if (view.steps.get(step)?.status !== "succeeded") continue;
    const compensation = COMPENSATION_OF[step];
    if (compensation === null || compensation === justDone) continue;
    if (view.steps.get(compensation)?.status === "succeeded") continue;
    list.push(compensation);
  }
  return list;
}

function compensate(view: SagaView, refused: SagaStepName, reason: string, message: string): SagaEffect[] {
  const irreversible = FORWARD_STEPS.filter(
    (step) =>
      step !== refused && view.steps.get(step)?.status === "succeeded" && COMPENSATION_OF[step] === null,
  );
  if (irreversible.length > 0) {
    return [
      {
        kind: "finish",
        status: "requires_attention",
        reason: "CANNOT_COMPENSATE",
        message: `${refused} was refused (${reason}: ${message}) after ${irreversible.join(", ")}, which cannot be undone`,
      },
    ];
  }
  const first = pendingCompensations(view, null)[0];
  const effects: SagaEffect[] = [{ kind: "start_compensating", reason, message }];
  effects.push(first ? { kind: "send", step: first } : { kind: "finish", status: "failed", reason, message });
  return effects;
}
