import { fileURLToPath } from "node:url";
import { file_audit_v1_audit, AuditService } from "@money/proto/audit/v1/audit_pb";
import type { ServiceDefinition } from "@money/runtime";
import { PLATFORM_CODES } from "@money/rpc";

export const auditService: ServiceDefinition = {
  name: "audit",
  defaultPort: 7003,
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  services: [AuditService],
  files: [file_audit_v1_audit],
  policy: {},
  errors: PLATFORM_CODES,
  build: () => ({
    routes: (router) => router.service(AuditService, {}),
  }),
};
