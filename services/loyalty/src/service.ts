import { fileURLToPath } from "node:url";
import { file_loyalty_v1_loyalty, LoyaltyService } from "@money/proto/loyalty/v1/loyalty_pb";
import type { ServiceDefinition } from "@money/runtime";
import { PLATFORM_CODES } from "@money/rpc";

export const loyaltyService: ServiceDefinition = {
  name: "loyalty",
  defaultPort: 7002,
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  services: [LoyaltyService],
  files: [file_loyalty_v1_loyalty],
  policy: {},
  errors: PLATFORM_CODES,
  build: () => ({
    routes: (router) => router.service(LoyaltyService, {}),
  }),
};
