import { afterCommit, type CommitScope } from "../../src/index.js";

/** A commit hook that throws, then one that records that it ran: what a hook's failure must not stop. */
export function hooksOneOfWhichThrows(tx: CommitScope, ran: string[]): void {
  afterCommit(tx, () => {
    throw new Error("the relay could not be woken");
  });
  afterCommit(tx, () => ran.push("second hook"));
}

/** Whether the warning calls spied on include the failure of hooksOneOfWhichThrows' first hook. */
export function warnedOfThrowingHook(calls: readonly unknown[][]): boolean {
  return calls.some(
    ([message, type]) =>
      String(message).includes("the relay could not be woken") && String(type) === "CommitHookFailed",
  );
}
