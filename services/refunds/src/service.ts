import { fileURLToPath } from "node:url";
import { file_refunds_v1_refunds, RefundService } from "@money/proto/refunds/v1/refunds_pb";
import type { ServiceDefinition } from "@money/runtime";
import { PLATFORM_CODES } from "@money/rpc";

export const refundsService: ServiceDefinition = {
  name: "refunds",
  defaultPort: 7004,
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  services: [RefundService],
  files: [file_refunds_v1_refunds],
  policy: {},
  errors: PLATFORM_CODES,
  build: () => ({
    routes: (router) => router.service(RefundService, {}),
  }),
};
