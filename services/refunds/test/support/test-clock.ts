import type { Clock } from "../../src/domain/refunds-context.js";

/** The real time plus an offset the test moves forward, so deadlines pass without waiting. */
export class TestClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
