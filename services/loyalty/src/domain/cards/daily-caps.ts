import type { DatabaseTransactionConnection } from "@money/db";
import { addDailyUsage, type DailyUsage } from "../../db/daily-usage-table.js";
import type { Acting } from "../acting.js";
import { LoyaltyError } from "../loyalty-error.js";
import type { Program } from "../programs/program.js";
import { businessDate } from "../stores/store.js";
import type { Card } from "./card.js";

/**
 * Counts stamps added or points earned against the program's caps per card
 * and per device for the business day of the posting's store (UTC off the
 * POS). Usage is counted while a cap is set. Card usage is written under the
 * card's lock; device usage rows serialise the device's own postings.
 *
 * Errors: DAILY_CAP_REACHED; the caller's transaction then rolls back, so
 * the refused posting leaves no usage behind.
 */
export async function chargeDailyCaps(
  tx: DatabaseTransactionConnection,
  program: Program,
  card: Card,
  acting: Acting,
  at: Date,
  charge: { stamps: number; points: bigint },
): Promise<void> {
  const caps = program.dailyCaps;
  const date = businessDate(at, acting.store?.timeZone ?? "UTC");
  const usage: DailyUsage[] = [];
  const chargeable = (stampCap: number, pointCap: bigint) =>
    (charge.stamps > 0 && stampCap > 0) || (charge.points > 0n && pointCap > 0n);
  if (chargeable(caps.stampsPerCard, caps.pointsPerCard)) {
    usage.push({ subject: "card", subjectId: card.id, businessDate: date, ...charge });
  }
  if (acting.deviceId !== null && chargeable(caps.stampsPerDevice, caps.pointsPerDevice)) {
    usage.push({ subject: "device", subjectId: acting.deviceId, businessDate: date, ...charge });
  }
  for (const total of await addDailyUsage(tx, usage)) {
    const stampCap = total.subject === "card" ? caps.stampsPerCard : caps.stampsPerDevice;
    const pointCap = total.subject === "card" ? caps.pointsPerCard : caps.pointsPerDevice;
    if (stampCap > 0 && total.stamps > stampCap) {
      throw new LoyaltyError(
        "DAILY_CAP_REACHED",
        `${total.subject} ${total.subjectId} would reach ${total.stamps} stamps on ${date}; the cap is ${stampCap}`,
      );
    }
    if (pointCap > 0n && total.points > pointCap) {
      throw new LoyaltyError(
        "DAILY_CAP_REACHED",
        `${total.subject} ${total.subjectId} would reach ${total.points} points on ${date}; the cap is ${pointCap}`,
      );
    }
  }
}
