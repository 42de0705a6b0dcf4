import { runFromEnv } from "@money/runtime";
import { ledgerService } from "./service.js";

await runFromEnv(ledgerService);
