import { expect, it } from "@jest/globals";
import { setTimeout as sleep } from "node:timers/promises";
import { mintToken, tokenVerifierFromEnv } from "../src/index.js";

it("keeps accepting a verified token only until it expires", async () => {
  const verifier = await tokenVerifierFromEnv({});
  const token = await mintToken({ sub: "till-7", role: "terminal", deviceId: "device-7" }, { ttlSeconds: 1 });
  expect(await verifier.verify(token)).toEqual({
    ok: true,
    claims: { sub: "till-7", role: "terminal", deviceId: "device-7", merchantId: undefined },
  });
  // The second call is served from the cache of verified tokens.
  expect((await verifier.verify(token)).ok).toBe(true);
  await sleep(2_100);
  expect(await verifier.verify(token)).toEqual({ ok: false, why: "token expired" });
});

it("does not cache a refusal into an acceptance", async () => {
  const verifier = await tokenVerifierFromEnv({});
  const forged = await mintToken(
    { sub: "eve", role: "admin" },
    { secret: "another-secret-of-enough-length-0123456789" },
  );
  expect((await verifier.verify(forged)).ok).toBe(false);
  expect((await verifier.verify(forged)).ok).toBe(false);
});
