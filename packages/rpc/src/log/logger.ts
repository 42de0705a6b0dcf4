import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

/** Structured JSON logs on stdout, one line per event; LOG_LEVEL sets the floor. */
export function createLogger(service: string): Logger {
  return pino({
    name: service,
    level: process.env["LOG_LEVEL"] ?? "info",
    base: { service },
    // Tokens and PINs never reach a log line, even by accident.
    redact: ["req.headers.authorization", "*.pin", "*.token"],
  });
}
