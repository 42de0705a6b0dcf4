/** Throughput and latency of one scenario. */
export interface LoadResult {
  callers: number;
  calls: number;
  failures: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Runs `callers` loops, each calling `call` back to back, for `seconds`
 * after `warmupSeconds` that are not counted, and times every call.
 */
export async function runLoad(
  callers: number,
  seconds: number,
  call: (caller: number) => Promise<unknown>,
  { warmupSeconds = 2 } = {},
): Promise<LoadResult> {
  const warmupEnds = performance.now() + warmupSeconds * 1000;
  const ends = warmupEnds + seconds * 1000;
  const latencies: number[] = [];
  let failures = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      while (performance.now() < ends) {
        const started = performance.now();
        const ok = await call(caller).then(
          () => true,
          () => false,
        );
        if (started < warmupEnds) continue;
        if (ok) latencies.push(performance.now() - started);
        else failures++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    callers,
    calls: latencies.length,
    failures,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}
