/** The SQLSTATE of a failed statement, wherever slonik or pg put it. */
export function sqlStateOf(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

/** Runs `statement` and returns the SQLSTATE it failed with; fails the test if it succeeded. */
export async function failureOf(statement: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await statement();
  } catch (error) {
    return sqlStateOf(error) ?? `no SQLSTATE: ${String(error)}`;
  }
  return "succeeded";
}
