import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  CheckCompletenessResponseSchema,
  CompletenessGapSchema,
  ErasePersonalDataResponseSchema,
  ExportBundleResponseSchema,
  GetConsistencyProofResponseSchema,
  GetEntryResponseSchema,
  GetLatestCheckpointResponseSchema,
  GetObjectHistoryResponseSchema,
  QueryEventsResponseSchema,
  type AuditService,
} from "@money/proto/audit/v1/audit_pb";
import { callerOf, DomainError, toConnectError } from "@money/rpc";
import type { ServiceDeps } from "@money/runtime";
import type { AuditConfig } from "../config.js";
import { snapshotStream } from "../db/snapshot-stream.js";
import { AuditError } from "../domain/audit-error.js";
import { writeBundle, type BundleRequest } from "../domain/export/write-bundle.js";
import { getConsistencyProof } from "../domain/proofs/get-consistency-proof.js";
import { getEntry } from "../domain/proofs/get-entry.js";
import { getLatestCheckpoint } from "../domain/proofs/get-latest-checkpoint.js";
import { objectHistory } from "../domain/query/object-history.js";
import { queryEvents } from "../domain/query/query-events.js";
import { checkCompleteness } from "../domain/completeness/check-completeness.js";
import { erasePersonalData } from "../domain/personal-data/erase-personal-data.js";
import type { OwnAuditEvents } from "../events/own-audit-events.js";
import { AUDIT_ERROR_CODES } from "./error-codes.js";
import { checkpointToWire, recordToWire } from "./record-mapper.js";

export interface AuditHandlerDeps {
  readonly deps: ServiceDeps;
  readonly config: AuditConfig;
  readonly own: OwnAuditEvents;
}

/**
 * Thin handlers: record the auditor's call in the trail, map the request to
 * a use case, map the result back.
 */
export function auditHandlers({ deps, config, own }: AuditHandlerDeps): ServiceImpl<typeof AuditService> {
  const { pool } = deps;
  const audited = (ctx: HandlerContext, query: JsonObject, reason = "") =>
    own.queried(callerOf(ctx), ctx.method.name, query, reason);

  return {
    async getEntry(req, ctx) {
      const selector =
        req.entry.case === "sequence"
          ? { sequence: safeNumber(req.entry.value, "sequence") }
          : req.entry.case === "eventId"
            ? { eventId: req.entry.value }
            : undefined;
      if (!selector) throw new AuditError("INVALID_ARGUMENT", "give a sequence or an event_id");
      const treeSize = safeNumber(req.treeSize, "tree_size");
      await audited(ctx, { ...stringified(selector), tree_size: String(treeSize) });
      const found = await getEntry(pool, selector, treeSize);
      return create(GetEntryResponseSchema, {
        record: recordToWire(found.entry),
        inclusionProof: found.proof,
        checkpoint: checkpointToWire(found.checkpoint, config.origin),
      });
    },

    async getConsistencyProof(req, ctx) {
      const firstSize = safeNumber(req.firstSize, "first_size");
      const secondSize = safeNumber(req.secondSize, "second_size");
      await audited(ctx, { first_size: String(firstSize), second_size: String(secondSize) });
      const found = await getConsistencyProof(pool, firstSize, secondSize);
      return create(GetConsistencyProofResponseSchema, {
        firstSize: BigInt(found.firstSize),
        secondSize: BigInt(found.checkpoint.size),
        proof: found.proof,
        checkpoint: checkpointToWire(found.checkpoint, config.origin),
      });
    },

    async getLatestCheckpoint(_req, ctx) {
      await audited(ctx, {});
      const checkpoint = await getLatestCheckpoint(pool);
      return create(GetLatestCheckpointResponseSchema, {
        checkpoint: checkpointToWire(checkpoint, config.origin),
        verifierKey: config.verifierKey,
      });
    },

    async queryEvents(req, ctx) {
      const query = {
        service: req.service,
        actor: req.actor,
        deviceId: req.deviceId,
        objectType: req.objectType,
        objectId: req.objectId,
        action: req.action,
        occurredFrom: dateOf(req.occurredFrom),
        occurredTo: dateOf(req.occurredTo),
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      };
      await audited(ctx, stringified(query), req.reason);
      const page = await queryEvents(pool, query);
      return create(QueryEventsResponseSchema, {
        records: page.entries.map(recordToWire),
        nextPageToken: page.nextPageToken,
      });
    },

    async getObjectHistory(req, ctx) {
      await audited(
        ctx,
        { object_type: req.objectType, object_id: req.objectId, page_token: req.pageToken },
        req.reason,
      );
      const page = await objectHistory(pool, req.objectType, req.objectId, req.pageSize, req.pageToken);
      return create(GetObjectHistoryResponseSchema, {
        records: page.entries.map(recordToWire),
        nextPageToken: page.nextPageToken,
      });
    },

    async *exportBundle(req, ctx) {
      // A streaming response passes the error interceptor before its first
      // message, so refusals are mapped here.
      try {
        const request: BundleRequest = {
          range:
            req.range.case === "recorded"
              ? { kind: "recorded", from: dateOf(req.range.value.from), to: dateOf(req.range.value.to) }
              : {
                  kind: "sequences",
                  first: safeNumber(req.range.value?.first ?? 0n, "first"),
                  end: safeNumber(req.range.value?.end ?? 0n, "end"),
                },
          consistencyFromSizes: req.consistencyFromSizes.map((size) =>
            safeNumber(size, "consistency_from_sizes"),
          ),
          includeInclusionProofs: req.includeInclusionProofs,
          includePersonalData: req.includePersonalData,
        };
        await audited(
          ctx,
          {
            range: JSON.stringify(request.range),
            consistency_from_sizes: request.consistencyFromSizes.join(","),
            include_inclusion_proofs: String(request.includeInclusionProofs),
            include_personal_data: String(request.includePersonalData),
          },
          req.reason,
        );
        for await (const chunk of snapshotStream(pool, (tx, emit) =>
          writeBundle(tx, config, request, emit),
        )) {
          yield create(ExportBundleResponseSchema, { chunk });
        }
      } catch (error) {
        if (error instanceof DomainError) throw toConnectError(error, AUDIT_ERROR_CODES);
        throw error;
      }
    },

    async checkCompleteness(req, ctx) {
      const before = dateOf(req.occurredBefore) ?? new Date(Date.now() - COMPLETENESS_LAG_MS);
      await audited(ctx, { occurred_before: before.toISOString() }, req.reason);
      const report = await checkCompleteness(pool, before);
      return create(CheckCompletenessResponseSchema, {
        domainEventsChecked: BigInt(report.checked),
        gaps: report.gaps.map((gap) =>
          create(CompletenessGapSchema, {
            topic: gap.topic,
            eventId: gap.eventId,
            eventType: gap.eventType,
            producer: gap.producer,
            aggregateType: gap.aggregateType,
            aggregateId: gap.aggregateId,
            occurredAt: timestampFromDate(gap.occurredAt),
          }),
        ),
      });
    },

    async erasePersonalData(req, ctx) {
      const erased = await erasePersonalData(pool, {
        customerRef: req.customerRef,
        ips: req.ips,
        userAgents: req.userAgents,
      });
      await own.erased(
        callerOf(ctx),
        erased,
        {
          customer: req.customerRef !== "",
          ips: String(req.ips.length),
          user_agents: String(req.userAgents.length),
        },
        req.reason,
      );
      return create(ErasePersonalDataResponseSchema, { erased });
    },
  };
}

/** How far the trail may lag the domain topics before a missing record counts as a gap. */
const COMPLETENESS_LAG_MS = 60_000;

/** A uint64 from the wire as a number; log sizes stay far below 2^53. */
function safeNumber(value: bigint, name: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new AuditError("INVALID_ARGUMENT", `${name} ${value} is beyond 2^53 - 1`);
  }
  return Number(value);
}

function dateOf(timestamp: Timestamp | undefined): Date | undefined {
  return timestamp ? timestampDate(timestamp) : undefined;
}

/** The query as JSON text values for the trail: absent and empty filters left out. */
function stringified(query: object): JsonObject {
  const json: JsonObject = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === "" || value === 0) continue;
    json[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] =
      value instanceof Date ? value.toISOString() : String(value);
  }
  return json;
}
