import { inTransaction, type DatabasePool } from "@money/db";
import type { IncomingBatch } from "@money/kafka";
import { existingEventIds, insertEntries, type NewEntryRow } from "../../db/entries-table.js";
import { saveOffset, storedOffset } from "../../db/offsets-table.js";
import { storePersonalValues } from "../../db/personal-data-table.js";
import { insertRejectedMessages, type RejectedMessage } from "../../db/rejected-messages-table.js";
import {
  insertTreeHead,
  insertTreeNodes,
  latestTreeHead,
  lockSequencer,
  type TreeNode,
} from "../../db/tree-table.js";
import { encodeLogEntry } from "../log/log-entry-codec.js";
import { CompactMerkleTree, leafHash } from "../merkle/index.js";
import { personalValuesOf } from "../personal-data/personal-fields.js";
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

/**
 * The sequencer: appends a batch of messages of one partition of the audit
 * topic to the Merkle log, in one database transaction that also moves the
 * consumer's stored offset. Under the sequencer lock it skips what the
 * stored offset says was applied and the event ids the log already holds,
 * numbers the rest after the current tree, builds their leaves, extends the
 * compact tree (storing every perfect subtree it completes) and records the
 * new tree head.
 *
 * The clock is read once, by the caller: `recordedAt` is stamped on every
 * entry of the batch, raised to the previous head's if the clock went back,
 * so recorded_at never decreases along the log.
 *
 * Errors: none of its own; a database failure rolls everything back and the
 * bus delivers the batch again.
 */
export async function appendBatch(
  pool: DatabasePool,
  consumer: string,
  batch: IncomingBatch,
  recordedAt: Date,
): Promise<AppendOutcome> {
  // Decoding is pure: done once, outside the transaction, which may be retried.
  const read = batch.messages.map(readAuditMessage);
  return inTransaction(
    pool,
    async (tx) => {
      await lockSequencer(tx);
      const stored = await storedOffset(tx, consumer, batch.topic, batch.partition);
      const fresh = stored === null ? read : read.filter((r) => BigInt(r.message.offset) >= BigInt(stored));
      const last = batch.messages[batch.messages.length - 1]!;
      const outcome = { alreadyApplied: read.length - fresh.length, duplicates: 0, rejected: 0, appended: 0 };

      const head = await latestTreeHead(tx);
      const events: Extract<AuditMessage, { ok: true }>[] = [];
      const rejected: RejectedMessage[] = [];
      for (const r of fresh) {
        if (r.ok) events.push(r);
        else rejected.push({ ...r.message, reason: r.reason });
      }
      const known = await existingEventIds(
        tx,
        events.map((e) => e.event.eventId),
      );
      const toAppend: typeof events = [];
      for (const e of events) {
        // The set also drops a second copy of an event within the batch.
        if (known.has(e.event.eventId)) outcome.duplicates++;
        else {
          known.add(e.event.eventId);
          toAppend.push(e);
        }
      }

      const size = head?.size ?? 0;
      if (toAppend.length > 0) {
        const stamp = head && head.recordedAt > recordedAt ? head.recordedAt : recordedAt;
        const refs = refsFrom(
          await storePersonalValues(
            tx,
            toAppend.flatMap((e) => personalValuesOf(e.event, e.before, e.after)),
          ),
        );
        const tree = head
          ? CompactMerkleTree.fromState({ size, hashes: head.compact })
          : CompactMerkleTree.empty();
        const nodes: TreeNode[] = [];
        const onSubtree = (level: number, index: number, hash: Uint8Array) => {
          if (level > 0) nodes.push({ level, index, hash });
        };
        const rows: NewEntryRow[] = toAppend.map((e, i) => {
          const sequence = size + i;
          const entry = leafOf(e, sequence, stamp, refs);
          const leaf = encodeLogEntry(entry);
          const hash = leafHash(leaf);
          tree.append(hash, onSubtree);
          const actor = entry.actor!;
          return {
            sequence,
            eventId: e.event.eventId,
            leaf,
            leafHash: hash,
            service: entry.service,
            action: entry.action,
            objectType: entry.objectType,
            objectId: entry.objectId,
            principalId: actor.principalId,
            actingDeviceId: actor.actingDeviceId,
            ipRef: actor.ipRef.length > 0 ? actor.ipRef : null,
            userAgentRef: actor.userAgentRef.length > 0 ? actor.userAgentRef : null,
            occurredAt: e.occurredAt,
            recordedAt: stamp,
            correlationId: entry.correlationId,
            sourceTopic: e.message.topic,
            sourcePartition: e.message.partition,
            sourceOffset: e.message.offset,
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
        outcome.appended = rows.length;
      }
      await insertRejectedMessages(tx, consumer, rejected);
      outcome.rejected = rejected.length;
      const next = BigInt(last.offset) + 1n;
      if (stored === null || next > BigInt(stored)) {
        await saveOffset(tx, consumer, batch.topic, batch.partition, String(next));
      }
      return { ...outcome, treeSize: size + outcome.appended };
    },
    { isolation: "read committed" },
  );
}
