import { fileURLToPath } from "node:url";
import { file_ledger_v1_ledger, LedgerService } from "@money/proto/ledger/v1/ledger_pb";
import type { ServiceDefinition } from "@money/runtime";
import { LEDGER_ACCESS } from "./rpc/access-policy.js";
import { LEDGER_ERROR_CODES } from "./rpc/error-codes.js";
import { ledgerHandlers } from "./rpc/ledger-handlers.js";

export const ledgerService: ServiceDefinition = {
  name: "ledger",
  defaultPort: 7001,
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  services: [LedgerService],
  files: [file_ledger_v1_ledger],
  policy: LEDGER_ACCESS,
  errors: LEDGER_ERROR_CODES,
  build: (deps) => ({
    routes: (router) => router.service(LedgerService, ledgerHandlers(deps)),
  }),
};
