import type { CommonQueryMethods } from "@money/db";
import { findProgramWithRewards } from "../../db/programs-table.js";
import { merchantFor, type Acting } from "../acting.js";
import { LoyaltyError } from "../loyalty-error.js";
import type { Program } from "./program.js";

/** Errors: PROGRAM_NOT_FOUND, PERMISSION_DENIED, INVALID_ARGUMENT (no merchant named). */
export async function getProgram(
  db: CommonQueryMethods,
  merchantId: string,
  acting: Acting,
): Promise<Program> {
  const merchant = merchantFor(acting, merchantId);
  const program = await findProgramWithRewards(db, merchant);
  if (!program) throw new LoyaltyError("PROGRAM_NOT_FOUND", `merchant ${merchant} has no loyalty program`);
  return program;
}
