/** A location of a merchant; business days, daily caps and summaries follow its time zone. */
export interface Store {
  id: string;
  merchantId: string;
  name: string;
  timeZone: string;
  /** Decimal string replacing the program's points per unit here; null to inherit. */
  pointsPerUnitOverride: string | null;
  createdAt: Date;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The business day ("YYYY-MM-DD") of an instant in a time zone. */
export function businessDate(at: Date, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    // en-CA formats dates as YYYY-MM-DD.
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    dayFormats.set(timeZone, format);
  }
  return format.format(at);
}

/** True when Node (ICU) knows the IANA zone; Postgres shares the same tz database names. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    businessDate(new Date(0), timeZone);
    return true;
  } catch {
    return false;
  }
}
