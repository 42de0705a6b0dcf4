import { randomUUID } from "node:crypto";
import type { CommonQueryMethods, DatabaseTransactionConnection } from "@money/db";
import type { Actor } from "@money/kafka";
import { findDevice, insertDevice } from "../../db/devices-table.js";
import { lockPairingCode, markPairingCodeUsed } from "../../db/pairing-codes-table.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import type { Device } from "./device.js";
import { pairingCodeHash } from "./pairing-code.js";

/** Where the pairing call came from: there is no token yet, only the connection. */
export interface Connection {
  ip: string | undefined;
  userAgent: string | undefined;
}

/**
 * Redeems a pairing code: creates the device in the code's store and uses
 * the code up. The caller mints the device token from the result.
 *
 * Errors: PAIRING_CODE_INVALID (unknown, already used or expired; one
 * reason for all three, so the reply tells a guesser nothing).
 */
export async function pairDevice(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  pairingCode: string,
  connection: Connection,
): Promise<Device> {
  const at = deps.clock.now();
  const code = await lockPairingCode(tx, pairingCodeHash(pairingCode));
  if (!code || code.usedAt !== null || code.expiresAt <= at) {
    throw new LoyaltyError("PAIRING_CODE_INVALID", "the pairing code is unknown, used or expired");
  }
  const device = await insertDevice(tx, {
    id: randomUUID(),
    merchantId: code.merchantId,
    storeId: code.storeId,
    label: code.deviceLabel,
    pairedAt: at,
  });
  await markPairingCodeUsed(tx, code.id, device.id, at);
  const actor: Actor = {
    principalId: device.id,
    role: "terminal",
    actingDeviceId: device.id,
    ip: connection.ip,
    userAgent: connection.userAgent,
  };
  await deps.audit.record(tx, {
    action: "device.paired",
    objectType: "device",
    objectId: device.id,
    actor,
    after: {
      merchant_id: device.merchantId,
      store_id: device.storeId,
      label: device.label,
      pairing_code_id: code.id,
    },
    occurredAt: at,
  });
  return device;
}

/** How long after pairing a retried PairDevice (same code, same key) still gets a token. */
const PAIRING_REPLAY_WINDOW_MS = 10 * 60_000;

/**
 * The device a pairing answer may carry a token for: the one just paired, or,
 * for a retry whose first answer was lost, the same device shortly after.
 * Tokens are never stored, so a replay mints a fresh one.
 *
 * Errors: DEVICE_NOT_PAIRED, DEVICE_REVOKED, PAIRING_CODE_INVALID (the retry came too late).
 */
export async function deviceToIssueTokenFor(
  db: CommonQueryMethods,
  deviceId: string,
  at: Date,
): Promise<Device> {
  const device = await findDevice(db, deviceId);
  if (!device) throw new LoyaltyError("DEVICE_NOT_PAIRED", `device ${deviceId} is not paired`);
  if (device.revokedAt !== null) throw new LoyaltyError("DEVICE_REVOKED", `device ${deviceId} was revoked`);
  if (at.getTime() - device.pairedAt.getTime() > PAIRING_REPLAY_WINDOW_MS) {
    throw new LoyaltyError("PAIRING_CODE_INVALID", "the pairing code is unknown, used or expired");
  }
  return device;
}
