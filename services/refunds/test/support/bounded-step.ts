/**
 * Runs one step of a test with a bound of its own, so a step that hangs
 * fails the test naming the step (and how long it was given) rather than
 * running into the test's timeout, which names nothing.
 */
export async function boundedStep<T>(what: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([run(), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
