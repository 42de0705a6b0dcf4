import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import { insertPairingCode } from "../../db/pairing-codes-table.js";
import { findStore } from "../../db/stores-table.js";
import { assertActsFor, type Acting } from "../acting.js";
import { addSeconds } from "../clock.js";
import { requireId, requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { newPairingCode, pairingCodeHash } from "./pairing-code.js";

export interface CreatePairingCode {
  storeId: string;
  deviceLabel: string;
  /** 0 means 600. */
  ttlSeconds: number;
}

const DEFAULT_TTL_SECONDS = 600;

/**
 * Issues a single-use pairing code for a terminal of a store. Only its hash
 * is stored; the code itself is returned once.
 *
 * Errors: INVALID_ARGUMENT (store id, label, ttl), STORE_NOT_FOUND, PERMISSION_DENIED.
 */
export async function createPairingCode(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: CreatePairingCode,
  acting: Acting,
): Promise<{ code: string; expiresAt: Date }> {
  const storeId = requireId("store_id", command.storeId);
  const deviceLabel = requireText("device_label", command.deviceLabel, 100);
  const ttlSeconds = command.ttlSeconds || DEFAULT_TTL_SECONDS;
  if (ttlSeconds < 60 || ttlSeconds > 86_400) {
    throw new LoyaltyError("INVALID_ARGUMENT", "ttl_seconds must be between 60 and 86400");
  }
  const store = await findStore(tx, storeId);
  if (!store) throw new LoyaltyError("STORE_NOT_FOUND", `no store ${storeId}`);
  assertActsFor(acting, store.merchantId);
  const at = deps.clock.now();
  const code = newPairingCode();
  const id = randomUUID();
  const expiresAt = addSeconds(at, ttlSeconds);
  await insertPairingCode(tx, {
    id,
    codeHash: pairingCodeHash(code),
    merchantId: store.merchantId,
    storeId,
    deviceLabel,
    createdBy: acting.actor.principalId,
    expiresAt,
  });
  await deps.audit.record(tx, {
    action: "device_pairing_code.created",
    objectType: "device_pairing_code",
    objectId: id,
    actor: acting.actor,
    after: { store_id: storeId, device_label: deviceLabel, expires_at: expiresAt.toISOString() },
    occurredAt: at,
  });
  return { code, expiresAt };
}
