import { runFromEnv } from "@money/runtime";
import { refundsService } from "./service.js";

await runFromEnv(refundsService);
