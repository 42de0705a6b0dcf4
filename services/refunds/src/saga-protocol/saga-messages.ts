import { createHash } from "node:crypto";
import { sql, type CommonQueryMethods } from "@money/db";
import { SagaStep } from "@money/proto/refunds/v1/refunds_pb";
import { Participant } from "@money/proto/refunds/v1/saga_pb";
import type { ParticipantName, SagaStepName } from "../domain/saga/saga-definition.js";

/** The wire value of each saga step. */
export const STEP_TO_WIRE: Readonly<Record<SagaStepName, SagaStep>> = {
  mark_refund_processing: SagaStep.MARK_REFUND_PROCESSING,
  reverse_ledger_transaction: SagaStep.REVERSE_LEDGER_TRANSACTION,
  reverse_loyalty_points: SagaStep.REVERSE_LOYALTY_POINTS,
  complete_ledger_refund: SagaStep.COMPLETE_LEDGER_REFUND,
  cancel_ledger_reversal: SagaStep.CANCEL_LEDGER_REVERSAL,
  restore_settled: SagaStep.RESTORE_SETTLED,
};

/** The saga step a wire value names; null for one this version does not know. */
export function stepFromWire(step: SagaStep): SagaStepName | null {
  for (const [name, wire] of Object.entries(STEP_TO_WIRE)) if (wire === step) return name as SagaStepName;
  return null;
}

export const PARTICIPANT_TO_WIRE: Readonly<Record<ParticipantName, Participant>> = {
  ledger: Participant.LEDGER,
  loyalty: Participant.LOYALTY,
};

/**
 * The envelope event id of a command: the same for every copy of one attempt
 * of one step of one saga, so a participant's inbox recognises copies, and
 * different for each attempt. A UUID built from a SHA-256 of the three.
 */
export function commandId(sagaId: string, step: SagaStepName, attempt: number): string {
  const hex = createHash("sha256")
    .update(`refund-saga\u0000${sagaId}\u0000${step}\u0000${attempt}`)
    .digest("hex");
  // Version 8 (custom) and the RFC 4122 variant, so the id is a well-formed UUID.
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The deployment a saga's messages belong to (REFUNDS_SAGA_NAMESPACE, default
 * "default"). Services of one deployment share it; consumers skip messages of
 * another, so environments (or test runs) may share a cluster's topics.
 */
export function sagaNamespace(env: NodeJS.ProcessEnv): string {
  return env["REFUNDS_SAGA_NAMESPACE"] || "default";
}

/**
 * A saga consumer group's name: per namespace (each deployment keeps its own
 * offsets) and per database. The processes that share one database share
 * one inbox, so they are the members that split a topic's partitions between
 * them; processes on another database (another test run, say) are another
 * group, and joining or leaving theirs never rebalances this one.
 */
export async function sagaConsumerGroup(
  db: CommonQueryMethods,
  base: string,
  namespace: string,
): Promise<string> {
  const database = await db.oneFirst(sql.unsafe`SELECT current_database()`);
  const named = namespace === "default" ? base : `${base}.${namespace}`;
  return `${named}@${String(database)}`;
}

/**
 * Where a saga consumer group with no committed offset starts
 * (REFUNDS_SAGA_START_AT): "latest" (the default) skips the topic's history,
 * so a new group (a new deployment, a test run on a shared broker) reads
 * only what is sent from now on; "earliest" reads every saga message still
 * on the topic. Once the group has committed an offset it resumes there
 * either way. With "latest", a consumer that stops before its group ever
 * committed an offset skips what was sent while it was away; the saga still
 * recovers (a command left unanswered is sent again at its deadline and
 * answered), only later.
 */
export function sagaStartsFromBeginning(env: NodeJS.ProcessEnv): boolean {
  const start = env["REFUNDS_SAGA_START_AT"] ?? "latest";
  if (start !== "earliest" && start !== "latest") {
    throw new Error(`REFUNDS_SAGA_START_AT must be earliest or latest, not ${start}`);
  }
  return start === "earliest";
}
