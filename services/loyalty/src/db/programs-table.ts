import { sql, type CommonQueryMethods } from "@money/db";
import { findCurrency, type RoundingRule } from "@money/money";
import type { PointsExpiry, Program, Reward, ShortfallPolicy } from "../domain/programs/program.js";

interface ProgramRow {
  merchant_id: string;
  name: string;
  currency: string;
  stamps_per_reward: number;
  stamp_reward_name: string;
  max_stamps_per_visit: number;
  stamp_cooldown_seconds: number;
  points_per_unit: string;
  points_rounding: RoundingRule;
  minimum_spend_minor: string;
  welcome_bonus_points: string;
  points_expiry: PointsExpiry;
  points_expiry_days: number;
  points_lock_days: number;
  expiring_soon_days: number;
  shortfall_policy: ShortfallPolicy;
  daily_stamps_per_card: number;
  daily_points_per_card: string;
  daily_stamps_per_device: number;
  daily_points_per_device: string;
  pin_max_attempts: number;
  pin_lock_seconds: number;
  version: string;
}

interface RewardRow {
  code: string;
  name: string;
  points_cost: string;
  active: boolean;
}

/** numeric(20, 6) arrives as "1.500000"; the program speaks "1.5". */
export function trimDecimal(text: string): string {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

function toProgram(row: ProgramRow, rewards: readonly RewardRow[]): Program {
  return {
    merchantId: row.merchant_id,
    name: row.name,
    currency: findCurrency(row.currency.trim())!,
    stampsPerReward: row.stamps_per_reward,
    stampRewardName: row.stamp_reward_name,
    maxStampsPerVisit: row.max_stamps_per_visit,
    stampCooldownSeconds: row.stamp_cooldown_seconds,
    pointsPerUnit: trimDecimal(row.points_per_unit),
    pointsRounding: row.points_rounding,
    minimumSpendMinor: BigInt(row.minimum_spend_minor),
    welcomeBonusPoints: BigInt(row.welcome_bonus_points),
    pointsExpiry: row.points_expiry,
    pointsExpiryDays: row.points_expiry_days,
    pointsLockDays: row.points_lock_days,
    expiringSoonDays: row.expiring_soon_days,
    shortfallPolicy: row.shortfall_policy,
    dailyCaps: {
      stampsPerCard: row.daily_stamps_per_card,
      pointsPerCard: BigInt(row.daily_points_per_card),
      stampsPerDevice: row.daily_stamps_per_device,
      pointsPerDevice: BigInt(row.daily_points_per_device),
    },
    pinMaxAttempts: row.pin_max_attempts,
    pinLockSeconds: row.pin_lock_seconds,
    rewards: rewards.map((r) => ({
      code: r.code,
      name: r.name,
      pointsCost: BigInt(r.points_cost),
      active: r.active,
    })),
    version: BigInt(row.version),
  };
}

/** The program without its catalog: what every posting needs. */
export async function findProgram(db: CommonQueryMethods, merchantId: string): Promise<Program | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM programs WHERE merchant_id = ${merchantId}`);
  return row ? toProgram(row as unknown as ProgramRow, []) : null;
}

export async function findProgramWithRewards(
  db: CommonQueryMethods,
  merchantId: string,
): Promise<Program | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM programs WHERE merchant_id = ${merchantId}`);
  if (!row) return null;
  const rewards = await db.any(sql.unsafe`
    SELECT code, name, points_cost, active FROM rewards WHERE merchant_id = ${merchantId} ORDER BY code
  `);
  return toProgram(row as unknown as ProgramRow, rewards as unknown as RewardRow[]);
}

/** Inserts the program or replaces its settings, bumping the version. */
export async function upsertProgram(
  db: CommonQueryMethods,
  program: Omit<Program, "version" | "rewards">,
): Promise<bigint> {
  const caps = program.dailyCaps;
  const version = await db.oneFirst(sql.unsafe`
    INSERT INTO programs (merchant_id, name, currency, stamps_per_reward, stamp_reward_name, max_stamps_per_visit,
                          stamp_cooldown_seconds, points_per_unit, points_rounding, minimum_spend_minor,
                          welcome_bonus_points, points_expiry, points_expiry_days, points_lock_days,
                          expiring_soon_days, shortfall_policy, daily_stamps_per_card, daily_points_per_card,
                          daily_stamps_per_device, daily_points_per_device, pin_max_attempts, pin_lock_seconds)
    VALUES (${program.merchantId}, ${program.name}, ${program.currency.code}, ${program.stampsPerReward},
            ${program.stampRewardName}, ${program.maxStampsPerVisit}, ${program.stampCooldownSeconds},
            ${program.pointsPerUnit}, ${program.pointsRounding}, ${program.minimumSpendMinor},
            ${program.welcomeBonusPoints}, ${program.pointsExpiry}, ${program.pointsExpiryDays},
            ${program.pointsLockDays}, ${program.expiringSoonDays}, ${program.shortfallPolicy},
            ${caps.stampsPerCard}, ${caps.pointsPerCard}, ${caps.stampsPerDevice}, ${caps.pointsPerDevice},
            ${program.pinMaxAttempts}, ${program.pinLockSeconds})
    ON CONFLICT (merchant_id) DO UPDATE SET
      name = EXCLUDED.name, currency = EXCLUDED.currency, stamps_per_reward = EXCLUDED.stamps_per_reward,
      stamp_reward_name = EXCLUDED.stamp_reward_name, max_stamps_per_visit = EXCLUDED.max_stamps_per_visit,
      stamp_cooldown_seconds = EXCLUDED.stamp_cooldown_seconds, points_per_unit = EXCLUDED.points_per_unit,
      points_rounding = EXCLUDED.points_rounding, minimum_spend_minor = EXCLUDED.minimum_spend_minor,
      welcome_bonus_points = EXCLUDED.welcome_bonus_points, points_expiry = EXCLUDED.points_expiry,
      points_expiry_days = EXCLUDED.points_expiry_days, points_lock_days = EXCLUDED.points_lock_days,
      expiring_soon_days = EXCLUDED.expiring_soon_days, shortfall_policy = EXCLUDED.shortfall_policy,
      daily_stamps_per_card = EXCLUDED.daily_stamps_per_card, daily_points_per_card = EXCLUDED.daily_points_per_card,
      daily_stamps_per_device = EXCLUDED.daily_stamps_per_device,
      daily_points_per_device = EXCLUDED.daily_points_per_device,
      pin_max_attempts = EXCLUDED.pin_max_attempts, pin_lock_seconds = EXCLUDED.pin_lock_seconds,
      version = programs.version + 1, updated_at = now()
    RETURNING version
  `);
  return BigInt(version as string);
}

/** Makes the catalog exactly `rewards`: upserts them and retires every other reward of the merchant. */
export async function replaceRewards(
  db: CommonQueryMethods,
  merchantId: string,
  rewards: readonly Omit<Reward, "active">[],
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE rewards SET active = false
    WHERE merchant_id = ${merchantId} AND active
      AND NOT (code = ANY(${sql.array(
        rewards.map((r) => r.code),
        "text",
      )}))
  `);
  if (rewards.length === 0) return;
  await db.query(sql.unsafe`
    INSERT INTO rewards (merchant_id, code, name, points_cost)
    SELECT ${merchantId}, code, name, points_cost
    FROM ${sql.unnest(
      rewards.map((r) => [r.code, r.name, r.pointsCost.toString()]),
      ["text", "text", "int8"],
    )} AS r(code, name, points_cost)
    ON CONFLICT (merchant_id, code) DO UPDATE
      SET name = EXCLUDED.name, points_cost = EXCLUDED.points_cost, active = true
  `);
}

export async function findReward(
  db: CommonQueryMethods,
  merchantId: string,
  code: string,
): Promise<Reward | null> {
  const row = await db.maybeOne(sql.unsafe`
    SELECT code, name, points_cost, active FROM rewards WHERE merchant_id = ${merchantId} AND code = ${code}
  `);
  if (!row) return null;
  const r = row as unknown as RewardRow;
  return { code: r.code, name: r.name, pointsCost: BigInt(r.points_cost), active: r.active };
}
