// Services log every call at info; in tests only warnings and errors are worth reading.
process.env.LOG_LEVEL ??= "warn";
