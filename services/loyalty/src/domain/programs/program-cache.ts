import type { CommonQueryMethods } from "@money/db";
import { findProgram } from "../../db/programs-table.js";
import type { Program } from "./program.js";

const MAX_PROGRAMS = 10_000;

/**
 * Programs by merchant at a known version. A posting reads its program's
 * version together with the card lock and reloads the program only when
 * ConfigureProgram has moved it since: one round trip fewer per posting,
 * never a stale program.
 */
export class ProgramCache {
  private readonly programs = new Map<string, Program>();

  /** The program at `version` if the cache holds it, without a round trip; else null. */
  cachedAt(merchantId: string, version: bigint): Program | null {
    const cached = this.programs.get(merchantId);
    return cached?.version === version ? cached : null;
  }

  async atVersion(db: CommonQueryMethods, merchantId: string, version: bigint): Promise<Program> {
    const cached = this.cachedAt(merchantId, version);
    if (cached) return cached;
    const program = (await findProgram(db, merchantId))!;
    this.programs.delete(merchantId);
    // Bounded: the least recently loaded program makes room (a Map keeps insertion order).
    if (this.programs.size >= MAX_PROGRAMS) this.programs.delete(this.programs.keys().next().value!);
    this.programs.set(merchantId, program);
    return program;
  }
}
