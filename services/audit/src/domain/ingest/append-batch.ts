import { inTransaction, type DatabasePool, type DatabaseTransactionConnection } from "@money/db";
import type { IncomingBatch } from "@money/kafka";
import { existingEventIds, insertEntries, type NewEntryRow } from "../../db/entries-table.js";
import { saveOffset, storedOffset } from "../../db/offsets-table.js";
import { erasureGeneration } from "../../db/personal-data-table.js";
import { insertRejectedMessages, type RejectedMessage } from "../../db/rejected-messages-table.js";
import {
  insertTreeHead,
  insertTreeNodes,
  latestTreeHead,
  lockSequencer,
  type TreeNode,
} from "../../db/tree-table.js";
import { encodeLeafBody, withSequence, type LeafFields } from "../log/leaf-encoder.js";
import { CompactMerkleTree, leafHash } from "../merkle/index.js";
import { personalValuesOf } from "../personal-data/personal-fields.js";
import type { PersonalRefCache } from "../personal-data/personal-ref-cache.js";
import { refsForBatch, type BatchRefs } from "../personal-data/store-personal-values.js";
import { readAuditMessage, type AuditMessage } from "./audit-message.js";
import { leafOf, refsFrom } from "./leaf-of.js";

/** What one batch did to the log. */
export interface AppendOutcome {
  /** Entries appended. */
  readonly appended: number;
  /** Events the log already held (a replay or a duplicate publish). */
  readonly duplicates: number;
  /** Messages before the stored offset: applied by an earlier batch. */
  readonly alreadyApplied: number;
  /** Messages that are not audit events, kept in rejected_messages. */
  readonly rejected: number;
  /** Tree size after the batch. */
  readonly treeSize: number;
}

type AuditEventMessage = Extract<AuditMessage, { ok: true }>;

/** An event with its leaf encoded but for the sequence number. */
interface PreparedEvent {
  readonly read: AuditEventMessage;
  readonly leaf: LeafFields;
  readonly body: Uint8Array;
}

/**
 * The sequencer: appends a batch of messages of one partition of the audit
 * topic to the Merkle log, in one database transaction that also moves the
 * consumer's stored offset.
 *
 * Most of the work happens before the sequencer lock is taken, so that it
 * overlaps the database work of the batch holding the lock: decoding,
 * storing the batch's personal values (their own short transaction; a
 * value stored and then never used is harmless) and encoding each leaf but
 * for its sequence number. Under the lock it skips what the stored offset
 * says was applied and the event ids the log already holds, numbers the
 * rest after the current tree, completes and hashes their leaves, extends
 * the compact tree (storing every perfect subtree it completes) and records
 * the new tree head. If an erasure happened in between, or the clock is
 * behind the last batch's, the leaves are prepared again under the lock.
 *
 * Personal values already known come from `cache`, which learns new ones
 * only after they committed. The clock is read once, by the caller:
 * `recordedAt` is stamped on every entry of the batch, raised to the
 * previous head's when the clock went back, so recorded_at never decreases
 * along the log.
 *
 * Errors: none of its own; a database failure rolls everything back and the
 * bus delivers the batch again.
 */
export async function appendBatch(
  pool: DatabasePool,
  consumer: string,
  batch: IncomingBatch,
  recordedAt: Date,
  cache: PersonalRefCache,
): Promise<AppendOutcome> {
  const read: AuditMessage[] = [];
  for (const message of batch.messages) {
    read.push(readAuditMessage(message));
    if (read.length % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const events: AuditEventMessage[] = [];
  const rejected: RejectedMessage[] = [];
  for (const r of read) {
    if (r.ok) events.push(r);
    else rejected.push({ ...r.message, reason: r.reason });
  }
  const personal = events.flatMap((e) => personalValuesOf(e.event, e.before, e.after));
  let refs =
    events.length === 0
      ? undefined
      : await inTransaction(pool, (tx) => refsForBatch(tx, personal, cache), { isolation: "read committed" });
  if (refs) cache.learn(refs.generation, refs.learnt);
  let prepared = refs ? await prepare(events, recordedAt, refs) : [];

  return inTransaction(
    pool,
    async (tx) => {
      await lockSequencer(tx);
      const stored = await storedOffset(tx, consumer, batch.topic, batch.partition);
      const applied = (message: { offset: string }) =>
        stored !== null && BigInt(message.offset) < BigInt(stored);
      const head = await latestTreeHead(tx);
      const known = await existingEventIds(
        tx,
        events.map((e) => e.event.eventId),
      );
      const outcome = { alreadyApplied: read.filter((r) => applied(r.message)).length, duplicates: 0 };

      // Leaves prepared without the lock are right unless an erasure took a
      // ref away meanwhile or the previous batch was stamped later.
      const stamp = head && head.recordedAt > recordedAt ? head.recordedAt : recordedAt;
      if (refs && (stamp !== recordedAt || (await erasureGeneration(tx)) !== refs.generation)) {
        refs = await refsForBatch(tx, personal, cache);
        prepared = await prepare(events, stamp, refs);
      }

      const toAppend: PreparedEvent[] = [];
      for (const p of prepared) {
        if (applied(p.read.message)) continue;
        // The set also drops a second copy of an event within the batch.
        if (known.has(p.read.event.eventId)) outcome.duplicates++;
        else {
          known.add(p.read.event.eventId);
          toAppend.push(p);
        }
      }
      const size = head?.size ?? 0;
      if (toAppend.length > 0)
        await append(tx, head ? { size, compact: head.compact } : undefined, toAppend, stamp);
      await insertRejectedMessages(
        tx,
        consumer,
        rejected.filter((r) => !applied(r)),
      );
      const last = batch.messages[batch.messages.length - 1]!;
      const next = BigInt(last.offset) + 1n;
      if (stored === null || next > BigInt(stored)) {
        await saveOffset(tx, consumer, batch.topic, batch.partition, String(next));
      }
      return {
        ...outcome,
        appended: toAppend.length,
        rejected: rejected.filter((r) => !applied(r)).length,
        treeSize: size + toAppend.length,
      };
    },
    { isolation: "read committed" },
  );
}

/**
 * Encodes the leaves but for their sequence numbers. Yields to the event
 * loop every few hundred events, so that a batch holding the sequencer lock
 * is never kept waiting by another batch's encoding.
 */
async function prepare(
  events: readonly AuditEventMessage[],
  stamp: Date,
  refs: BatchRefs,
): Promise<PreparedEvent[]> {
  const refOf = refsFrom(refs.refs);
  const prepared: PreparedEvent[] = [];
  for (const read of events) {
    const leaf = leafOf(read, 0, stamp, refOf);
    prepared.push({ read, leaf, body: encodeLeafBody(leaf) });
    if (prepared.length % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return prepared;
}

const YIELD_EVERY = 200;

/** Numbers the events after the tree, appends their leaves and the subtrees they complete. */
async function append(
  tx: DatabaseTransactionConnection,
  head: { size: number; compact: readonly Uint8Array[] } | undefined,
  events: readonly PreparedEvent[],
  stamp: Date,
): Promise<void> {
  const size = head?.size ?? 0;
  const tree = head ? CompactMerkleTree.fromState({ size, hashes: head.compact }) : CompactMerkleTree.empty();
  const nodes: TreeNode[] = [];
  const onSubtree = (level: number, index: number, hash: Uint8Array) => {
    if (level > 0) nodes.push({ level, index, hash });
  };
  const rows: NewEntryRow[] = events.map(({ read, leaf: fields, body }, i) => {
    const sequence = size + i;
    const leaf = withSequence(sequence, body);
    const hash = leafHash(leaf);
    tree.append(hash, onSubtree);
    const { actor } = fields;
    return {
      sequence,
      eventId: read.event.eventId,
      leaf,
      leafHash: hash,
      service: fields.service,
      action: fields.action,
      objectType: fields.objectType,
      objectId: fields.objectId,
      principalId: actor.principalId,
      actingDeviceId: actor.actingDeviceId,
      ipRef: actor.ipRef.length > 0 ? actor.ipRef : null,
      userAgentRef: actor.userAgentRef.length > 0 ? actor.userAgentRef : null,
      occurredAt: read.occurredAt,
      recordedAt: stamp,
      correlationId: fields.correlationId,
      sourceTopic: read.message.topic,
      sourcePartition: read.message.partition,
      sourceOffset: read.message.offset,
    };
  });
  await insertEntries(tx, rows);
  await insertTreeNodes(tx, nodes);
  const state = tree.toState();
  await insertTreeHead(tx, {
    size: state.size,
    firstSequence: size,
    root: tree.root(),
    compact: state.hashes,
    recordedAt: stamp,
  });
}
