export { findCurrency, type Currency } from "./currency.js";
export { parseAmount, formatAmount, type AmountProblem, type ParsedAmount } from "./amount.js";
export { multiplyToInteger, proportionalShare, type RoundingRule } from "./allocation.js";
