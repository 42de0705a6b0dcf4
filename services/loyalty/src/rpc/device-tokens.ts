import { DEV_TOKEN_SECRET, mintToken } from "@money/rpc";
import type { Device } from "../domain/devices/device.js";
import { LoyaltyError } from "../domain/loyalty-error.js";

const DEFAULT_TTL_SECONDS = 30 * 86_400;

/**
 * Signs device tokens (role "terminal", sub and device_id = the device id,
 * merchant_id) with the platform's HS256 secret, the one the verifier
 * checks. A long lifetime is safe because every terminal call also checks
 * that the device is not revoked.
 *
 * With asymmetric keys (AUTH_JWT_PUBLIC_KEY) this service holds no signing
 * key: a production deployment would delegate minting to the identity
 * provider, and pairing answers PAIRING_UNAVAILABLE until then.
 */
export class DeviceTokens {
  private readonly secret: string | undefined;
  private readonly ttlSeconds: number;

  constructor(env: NodeJS.ProcessEnv) {
    this.secret = env["AUTH_JWT_PUBLIC_KEY"]
      ? undefined
      : (env["AUTH_JWT_SECRET"] ?? (env["NODE_ENV"] === "production" ? undefined : DEV_TOKEN_SECRET));
    this.ttlSeconds = Number.parseInt(
      env["LOYALTY_DEVICE_TOKEN_TTL_SECONDS"] ?? String(DEFAULT_TTL_SECONDS),
      10,
    );
  }

  /** Errors: PAIRING_UNAVAILABLE when this deployment cannot sign tokens. */
  async mint(device: Device, now: Date): Promise<{ token: string; expiresAt: Date }> {
    if (this.secret === undefined) {
      throw new LoyaltyError("PAIRING_UNAVAILABLE", "this deployment has no token signing key for devices");
    }
    const token = await mintToken(
      { sub: device.id, role: "terminal", merchantId: device.merchantId, deviceId: device.id },
      { secret: this.secret, ttlSeconds: this.ttlSeconds },
    );
    return { token, expiresAt: new Date(now.getTime() + this.ttlSeconds * 1000) };
  }
}
