import { randomUUID } from "node:crypto";
import type { AuditEvent } from "@money/proto/events/v1/audit_pb";
import { auditEvent } from "../test/support/audit-events.js";

/**
 * The `i`th event of a benchmark run, as varied as real ones: ledger and
 * loyalty events, staff, terminals and customers (10,000 of them), a few
 * thousand IPs, twenty user agents, a customer reference in every `after`.
 */
export function benchEvent(i: number): AuditEvent {
  const customer = i % 4 === 0;
  return auditEvent({
    service: i % 3 === 0 ? "loyalty" : "ledger",
    action: i % 3 === 0 ? "loyalty_card.earn" : "transaction.posted",
    objectType: i % 3 === 0 ? "loyalty_card" : "transaction",
    objectId: randomUUID(),
    principalId: customer ? `customer-${i % 10_000}` : `staff-${i % 50}`,
    role: customer ? "user" : "staff",
    deviceId: i % 3 === 0 ? `pos-${i % 200}` : "",
    ip: `10.${(i >> 8) % 4}.${i % 250}.${i % 7}`,
    userAgent: `till/${i % 20}.0`,
    before: { status: "pending", amount_minor: String(i % 100_000) },
    after: {
      status: "posted",
      amount_minor: String(i % 100_000),
      currency: "EUR",
      owner_ref: `customer-${i % 10_000}`,
    },
    reason: i % 10 === 0 ? "manual correction" : "",
  });
}
