import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `probe` until it returns true, and fails with `what` once `timeoutMs`
 * has passed. Tests wait on an observable state instead of sleeping a fixed
 * time, so they are as fast as the system and still bounded when it hangs.
 */
export async function waitUntil(
  what: string,
  probe: () => boolean | Promise<boolean>,
  { timeoutMs = 60_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
