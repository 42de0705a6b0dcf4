import { fileURLToPath } from "node:url";

export type {
  BatchSubscribeOptions,
  EventBus,
  IncomingBatch,
  IncomingMessage,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "./bus/event-bus.js";
export { KafkaBus, type KafkaBusOptions } from "./bus/kafka-bus.js";
export { InProcessBus } from "./bus/in-process-bus.js";
export { partitionFor } from "./bus/partition-for.js";
export { subscribeBatches } from "./bus/batch-subscription.js";
export { TOPICS, ALL_TOPICS } from "./topics.js";
export {
  envelopeOf,
  encodeEnvelope,
  decodeEnvelope,
  payloadAs,
  timestampOf,
  type NewEvent,
} from "./envelope.js";
export { encodeMessage } from "./envelope-encoding.js";
export { OutboxWriter, type OutboxInsert } from "./outbox.js";
export { OutboxRelay, type RelayOptions } from "./relay.js";
export { subscribeThroughInbox, type InboxSubscription } from "./inbox.js";
export { AuditRecorder, type Actor, type AuditEntry } from "./audit-recorder.js";

/** Migrations for the outbox and inbox tables, applied in every service schema. */
export const EVENTS_MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
