import type { Currency, RoundingRule } from "@money/money";

export type PointsExpiry = "never" | "after_earning" | "after_inactivity";
export type ShortfallPolicy = "allow_negative_balance" | "forgive";

export interface Reward {
  code: string;
  name: string;
  pointsCost: bigint;
  active: boolean;
}

/** Limits per business day in the store's time zone; 0 means no limit. */
export interface DailyCaps {
  stampsPerCard: number;
  pointsPerCard: bigint;
  stampsPerDevice: number;
  pointsPerDevice: bigint;
}

/** A merchant's loyalty program: stamps, points, expiry and the guards around them. */
export interface Program {
  merchantId: string;
  name: string;
  currency: Currency;
  /** 0 turns stamps off. */
  stampsPerReward: number;
  stampRewardName: string;
  maxStampsPerVisit: number;
  stampCooldownSeconds: number;
  /** Decimal string: points per currency unit of a purchase. */
  pointsPerUnit: string;
  pointsRounding: RoundingRule;
  /** Minor units of `currency`. */
  minimumSpendMinor: bigint;
  welcomeBonusPoints: bigint;
  pointsExpiry: PointsExpiry;
  /** 0 with "never". */
  pointsExpiryDays: number;
  /** Days earned points stay locked (the return window). */
  pointsLockDays: number;
  expiringSoonDays: number;
  shortfallPolicy: ShortfallPolicy;
  dailyCaps: DailyCaps;
  pinMaxAttempts: number;
  pinLockSeconds: number;
  rewards: Reward[];
  version: bigint;
}

/** The JSON view of a program for audit records: numbers that may be large as strings. */
export function programAuditView(program: Program): Record<string, string | number | boolean> {
  return {
    merchant_id: program.merchantId,
    name: program.name,
    currency: program.currency.code,
    stamps_per_reward: program.stampsPerReward,
    max_stamps_per_visit: program.maxStampsPerVisit,
    stamp_cooldown_seconds: program.stampCooldownSeconds,
    points_per_unit: program.pointsPerUnit,
    points_rounding: program.pointsRounding,
    minimum_spend_minor: program.minimumSpendMinor.toString(),
    welcome_bonus_points: program.welcomeBonusPoints.toString(),
    points_expiry: program.pointsExpiry,
    points_expiry_days: program.pointsExpiryDays,
    points_lock_days: program.pointsLockDays,
    shortfall_policy: program.shortfallPolicy,
    daily_stamps_per_card: program.dailyCaps.stampsPerCard,
    daily_points_per_card: program.dailyCaps.pointsPerCard.toString(),
    daily_stamps_per_device: program.dailyCaps.stampsPerDevice,
    daily_points_per_device: program.dailyCaps.pointsPerDevice.toString(),
    pin_max_attempts: program.pinMaxAttempts,
    pin_lock_seconds: program.pinLockSeconds,
    rewards: program.rewards
      .filter((r) => r.active)
      .map((r) => `${r.code}:${r.pointsCost}`)
      .join(","),
    version: program.version.toString(),
  };
}
