import type { DatabaseTransactionConnection } from "@money/db";
import { findCurrency, parseAmount, type RoundingRule } from "@money/money";
import { findProgramWithRewards, replaceRewards, upsertProgram } from "../../db/programs-table.js";
import { merchantFor, type Acting } from "../acting.js";
import { requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import {
  programAuditView,
  type DailyCaps,
  type PointsExpiry,
  type Program,
  type ShortfallPolicy,
} from "./program.js";

export interface ConfigureProgram {
  merchantId: string;
  name: string;
  currency: string;
  stampsPerReward: number;
  stampRewardName: string;
  /** 0 means 1. */
  maxStampsPerVisit: number;
  stampCooldownSeconds: number;
  pointsPerUnit: string;
  /** "" when the wire left it unspecified: refused. */
  pointsRounding: RoundingRule | "";
  /** Decimal string; empty means no minimum. */
  minimumSpend: string;
  welcomeBonusPoints: bigint;
  pointsExpiry: PointsExpiry | "";
  pointsExpiryDays: number;
  pointsLockDays: number;
  /** 0 means 30. */
  expiringSoonDays: number;
  shortfallPolicy: ShortfallPolicy | "";
  dailyCaps: DailyCaps;
  /** 0 means 5. */
  pinMaxAttempts: number;
  /** 0 means 900 (15 minutes). */
  pinLockSeconds: number;
  rewards: { code: string; name: string; pointsCost: bigint }[];
}

/** Points per currency unit: a plain decimal with at most 6 fraction digits (numeric(20, 6)). */
export const POINTS_PER_UNIT = /^\d{1,14}(\.\d{1,6})?$/;
const REWARD_CODE = /^[A-Za-z0-9_-]{1,40}$/;
const MAX_REWARDS = 200;
const MAX_POINTS = 1_000_000_000_000n;

function requireRange(
  field: string,
  value: number | bigint,
  min: number | bigint,
  max: number | bigint,
): void {
  if (value < min || value > max) {
    throw new LoyaltyError("INVALID_ARGUMENT", `${field} must be between ${min} and ${max}`);
  }
}

/**
 * Creates the merchant's program or replaces its settings and catalog
 * (rewards left out are retired), and records the change in the audit trail.
 * Existing lots keep the expiry and lock they were earned with.
 *
 * Errors: INVALID_ARGUMENT, UNKNOWN_CURRENCY, INVALID_AMOUNT (minimum spend), PERMISSION_DENIED.
 */
export async function configureProgram(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: ConfigureProgram,
  acting: Acting,
): Promise<Program> {
  const merchantId = requireText("merchant_id", merchantFor(acting, command.merchantId), 100);
  const name = requireText("program.name", command.name, 200);
  const currency = findCurrency(command.currency);
  if (!currency) {
    throw new LoyaltyError(
      "UNKNOWN_CURRENCY",
      `currency ${JSON.stringify(command.currency)} is not supported`,
    );
  }
  requireRange("stamps_per_reward", command.stampsPerReward, 0, 1000);
  if (command.stampsPerReward > 0) requireText("stamp_reward_name", command.stampRewardName, 200);
  const maxStampsPerVisit = command.maxStampsPerVisit || 1;
  requireRange("max_stamps_per_visit", maxStampsPerVisit, 1, 1000);
  requireRange("stamp_cooldown_seconds", command.stampCooldownSeconds, 0, 86_400 * 30);
  if (!POINTS_PER_UNIT.test(command.pointsPerUnit)) {
    throw new LoyaltyError("INVALID_ARGUMENT", 'points_per_unit must be a decimal like "1" or "0.25"');
  }
  if (!command.pointsRounding) throw new LoyaltyError("INVALID_ARGUMENT", "points_rounding is required");
  let minimumSpendMinor = 0n;
  if (command.minimumSpend) {
    const parsed = parseAmount(command.minimumSpend, currency, { allowZero: true });
    if (!parsed.ok) {
      throw new LoyaltyError(
        "INVALID_AMOUNT",
        `minimum_spend ${JSON.stringify(command.minimumSpend)}: ${parsed.problem}`,
      );
    }
    minimumSpendMinor = parsed.minor;
  }
  requireRange("welcome_bonus_points", command.welcomeBonusPoints, 0n, MAX_POINTS);
  if (!command.pointsExpiry) throw new LoyaltyError("INVALID_ARGUMENT", "points_expiry is required");
  if (command.pointsExpiry === "never") requireRange("points_expiry_days", command.pointsExpiryDays, 0, 0);
  else requireRange("points_expiry_days", command.pointsExpiryDays, 1, 3650);
  requireRange("points_lock_days", command.pointsLockDays, 0, 365);
  const expiringSoonDays = command.expiringSoonDays || 30;
  requireRange("expiring_soon_days", expiringSoonDays, 1, 3650);
  if (!command.shortfallPolicy) throw new LoyaltyError("INVALID_ARGUMENT", "shortfall_policy is required");
  const caps = command.dailyCaps;
  requireRange("daily_caps.stamps_per_card", caps.stampsPerCard, 0, 1_000_000);
  requireRange("daily_caps.points_per_card", caps.pointsPerCard, 0n, MAX_POINTS);
  requireRange("daily_caps.stamps_per_device", caps.stampsPerDevice, 0, 1_000_000);
  requireRange("daily_caps.points_per_device", caps.pointsPerDevice, 0n, MAX_POINTS);
  const pinMaxAttempts = command.pinMaxAttempts || 5;
  requireRange("pin_max_attempts", pinMaxAttempts, 1, 20);
  const pinLockSeconds = command.pinLockSeconds || 900;
  requireRange("pin_lock_seconds", pinLockSeconds, 1, 604_800);
  if (command.rewards.length > MAX_REWARDS) {
    throw new LoyaltyError("INVALID_ARGUMENT", `a catalog takes at most ${MAX_REWARDS} rewards`);
  }
  const codes = new Set<string>();
  for (const reward of command.rewards) {
    if (!REWARD_CODE.test(reward.code)) {
      throw new LoyaltyError(
        "INVALID_ARGUMENT",
        `reward code ${JSON.stringify(reward.code)} must be 1 to 40 of A-Z a-z 0-9 _ -`,
      );
    }
    if (codes.has(reward.code))
      throw new LoyaltyError("INVALID_ARGUMENT", `reward code ${reward.code} appears twice`);
    codes.add(reward.code);
    requireText(`reward ${reward.code} name`, reward.name, 200);
    requireRange(`reward ${reward.code} points_cost`, reward.pointsCost, 1n, MAX_POINTS);
  }

  const before = await findProgramWithRewards(tx, merchantId);
  await upsertProgram(tx, {
    merchantId,
    name,
    currency,
    stampsPerReward: command.stampsPerReward,
    stampRewardName: command.stampRewardName,
    maxStampsPerVisit,
    stampCooldownSeconds: command.stampCooldownSeconds,
    pointsPerUnit: command.pointsPerUnit,
    pointsRounding: command.pointsRounding,
    minimumSpendMinor,
    welcomeBonusPoints: command.welcomeBonusPoints,
    pointsExpiry: command.pointsExpiry,
    pointsExpiryDays: command.pointsExpiryDays,
    pointsLockDays: command.pointsLockDays,
    expiringSoonDays,
    shortfallPolicy: command.shortfallPolicy,
    dailyCaps: caps,
    pinMaxAttempts,
    pinLockSeconds,
  });
  await replaceRewards(tx, merchantId, command.rewards);
  const program = (await findProgramWithRewards(tx, merchantId))!;
  await deps.audit.record(tx, {
    action: before ? "loyalty_program.changed" : "loyalty_program.created",
    objectType: "loyalty_program",
    objectId: merchantId,
    actor: acting.actor,
    ...(before ? { before: programAuditView(before) } : {}),
    after: programAuditView(program),
    occurredAt: deps.clock.now(),
  });
  return program;
}
