import { create } from "@bufbuild/protobuf";
import { isRetryableConflict, type DatabaseTransactionConnection } from "@money/db";
import { payloadAs, TOPICS } from "@money/kafka";
import {
  Participant,
  RefundSagaCommandSchema,
  RefundSagaReplySchema,
  ReplyOutcome,
  type RefundSagaCommand,
  type RefundSagaReply,
} from "@money/proto/refunds/v1/saga_pb";
import { DomainError, IdempotencyBatch, type RecordKey } from "@money/rpc";
import type { ServiceDeps } from "@money/runtime";
import { subscribeSagaInbox } from "./saga-inbox.js";
import { sagaConsumerGroup, sagaNamespace, sagaStartsFromBeginning, stepFromWire } from "./saga-messages.js";

/** What a participant's step reports on success: the reply's result. */
export type StepResult = RefundSagaReply["result"];

export interface RefundParticipantOptions {
  participant: Participant;
  /** Base name of the consumer group and of its inbox rows, e.g. "ledger.refund-participant". */
  consumer: string;
  /**
   * Opens the work of one batch of commands, in the batch's transaction: a
   * batch that is tried again (after a conflict) opens a new one.
   */
  openBatch(): ParticipantBatch;
  /** Refusal reasons that mean "try again later" rather than "no". */
  transientReasons?: readonly string[];
}

/** One batch's work of a participant, in the batch's transaction. */
export interface ParticipantBatch {
  /**
   * Performs one step, in a savepoint of the transaction, by calling the
   * service's own use cases. Returns the result on success; throws the
   * service's DomainError for a business refusal (the savepoint rolls its
   * writes back). It never runs twice for one step of one saga: a later
   * attempt gets the first outcome back.
   */
  perform(tx: DatabaseTransactionConnection, command: RefundSagaCommand): Promise<StepResult>;
  /** Runs after the batch's last step, before its replies are written: writes what the steps left for the end. */
  finish?(tx: DatabaseTransactionConnection): Promise<void>;
}

/**
 * Runs a refund saga participant inside a service's process: consumes the
 * commands addressed to it on refunds.commands through the service's inbox,
 * performs each step once, and answers on refunds.replies through the
 * service's outbox, in the same database transaction as the step.
 *
 * The answer is one of a closed set: SUCCEEDED (with the result),
 * REFUSED (a business rule said no; nothing changed), TRANSIENT_FAILURE
 * (a timeout, a lost connection, a conflict that outlived its retries;
 * nothing changed) or FAILED (anything else, a bug: nothing changed, and
 * the saga parks for an operator instead of guessing).
 *
 * Exactly-once effect, twice over: the inbox drops copies of one command
 * (one attempt), and an idempotency record per (saga, step), written with
 * the step's effect, answers any later attempt with the first outcome
 * (IdempotencyBatch: a batch's records cost a statement or two, not two per step).
 */
export async function startRefundParticipant(
  deps: ServiceDeps,
  options: RefundParticipantOptions,
): Promise<{ stop(): Promise<void> }> {
  const namespace = sagaNamespace(deps.env);
  const consumer = await sagaConsumerGroup(deps.pool, options.consumer, namespace);
  const transient = new Set(["CONFLICT_RETRIES_EXHAUSTED", ...(options.transientReasons ?? [])]);
  const subscription = await subscribeSagaInbox({
    bus: deps.bus,
    pool: deps.pool,
    consumer,
    topic: TOPICS.refundsCommands.topic,
    fromBeginning: sagaStartsFromBeginning(deps.env),
    eventType: RefundSagaCommandSchema.typeName,
    keep: (envelope) => {
      const command = payloadAs(envelope, RefundSagaCommandSchema);
      return (
        command !== undefined &&
        command.participant === options.participant &&
        command.namespace === namespace
      );
    },
    handle: async (tx, envelopes) => {
      const commands = envelopes.map((envelope) => payloadAs(envelope, RefundSagaCommandSchema)!);
      const records = await IdempotencyBatch.claim(
        tx,
        { requestSchema: RefundSagaCommandSchema, responseSchema: RefundSagaReplySchema },
        commands.flatMap((command) => {
          const key = stepKeyOf(command);
          // The step's identity is everything but the attempt that carries it.
          return key ? [{ key, request: create(RefundSagaCommandSchema, { ...command, attempt: 0 }) }] : [];
        }),
      );
      const batch = options.openBatch();
      const replies = [];
      for (const command of commands) {
        const reply = await answer(tx, command, records, batch, transient);
        if (reply.outcome !== ReplyOutcome.SUCCEEDED) {
          deps.log.warn(
            { sagaId: command.sagaId, step: command.step, attempt: command.attempt, reason: reply.reason },
            `refund saga step not done: ${reply.message}`,
          );
        }
        replies.push({
          topic: TOPICS.refundsReplies.topic,
          schema: RefundSagaReplySchema,
          payload: reply,
          aggregateType: "refund",
          aggregateId: command.sagaId,
          occurredAt: new Date(),
          correlationId: command.sagaId,
        });
      }
      // The batch's step records and replies, a statement or two each.
      await batch.finish?.(tx);
      await records.save(tx);
      await deps.outbox.writeMany(tx, replies);
    },
  });
  return { stop: () => subscription.stop() };
}

/** The step record of a command: one per saga and step; null for a step this version does not know. */
function stepKeyOf(command: RefundSagaCommand): RecordKey | null {
  const step = stepFromWire(command.step);
  return step === null || command.sagaId === ""
    ? null
    : { scope: `refund-saga:${step}`, key: command.sagaId };
}

async function answer(
  tx: DatabaseTransactionConnection,
  command: RefundSagaCommand,
  records: IdempotencyBatch<typeof RefundSagaCommandSchema, typeof RefundSagaReplySchema>,
  batch: ParticipantBatch,
  transient: ReadonlySet<string>,
): Promise<RefundSagaReply> {
  const base = {
    sagaId: command.sagaId,
    step: command.step,
    attempt: command.attempt,
    participant: command.participant,
    namespace: command.namespace,
  };
  const key = stepKeyOf(command);
  if (key === null) {
    return stepFromWire(command.step) === null
      ? create(RefundSagaReplySchema, {
          ...base,
          outcome: ReplyOutcome.FAILED,
          reason: "UNKNOWN_STEP",
          message: `this participant does not know step ${command.step}`,
        })
      : create(RefundSagaReplySchema, {
          ...base,
          outcome: ReplyOutcome.REFUSED,
          reason: "IDEMPOTENCY_KEY_MISSING",
          message: "the command names no saga",
        });
  }
  const claim = records.of(key);
  switch (claim.kind) {
    case "done":
      return { ...claim.first, attempt: command.attempt, replayed: claim.first.attempt !== command.attempt };
    case "reused":
      // The same saga step with different data is a bug, not a business refusal.
      return create(RefundSagaReplySchema, {
        ...base,
        outcome: ReplyOutcome.FAILED,
        reason: "IDEMPOTENCY_KEY_REUSED",
        message: `saga ${command.sagaId} already had a different ${key.scope}`,
      });
    case "claimed":
      break;
  }
  try {
    // A savepoint: a refused or failed step rolls back its own writes (its
    // claim is dropped with the batch's records) but not the inbox record and the reply.
    const result = await tx.transaction((savepoint) => batch.perform(savepoint, command));
    const reply = create(RefundSagaReplySchema, { ...base, outcome: ReplyOutcome.SUCCEEDED, result });
    records.succeeded(key, reply);
    return reply;
  } catch (error) {
    // A conflict aborts the whole transaction: let the inbox retry it, then Kafka redeliver.
    if (isRetryableConflict(error) || isRetryableConflict((error as { cause?: unknown }).cause)) throw error;
    records.notDone(key);
    const { outcome, reason, message } = classify(error, transient);
    return create(RefundSagaReplySchema, { ...base, outcome, reason, message });
  }
}

const TRANSIENT_ERROR_NAMES = new Set([
  "StatementTimeoutError",
  "StatementCancelledError",
  "BackendTerminatedError",
  "BackendTerminatedUnexpectedlyError",
  "ConnectionError",
  "IdleTransactionTimeoutError",
]);
const TRANSIENT_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"]);

/**
 * SQLSTATE classes that say "not now" rather than "no": connection exceptions
 * (08), insufficient resources (53), operator intervention (57: timeouts,
 * shutdowns) and lock not available (55P03).
 */
function isTransientSqlState(code: unknown): boolean {
  return typeof code === "string" && (/^(08|53|57)/.test(code) || code === "55P03");
}

function classify(
  error: unknown,
  transient: ReadonlySet<string>,
): { outcome: ReplyOutcome; reason: string; message: string } {
  if (error instanceof DomainError) {
    // The same saga step with different data is a bug, not a business refusal.
    if (error.reason === "IDEMPOTENCY_KEY_REUSED") {
      return { outcome: ReplyOutcome.FAILED, reason: error.reason, message: error.message };
    }
    const outcome = transient.has(error.reason) ? ReplyOutcome.TRANSIENT_FAILURE : ReplyOutcome.REFUSED;
    return { outcome, reason: error.reason, message: error.message };
  }
  const e = error as { name?: string; code?: unknown; message?: string; cause?: { code?: unknown } };
  const message = e.message ?? String(error);
  if (
    TRANSIENT_ERROR_NAMES.has(e.name ?? "") ||
    isTransientSqlState(e.code) ||
    isTransientSqlState(e.cause?.code) ||
    TRANSIENT_NODE_CODES.has(String(e.code))
  ) {
    return { outcome: ReplyOutcome.TRANSIENT_FAILURE, reason: e.name ?? "TRANSIENT", message };
  }
  return { outcome: ReplyOutcome.FAILED, reason: e.name ?? "ERROR", message };
}
