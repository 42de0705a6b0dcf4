import { runFromEnv } from "@money/runtime";
import { auditService } from "./service.js";

await runFromEnv(auditService);
