import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

/** pgbench from PATH, or where Debian's postgresql-15 puts it. */
export function pgbenchPath(): string {
  const debian = "/usr/lib/postgresql/15/bin/pgbench";
  return existsSync(debian) ? debian : "pgbench";
}

/** Initialises pgbench's tables at `scale` (100,000 accounts per unit), generated server-side. */
export async function initPgbench(url: string, scale: number): Promise<void> {
  await run(pgbenchPath(), ["-i", "-q", "-I", "dtGvp", "-s", String(scale), url], { maxBuffer: 1 << 24 });
}

/** Runs the built-in tpcb-like script with `clients` for `seconds`; returns transactions per second. */
export async function runTpcbLike(
  url: string,
  clients: number,
  seconds: number,
): Promise<{ tps: number; latencyMs: number }> {
  const { stdout } = await run(
    pgbenchPath(),
    [
      "-b",
      "tpcb-like",
      "-n",
      "-c",
      String(clients),
      "-j",
      String(Math.min(clients, 2)),
      "-T",
      String(seconds),
      url,
    ],
    { maxBuffer: 1 << 24 },
  );
  const tps = /tps = ([\d.]+)/.exec(stdout)?.[1];
  const latency = /latency average = ([\d.]+) ms/.exec(stdout)?.[1];
  if (!tps) throw new Error(`could not read pgbench output:\n${stdout}`);
  return { tps: Number(tps), latencyMs: Number(latency) };
}
