import type { DatabaseTransactionConnection } from "@money/db";
import { findDevice, revokeDeviceRow } from "../../db/devices-table.js";
import { assertActsFor, type Acting } from "../acting.js";
import { requireId, requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import type { Device } from "./device.js";

export interface RevokeDevice {
  deviceId: string;
  reason: string;
}

/**
 * Revokes a device: its token is refused from its next call on, since
 * every terminal call reads the device row.
 *
 * Errors: INVALID_ARGUMENT, DEVICE_NOT_FOUND, PERMISSION_DENIED, DEVICE_ALREADY_REVOKED.
 */
export async function revokeDevice(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: RevokeDevice,
  acting: Acting,
): Promise<Device> {
  const deviceId = requireId("device_id", command.deviceId);
  const reason = requireText("reason", command.reason, 500);
  const device = await findDevice(tx, deviceId);
  if (!device) throw new LoyaltyError("DEVICE_NOT_FOUND", `no device ${deviceId}`);
  assertActsFor(acting, device.merchantId);
  const at = deps.clock.now();
  const revoked = await revokeDeviceRow(tx, deviceId, at, reason);
  if (!revoked) throw new LoyaltyError("DEVICE_ALREADY_REVOKED", `device ${deviceId} is already revoked`);
  await deps.audit.record(tx, {
    action: "device.revoked",
    objectType: "device",
    objectId: deviceId,
    actor: acting.actor,
    reason,
    before: { revoked: false },
    after: { revoked: true, revoked_at: at.toISOString() },
    occurredAt: at,
  });
  return revoked;
}
