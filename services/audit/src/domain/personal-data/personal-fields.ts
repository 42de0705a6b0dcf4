import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { DecodedAuditEvent } from "../ingest/audit-envelope-decoder.js";
import type { PersonalValue } from "./personal-value.js";

/**
 * Keys of before/after objects, at any depth, whose string values are
 * customer references: whoever a customer is to the services (an owner of an
 * account or wallet, a card holder, a mobile number). Merchants and staff are
 * named by ids that are not personal data of customers.
 */
export const CUSTOMER_REFERENCE_KEYS: ReadonlySet<string> = new Set([
  "owner_ref",
  "customer_ref",
  "customer_id",
  "mobile_number",
  "phone_number",
  "email",
  "holder_ref",
]);

/** Roles whose principal id names a customer. */
export const CUSTOMER_ROLES: ReadonlySet<string> = new Set(["user"]);

/** Every personal value of an event: the caller's IP and user agent, and customer references. */
export function personalValuesOf(
  event: Pick<DecodedAuditEvent, "actor">,
  before?: JsonObject,
  after?: JsonObject,
): PersonalValue[] {
  const values: PersonalValue[] = [];
  const actor = event.actor;
  if (actor?.ip) values.push({ kind: "ip", value: actor.ip });
  if (actor?.userAgent) values.push({ kind: "user_agent", value: actor.userAgent });
  if (actor && CUSTOMER_ROLES.has(actor.principalRole) && actor.principalId) {
    values.push({ kind: "customer", value: actor.principalId });
  }
  for (const object of [before, after]) {
    if (object) visitCustomerReferences(object, (value) => values.push({ kind: "customer", value }));
  }
  return values;
}

/** The customer reference a member of a before/after object holds, if it is one. */
export function customerReferenceIn(key: string, value: JsonValue): string | undefined {
  return CUSTOMER_REFERENCE_KEYS.has(key) && typeof value === "string" && value !== "" ? value : undefined;
}

function visitCustomerReferences(value: JsonValue, visit: (reference: string) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) visitCustomerReferences(item, visit);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const reference = customerReferenceIn(key, item as JsonValue);
      if (reference !== undefined) visit(reference);
      else visitCustomerReferences(item as JsonValue, visit);
    }
  }
}
