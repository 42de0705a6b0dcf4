/**
 * ISO 4217 currencies with their minor units (digits after the decimal
 * point). The list covers the currencies the marketplace settles in; a code
 * not listed here is refused rather than guessed.
 */
const MINOR_UNITS: Readonly<Record<string, number>> = {
  AED: 2,
  AUD: 2,
  BHD: 3,
  BRL: 2,
  CAD: 2,
  CHF: 2,
  CLP: 0,
  CNY: 2,
  CZK: 2,
  DKK: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  HUF: 2,
  IDR: 2,
  ILS: 2,
  INR: 2,
  ISK: 0,
  JOD: 3,
  JPY: 0,
  KES: 2,
  KRW: 0,
  KWD: 3,
  MXN: 2,
  MYR: 2,
  NGN: 2,
  NOK: 2,
  NZD: 2,
  OMR: 3,
  PHP: 2,
  PLN: 2,
  RON: 2,
  SAR: 2,
  SEK: 2,
  SGD: 2,
  THB: 2,
  TND: 3,
  TRY: 2,
  TWD: 2,
  UAH: 2,
  USD: 2,
  VND: 0,
  XAF: 0,
  XOF: 0,
  ZAR: 2,
};

/** A currency code the platform knows, with its number of minor-unit digits. */
export interface Currency {
  readonly code: string;
  readonly scale: number;
}

/** Returns the currency for an ISO 4217 code, or undefined when the code is unknown. */
export function findCurrency(code: string): Currency | undefined {
  const scale = MINOR_UNITS[code];
  return scale === undefined ? undefined : { code, scale };
}
