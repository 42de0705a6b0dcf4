import type { HandlerContext } from "@connectrpc/connect";
import type { DatabasePool } from "@money/db";
import { actorOf, callerOf } from "@money/rpc";
import type { StaffCredential } from "@money/proto/loyalty/v1/loyalty_pb";
import type { Acting } from "../domain/acting.js";
import { authenticateDevice } from "../domain/devices/authenticate-device.js";
import { requireId } from "../domain/ids.js";
import type { LoyaltyDeps } from "../domain/loyalty-deps.js";
import { LoyaltyError } from "../domain/loyalty-error.js";
import type { VerifiedPinCache } from "../domain/staff/pin-hash.js";
import { verifyStaffPin } from "../domain/staff/verify-staff-pin.js";
import type { Store } from "../domain/stores/store.js";
import { findStore } from "../db/stores-table.js";

/**
 * Turns the verified token and the connection into the Acting every use
 * case records. Every handler goes through here, so every call of a
 * terminal checks its device row (revocation takes effect at once), and
 * every posting from a terminal verifies the staff member's PIN.
 */
export class Callers {
  constructor(
    private readonly pool: DatabasePool,
    private readonly deps: LoyaltyDeps & { pins: VerifiedPinCache },
  ) {}

  /** For reads and admin calls. Errors: DEVICE_REVOKED, DEVICE_NOT_PAIRED, PERMISSION_DENIED. */
  async reader(ctx: HandlerContext): Promise<Acting> {
    return this.resolve(ctx, undefined, "");
  }

  /**
   * For postings at a store: a terminal posts for its own store and must
   * name the staff member and PIN; staff and admins may name a store and,
   * optionally, a staff member with their PIN.
   *
   * Errors: DEVICE_REVOKED, DEVICE_NOT_PAIRED, PERMISSION_DENIED, INVALID_ARGUMENT,
   * STORE_NOT_FOUND, PIN_REQUIRED, STAFF_NOT_FOUND, PIN_LOCKED, PIN_INVALID.
   */
  async poster(ctx: HandlerContext, staff: StaffCredential | undefined, storeId: string): Promise<Acting> {
    return this.resolve(ctx, staff ?? { staffId: "", pin: "" }, storeId);
  }

  private async resolve(
    ctx: HandlerContext,
    staff: Pick<StaffCredential, "staffId" | "pin"> | undefined,
    storeId: string,
  ): Promise<Acting> {
    const caller = callerOf(ctx);
    const actor = actorOf(caller);
    let merchantId = caller.merchantId;
    let store: Store | null = null;
    let deviceId: string | null = null;
    if (caller.role === "terminal") {
      const found = await authenticateDevice(this.pool, caller.actingDeviceId ?? "", caller.merchantId);
      deviceId = found.device.id;
      merchantId = found.device.merchantId;
      store = found.store;
      if (storeId && storeId !== store.id) {
        throw new LoyaltyError(
          "INVALID_ARGUMENT",
          `a terminal posts for its own store ${store.id}, not ${storeId}`,
        );
      }
    } else {
      if (caller.role === "staff" && merchantId === undefined) {
        throw new LoyaltyError("PERMISSION_DENIED", "a staff token must name its merchant (merchant_id)");
      }
      if (storeId) {
        store = await findStore(this.pool, requireId("store_id", storeId));
        if (!store) throw new LoyaltyError("STORE_NOT_FOUND", `no store ${storeId}`);
        if (merchantId !== undefined && store.merchantId !== merchantId) {
          throw new LoyaltyError("PERMISSION_DENIED", `store ${store.id} belongs to another merchant`);
        }
      }
    }
    let staffId: string | null = null;
    const pinGiven = staff !== undefined && (staff.staffId !== "" || staff.pin !== "");
    if (staff !== undefined && (caller.role === "terminal" || pinGiven)) {
      const merchant = merchantId ?? store?.merchantId;
      if (merchant === undefined) {
        throw new LoyaltyError("INVALID_ARGUMENT", "name the store whose staff member's PIN this is");
      }
      staffId = (await verifyStaffPin(this.pool, this.deps, { merchantId: merchant, ...staff }, actor)).id;
    }
    return { actor, merchantId, deviceId, staffId, store };
  }
}
