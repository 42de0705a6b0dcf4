import { create } from "@bufbuild/protobuf";
import { formatAmount, type RoundingRule } from "@money/money";
import {
  DailyCapsSchema,
  PointsExpiry as WireExpiry,
  PointsRounding as WireRounding,
  ProgramSchema,
  RewardSchema,
  ShortfallPolicy as WireShortfall,
  type ConfigureProgramRequest,
  type Program as ProgramMessage,
} from "@money/proto/loyalty/v1/loyalty_pb";
import type { ConfigureProgram } from "../domain/programs/configure-program.js";
import type { PointsExpiry, Program, ShortfallPolicy } from "../domain/programs/program.js";

const ROUNDING: Readonly<Record<RoundingRule, WireRounding>> = {
  down: WireRounding.DOWN,
  half_up: WireRounding.HALF_UP,
  half_even: WireRounding.HALF_EVEN,
  up: WireRounding.UP,
};
const EXPIRY: Readonly<Record<PointsExpiry, WireExpiry>> = {
  never: WireExpiry.NEVER,
  after_earning: WireExpiry.AFTER_EARNING,
  after_inactivity: WireExpiry.AFTER_INACTIVITY,
};
const SHORTFALL: Readonly<Record<ShortfallPolicy, WireShortfall>> = {
  allow_negative_balance: WireShortfall.ALLOW_NEGATIVE_BALANCE,
  forgive: WireShortfall.FORGIVE,
};

/** Wire enum → domain name; UNSPECIFIED and unknown numbers become "" and are refused by the domain. */
function fromWire<T extends string, W extends number>(table: Readonly<Record<T, W>>, wire: W): T | "" {
  return (Object.entries(table) as [T, W][]).find(([, value]) => value === wire)?.[0] ?? "";
}

export function configureProgramFromWire(req: ConfigureProgramRequest): ConfigureProgram {
  const p = req.program ?? create(ProgramSchema);
  const caps = p.dailyCaps ?? create(DailyCapsSchema);
  return {
    merchantId: req.merchantId,
    name: p.name,
    currency: p.currency,
    stampsPerReward: p.stampsPerReward,
    stampRewardName: p.stampRewardName,
    maxStampsPerVisit: p.maxStampsPerVisit,
    stampCooldownSeconds: p.stampCooldownSeconds,
    pointsPerUnit: p.pointsPerUnit,
    pointsRounding: fromWire(ROUNDING, p.pointsRounding),
    minimumSpend: p.minimumSpend,
    welcomeBonusPoints: p.welcomeBonusPoints,
    pointsExpiry: fromWire(EXPIRY, p.pointsExpiry),
    pointsExpiryDays: p.pointsExpiryDays,
    pointsLockDays: p.pointsLockDays,
    expiringSoonDays: p.expiringSoonDays,
    shortfallPolicy: fromWire(SHORTFALL, p.shortfallPolicy),
    dailyCaps: {
      stampsPerCard: caps.stampsPerCard,
      pointsPerCard: caps.pointsPerCard,
      stampsPerDevice: caps.stampsPerDevice,
      pointsPerDevice: caps.pointsPerDevice,
    },
    pinMaxAttempts: p.pinMaxAttempts,
    pinLockSeconds: p.pinLockSeconds,
    rewards: p.rewards.map((r) => ({ code: r.code, name: r.name, pointsCost: r.pointsCost })),
  };
}

export function programToWire(program: Program): ProgramMessage {
  return create(ProgramSchema, {
    merchantId: program.merchantId,
    name: program.name,
    currency: program.currency.code,
    stampsPerReward: program.stampsPerReward,
    stampRewardName: program.stampRewardName,
    maxStampsPerVisit: program.maxStampsPerVisit,
    stampCooldownSeconds: program.stampCooldownSeconds,
    pointsPerUnit: program.pointsPerUnit,
    pointsRounding: ROUNDING[program.pointsRounding],
    minimumSpend: formatAmount(program.minimumSpendMinor, program.currency),
    welcomeBonusPoints: program.welcomeBonusPoints,
    pointsExpiry: EXPIRY[program.pointsExpiry],
    pointsExpiryDays: program.pointsExpiryDays,
    pointsLockDays: program.pointsLockDays,
    expiringSoonDays: program.expiringSoonDays,
    shortfallPolicy: SHORTFALL[program.shortfallPolicy],
    dailyCaps: create(DailyCapsSchema, program.dailyCaps),
    pinMaxAttempts: program.pinMaxAttempts,
    pinLockSeconds: program.pinLockSeconds,
    rewards: program.rewards.map((r) => create(RewardSchema, r)),
    version: program.version,
  });
}
