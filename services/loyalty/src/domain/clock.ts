/** Where use cases read the time: once per attempt, so a retried transaction sees one instant. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

const MS_PER_SECOND = 1_000;
const MS_PER_DAY = 86_400_000;

export function addSeconds(at: Date, seconds: number): Date {
  return new Date(at.getTime() + seconds * MS_PER_SECOND);
}

export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * MS_PER_DAY);
}
