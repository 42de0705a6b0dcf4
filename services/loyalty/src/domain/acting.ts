import type { Actor } from "@money/kafka";
import { LoyaltyError } from "./loyalty-error.js";
import type { Store } from "./stores/store.js";

/**
 * Who posts, established by the RPC layer from the verified token, the
 * connection, the paired device and the staff PIN; nothing in a request body
 * can set it. Every transaction row records it.
 */
export interface Acting {
  /** Principal of record, role, device, IP and user agent: the audit actor. */
  actor: Actor;
  /** Merchant the token is scoped to; undefined for platform roles, which may act on any. */
  merchantId: string | undefined;
  /** Terminal the call came through; null when a person acted through the web. */
  deviceId: string | null;
  /** Staff member whose PIN authorised the posting. */
  staffId: string | null;
  /** The device's store for terminals; the request's otherwise (null off the POS). */
  store: Store | null;
}

/** The expiry job and other postings the service makes on its own. */
export const SYSTEM_ACTING: Acting = {
  actor: { principalId: "loyalty-expiry", role: "service" },
  merchantId: undefined,
  deviceId: null,
  staffId: null,
  store: null,
};

/** Errors: PERMISSION_DENIED when the caller is scoped to another merchant. */
export function assertActsFor(acting: Acting, merchantId: string): void {
  if (acting.merchantId !== undefined && acting.merchantId !== merchantId) {
    throw new LoyaltyError(
      "PERMISSION_DENIED",
      `${acting.actor.role} of merchant ${acting.merchantId} may not act on merchant ${merchantId}`,
    );
  }
}

/**
 * The merchant a request is about: the caller's own, or the one it names
 * when the caller is a platform role.
 *
 * Errors: PERMISSION_DENIED (names another merchant), INVALID_ARGUMENT (a platform role named none).
 */
export function merchantFor(acting: Acting, requested: string): string {
  if (acting.merchantId !== undefined) {
    assertActsFor(acting, requested || acting.merchantId);
    return acting.merchantId;
  }
  if (!requested) throw new LoyaltyError("INVALID_ARGUMENT", "merchant_id is required for this caller");
  return requested;
}
