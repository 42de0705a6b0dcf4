import type { AccessPolicy } from "@money/rpc";

// Terminals post at the till, with a staff member's PIN; staff tokens post
// from the back office; admins run the program; the refunds saga (role
// "service") reverses orders; auditors read. Merchant scoping (a token's
// merchant_id) is checked per call by the use cases, device revocation by
// the RPC layer on every terminal call.
const POS = ["terminal", "staff", "admin"] as const;
const READERS = ["terminal", "staff", "admin", "auditor"] as const;

/** Who may call each loyalty method. */
export const LOYALTY_ACCESS: AccessPolicy = {
  ConfigureProgram: ["admin"],
  GetProgram: READERS,
  CreateStore: ["admin"],
  CreateStaffMember: ["admin"],
  UnlockStaffPin: ["admin"],
  CreatePairingCode: ["admin"],
  // The device has no token yet: the single-use code is its credential.
  PairDevice: "public",
  RevokeDevice: ["admin"],
  EnrollCard: POS,
  GetCard: [...READERS, "service", "user"],
  LookupCard: READERS,
  DeactivateCard: POS,
  ReactivateCard: POS,
  AddStamp: POS,
  RedeemStamps: POS,
  EarnPoints: POS,
  RedeemPoints: POS,
  VoidStamps: POS,
  VoidPoints: POS,
  Adjust: ["admin"],
  ExpirePoints: ["admin", "service"],
  ReverseForOrder: ["service"],
  ListTransactions: ["admin", "auditor", "staff"],
  GetStoreDailySummary: ["admin", "auditor", "staff"],
};
