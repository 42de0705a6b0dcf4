import { runFromEnv } from "@money/runtime";
import { loyaltyService } from "./service.js";

await runFromEnv(loyaltyService);
