import type { CommonQueryMethods } from "@money/db";
import { findDeviceInStore } from "../../db/devices-table.js";
import { LoyaltyError } from "../loyalty-error.js";
import type { DeviceInStore } from "./device.js";

/**
 * Checks, on every call a terminal makes, that its device is paired to the
 * merchant its token names and not revoked. A signed token alone is not
 * enough: revocation must take effect before the token expires.
 *
 * Errors: DEVICE_NOT_PAIRED, DEVICE_REVOKED (both UNAUTHENTICATED: the
 * device's credential is no longer valid and the terminal must be paired again).
 */
export async function authenticateDevice(
  db: CommonQueryMethods,
  deviceId: string,
  tokenMerchantId: string | undefined,
): Promise<DeviceInStore> {
  const found = /^[0-9a-f-]{36}$/i.test(deviceId) ? await findDeviceInStore(db, deviceId) : null;
  if (!found || found.device.merchantId !== tokenMerchantId) {
    throw new LoyaltyError("DEVICE_NOT_PAIRED", `device ${deviceId} is not paired with this merchant`);
  }
  if (found.device.revokedAt !== null) {
    throw new LoyaltyError(
      "DEVICE_REVOKED",
      `device ${deviceId} was revoked: ${found.device.revokeReason ?? ""}`,
    );
  }
  return found;
}
