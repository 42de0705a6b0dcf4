import { TOPICS } from "@money/kafka";
import type { Logger } from "@money/rpc";
import {
  encodeSignerKey,
  encodeVerifierKey,
  generateCheckpointKeyPair,
  parseSignerKey,
  type NoteSigner,
  type NoteVerifier,
} from "./domain/checkpoint/index.js";
import { createPublicKey } from "node:crypto";

/** How the audit service runs, from its environment. */
export interface AuditConfig {
  /** The log's identity, first line of every checkpoint. */
  readonly origin: string;
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
  /** The verifier key string auditors pin. */
  readonly verifierKey: string;
  readonly checkpointIntervalMs: number;
  /** Topic the audit events arrive on, and the consumer group reading it. */
  readonly eventsTopic: string;
  readonly consumerGroup: string;
  readonly checkpointsTopic: string;
  /** Domain topics whose events must each have an audit entry. */
  readonly completenessTopics: readonly string[];
  readonly completenessGroup: string;
  readonly maxBatchSize: number;
}

const DEFAULT_ORIGIN = "money-platform.local/audit";

/**
 * Reads the configuration:
 *   AUDIT_SIGNING_KEY            checkpoint signing key, "PRIVATE+KEY+<name>+<hash>+<base64>"
 *                                (golang.org/x/mod/sumdb/note format). Absent: a key is generated
 *                                for this process only and its verifier key logged (development).
 *   AUDIT_LOG_ORIGIN             checkpoint origin; default: the key's name
 *   AUDIT_CHECKPOINT_INTERVAL_MS how often a grown log is signed; default 1000
 *   AUDIT_EVENTS_TOPIC, AUDIT_CONSUMER_GROUP, AUDIT_CHECKPOINTS_TOPIC
 *   AUDIT_COMPLETENESS_TOPICS    comma-separated; AUDIT_COMPLETENESS_GROUP
 *   AUDIT_MAX_BATCH_SIZE         events per sequencer transaction; default 5000
 *
 * @throws CheckpointError when AUDIT_SIGNING_KEY is malformed.
 */
export function auditConfigFrom(env: NodeJS.ProcessEnv, log: Logger): AuditConfig {
  let signer: NoteSigner;
  const keyText = env["AUDIT_SIGNING_KEY"];
  if (keyText) {
    signer = parseSignerKey(keyText);
  } else {
    signer = generateCheckpointKeyPair(env["AUDIT_LOG_ORIGIN"] ?? DEFAULT_ORIGIN).signer;
    log.warn(
      { verifierKey: encodeVerifierKey(verifierOf(signer)) },
      "AUDIT_SIGNING_KEY is not set: signing checkpoints with a key generated for this process only",
    );
  }
  const verifier = verifierOf(signer);
  return {
    origin: env["AUDIT_LOG_ORIGIN"] ?? signer.name,
    signer,
    verifier,
    verifierKey: encodeVerifierKey(verifier),
    checkpointIntervalMs: positive(env["AUDIT_CHECKPOINT_INTERVAL_MS"], 1_000),
    eventsTopic: env["AUDIT_EVENTS_TOPIC"] ?? TOPICS.auditEvents.topic,
    consumerGroup: env["AUDIT_CONSUMER_GROUP"] ?? "audit-ingester",
    checkpointsTopic: env["AUDIT_CHECKPOINTS_TOPIC"] ?? TOPICS.auditCheckpoints.topic,
    completenessTopics: (
      env["AUDIT_COMPLETENESS_TOPICS"] ??
      [TOPICS.ledgerTransactions.topic, TOPICS.loyaltyTransactions.topic, TOPICS.refundsEvents.topic].join(
        ",",
      )
    )
      .split(",")
      .filter((t) => t !== ""),
    completenessGroup: env["AUDIT_COMPLETENESS_GROUP"] ?? "audit-completeness",
    maxBatchSize: positive(env["AUDIT_MAX_BATCH_SIZE"], 5_000),
  };
}

/** The signing key as the env variable takes it, e.g. to print a freshly generated one. */
export function signerKeyText(signer: NoteSigner): string {
  return encodeSignerKey(signer);
}

function verifierOf(signer: NoteSigner): NoteVerifier {
  return { name: signer.name, publicKey: createPublicKey(signer.privateKey) };
}

function positive(text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number.parseInt(text, 10);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`expected a positive integer, got ${text}`);
  return value;
}
