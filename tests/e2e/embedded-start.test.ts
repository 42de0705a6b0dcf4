import { expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mintToken } from "@money/rpc";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * `npm start` with no configuration: all four services on embedded PGlite
 * and the in-process bus, nothing installed. Run as a user would, as a child
 * process, and stopped with SIGTERM.
 */
it("serves all four services with nothing installed and stops cleanly", async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, BASE_PORT: "0", LOG_LEVEL: "warn" };
  delete env["DATABASE_URL"];
  delete env["KAFKA_BROKERS"];
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  try {
    const deadline = Date.now() + 90_000;
    while (!output.includes("Money platform is up") && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(output).toContain("Money platform is up (embedded PGlite, in-process bus)");
    const urls = new Map<string, string>();
    for (const name of ["ledger", "loyalty", "audit", "refunds"]) {
      const url = new RegExp(`${name}\\s+(http://127\\.0\\.0\\.1:\\d+)`).exec(output)?.[1];
      expect(url).toBeDefined();
      urls.set(name, url!);
      const health = await fetch(`${url}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(await health.json()).toEqual({ status: "SERVING" });
    }

    const token = await mintToken({ sub: "dev", role: "admin" });
    const created = await fetch(`${urls.get("ledger")}/ledger.v1.LedgerService/CreateAccount`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        idempotencyKey: "e1",
        type: "ACCOUNT_TYPE_ASSET",
        ownerRef: "embedded",
        currency: "EUR",
      }),
    });
    expect(created.status).toBe(200);
    const { account } = (await created.json()) as { account: { id: string; ownerRef: string } };
    expect(account.ownerRef).toBe("embedded");
  } finally {
    child.kill("SIGTERM");
  }
  expect(await exited).toBe(0);
}, 120_000);
